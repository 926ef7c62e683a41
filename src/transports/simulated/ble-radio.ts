/**
 * A simulated Bluetooth LE radio for tests: an object implementing noble's bindings contract,
 * with simulated peripherals in range of it. Give it to the REAL noble:
 *
 *   const radio = new SimulatedRadio();
 *   radio.add(new SimulatedPeripheral({ address: 'aa:bb:cc:dd:ee:01', name: 'HRM', services: [...] }));
 *   const noble = createRequire(import.meta.url)('@abandonware/noble/with-bindings')(radio);
 *   ...
 *   radio.close(); // clears every timer, so the test can end
 *
 * What it emits, and when, follows noble's Linux bindings (lib/hci-socket/bindings.js, gap.js,
 * gatt.js) as noble 1.9.2-26 has them, including their sharp edges:
 *  - UUIDs as noble spells them: lowercase, no dashes; 16-bit ones in attribute lists and
 *    advertised service lists as `readUInt16LE().toString(16)` (so not zero-padded: 0x0a00 is
 *    'a00'), in advertised service data as 4 hex digits (gap.js 376-381). 128-bit stay 32 digits.
 *  - The scan filter compares those strings exactly, over serviceUuids plus serviceData UUIDs
 *    (bindings.js 179-204). With duplicates filtered (allowDuplicates false) the controller
 *    reports each address once per scan (gap.js 45/58 ask the controller to filter).
 *  - One connection attempt at a time; more are queued behind it (bindings.js 50-61, 315-329).
 *    A connect that never completes (out of range, not connectable, 'hang') blocks the queue
 *    until cancelConnect, which cancels whatever attempt is pending (LE Create Connection
 *    Cancel has no argument) and answers it with 'Unknown Connection Identifier (0x2)'.
 *  - connect errors are `new Error('<HCI status text> (0x<hex>)')` (bindings.js 308-312);
 *    disconnect reasons are HCI status numbers: 0x16 when the central disconnects,
 *    0x13 when the peripheral does, 0x08 (supervision timeout) when it goes out of range.
 *  - GATT state is per connection, as gatt.js keeps it: reading, writing or subscribing to a
 *    characteristic not discovered (or added) on THIS connection throws a TypeError, as
 *    gatt.js does; GATT calls for a peripheral that is not connected do nothing (bindings.js
 *    prints 'noble warning: unknown peripheral', here recorded in `radio.warnings`).
 *  - A GATT request in flight when the link drops is never answered (gatt listeners are
 *    removed on disconnect, bindings.js 346). A read the peripheral refuses answers an empty
 *    buffer (gatt.js 561); a write with response or a subscription it refuses never answers.
 *  - A peripheral stops advertising while connected (unless `advertiseWhileConnected`).
 * Choices of the simulation (not read from noble): powering the radio off (or any state but
 * poweredOn) stops the scan without 'scanStop', fails pending connects with 'Connection Failed
 * to be Established (0x3e)' and drops every link with reason 0x16, after the stateChange;
 * powering on does not resume scanning. stopScanning always answers 'scanStop'. reset() is
 * recorded and does nothing else.
 *
 * Everything is asynchronous (setImmediate / setTimeout, in FIFO order), deterministic, and
 * stopped by `radio.close()`.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

const HCI_STATUS = createRequire(import.meta.url)('@abandonware/noble/lib/hci-socket/hci-status.json') as string[];

/** noble's adapter states (index.d.ts `_state`). */
export type RadioState = 'unknown' | 'resetting' | 'unsupported' | 'unauthorized' | 'poweredOff' | 'poweredOn';

/** Characteristic properties, in the order gatt.js decodes them (gatt.js 497-527). */
export const PROPERTY_ORDER = ['broadcast', 'read', 'writeWithoutResponse', 'write', 'notify', 'indicate', 'authenticatedSignedWrites', 'extendedProperties'] as const;
export type CharacteristicProperty = (typeof PROPERTY_ORDER)[number];

/** HCI status / disconnect reason codes used here. */
export const HCI = {
  UNKNOWN_CONNECTION_ID: 0x02,
  CONNECTION_TIMEOUT: 0x08,
  COMMAND_DISALLOWED: 0x0c,
  REMOTE_USER_TERMINATED: 0x13,
  REMOTE_POWER_OFF: 0x15,
  LOCAL_HOST_TERMINATED: 0x16,
  CONNECTION_FAILED_TO_BE_ESTABLISHED: 0x3e,
} as const;

/** The Error noble's hci bindings make of a failed LE connection (bindings.js 308-312). */
export function hciError(status: number): Error {
  return new Error(`${HCI_STATUS[status] ?? 'HCI Error: Unknown'} (0x${status.toString(16)})`);
}

function hex(uuid: string): string {
  const h = uuid.trim().toLowerCase().replace(/^0x/, '').replace(/-/g, '');
  if (!/^[0-9a-f]+$/.test(h) || !(h.length <= 4 || h.length === 8 || h.length === 32)) throw new Error(`not a Bluetooth UUID: ${uuid}`);
  return h;
}

/**
 * A UUID as noble reports services, characteristics, descriptors and advertised service lists:
 * 16-bit as a number in hex without padding ('180d', 'a00'), 128-bit as 32 lowercase digits.
 */
export function nobleAttributeUuid(uuid: string): string {
  const h = hex(uuid);
  if (h.length <= 4) return parseInt(h, 16).toString(16);
  if (h.length === 8) throw new Error(`32-bit UUIDs are not used for attributes or service lists: ${uuid}`);
  return h;
}

/** A UUID as noble reports advertised service data: 4, 8 or 32 hex digits (gap.js 374-409). */
export function nobleServiceDataUuid(uuid: string): string {
  const h = hex(uuid);
  return h.length <= 4 ? h.padStart(4, '0') : h;
}

export interface SimulatedAdvertisement {
  localName?: string;
  txPowerLevel?: number;
  serviceUuids?: string[];
  manufacturerData?: Buffer;
  serviceData?: Array<{ uuid: string; data: Buffer }>;
}

/** The advertisement object the bindings hand noble, shaped as gap.js parseServices builds it. */
export interface BindingsAdvertisement {
  localName: string | undefined;
  txPowerLevel: number | undefined;
  manufacturerData: Buffer | undefined;
  serviceData: Array<{ uuid: string; data: Buffer }>;
  serviceUuids: string[];
  solicitationServiceUuids: string[];
  serviceSolicitationUuids: string[];
}

export interface SimulatedDescriptor {
  uuid: string;
  value?: Buffer;
}

export interface SimulatedCharacteristic {
  uuid: string;
  properties: CharacteristicProperty[];
  /** The value for each read (called per read). Without it, `value` (updated by writes) is read. */
  read?: () => Buffer;
  value?: Buffer;
  /** Called with each write the peripheral accepts. */
  onWrite?: (data: Buffer, withoutResponse: boolean) => void;
  /** Extra descriptors; a notify/indicate characteristic always has its CCCD, '2902'. */
  descriptors?: SimulatedDescriptor[];
}

export interface SimulatedService {
  uuid: string;
  characteristics: SimulatedCharacteristic[];
  includedServices?: string[];
}

export type ConnectBehaviour = 'accept' | 'refuse' | 'hang';

export interface SimulatedPeripheralOptions {
  /** 'aa:bb:cc:dd:ee:01'; noble's id/uuid is it lowercased without colons. */
  address: string;
  addressType?: 'public' | 'random';
  /** Advertised as localName unless the advertisement has its own. */
  name?: string;
  rssi?: number;
  /** A fixed advertisement, or a function called for a fresh one at every advertising event. */
  advertisement?: SimulatedAdvertisement | (() => SimulatedAdvertisement);
  /** Default 100 ms; read when the peripheral is added to a radio. */
  advertIntervalMs?: number;
  /** Default true. A central's connect to a non-connectable advertiser never completes. */
  connectable?: boolean;
  scannable?: boolean;
  /** Default false: like most sensors, it stops advertising while a central is connected. */
  advertiseWhileConnected?: boolean;
  services?: SimulatedService[];
  /** 'accept' (default), 'refuse' (connect answers an Error), 'hang' (connect never answers). */
  connectBehaviour?: ConnectBehaviour;
  /** The HCI status of a refused connect; default 0x3e, 'Connection Failed to be Established'. */
  refuseStatus?: number;
  /** Time from the connect request to its answer; default 5 ms. */
  connectLatencyMs?: number;
  /** The link drops (reason 0x08) at service discovery (true / 'services') or characteristic discovery. */
  disconnectDuringDiscovery?: boolean | 'services' | 'characteristics';
  /** The ATT MTU reported after connecting ('onMtu'); default 23. */
  mtu?: number;
}

export interface WriteRecord {
  service: string;
  char: string;
  data: Buffer;
  withoutResponse: boolean;
}

interface CharLayout {
  service: string;
  def: SimulatedCharacteristic;
  uuid: string;
  props: CharacteristicProperty[];
  declHandle: number;
  valueHandle: number;
  cccdHandle: number | undefined;
  descriptors: Array<{ uuid: string; handle: number; def: SimulatedDescriptor | undefined }>;
  endHandle: number;
}

interface ServiceLayout {
  uuid: string;
  def: SimulatedService;
  startHandle: number;
  endHandle: number;
  chars: CharLayout[];
}

/** One connection: its handle and the GATT state gatt.js keeps per connection. */
interface Link {
  handle: number;
  alive: boolean;
  services: Set<string>;
  chars: Set<string>;
  descriptors: Set<string>;
  /** `${service}/${char}` -> CCCD bits (1 notify, 2 indicate). */
  cccd: Map<string, number>;
}

const key = (svc: string, char: string) => `${svc}/${char}`;

export class SimulatedPeripheral {
  readonly address: string;
  /** noble's peripheral id: the address lowercased without colons (bindings.js 207). */
  readonly uuid: string;
  readonly addressType: 'public' | 'random';
  name: string | undefined;
  rssi: number;
  advertisement: SimulatedAdvertisement | (() => SimulatedAdvertisement);
  advertIntervalMs: number;
  connectable: boolean;
  scannable: boolean;
  advertiseWhileConnected: boolean;
  connectBehaviour: ConnectBehaviour;
  refuseStatus: number;
  connectLatencyMs: number;
  disconnectDuringDiscovery: boolean | 'services' | 'characteristics';
  mtu: number;
  /** Advertising at all (in range or not); `stopAdvertising()` / `startAdvertising()`. */
  advertising = true;

  /** Connection requests that reached this peripheral (issued to the controller for it). */
  connectAttempts = 0;
  /** Links established. */
  connects = 0;
  /** Subscriptions enabled (notify(true) answered). */
  subscriptions = 0;
  /** Writes the peripheral accepted, in order. */
  readonly writes: WriteRecord[] = [];
  /** Reads answered. */
  reads = 0;
  /** Notifications delivered. */
  notificationsSent = 0;
  /** The reason of each disconnect event, in order. */
  readonly disconnectReasons: number[] = [];

  /** @internal */ _radio: SimulatedRadio | undefined;
  /** @internal */ _inRange = false;
  /** @internal */ _link: Link | undefined;
  /** @internal */ readonly _layout: ServiceLayout[];
  readonly #streams = new Map<string, NodeJS.Timeout>();

  constructor(o: SimulatedPeripheralOptions) {
    this.address = o.address.toLowerCase();
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(this.address)) throw new Error(`not a Bluetooth address: ${o.address}`);
    this.uuid = this.address.split(':').join('');
    this.addressType = o.addressType ?? 'public';
    this.name = o.name;
    this.rssi = o.rssi ?? -60;
    this.advertisement = o.advertisement ?? {};
    this.advertIntervalMs = o.advertIntervalMs ?? 100;
    this.connectable = o.connectable ?? true;
    this.scannable = o.scannable ?? false;
    this.advertiseWhileConnected = o.advertiseWhileConnected ?? false;
    this.connectBehaviour = o.connectBehaviour ?? 'accept';
    this.refuseStatus = o.refuseStatus ?? HCI.CONNECTION_FAILED_TO_BE_ESTABLISHED;
    this.connectLatencyMs = o.connectLatencyMs ?? 5;
    this.disconnectDuringDiscovery = o.disconnectDuringDiscovery ?? false;
    this.mtu = o.mtu ?? 23;
    this._layout = layout(o.services ?? []);
  }

  /** Connected to a central now. */
  get connected(): boolean {
    return this._link?.alive === true;
  }

  /** In range of a radio (added and not removed). */
  get inRange(): boolean {
    return this._inRange;
  }

  /** The ATT handles of a characteristic (for readHandle/writeHandle tests). */
  handlesOf(charUuid: string, serviceUuid?: string): { valueHandle: number; cccdHandle: number | undefined } {
    const c = this.#char(charUuid, serviceUuid);
    return { valueHandle: c.valueHandle, cccdHandle: c.cccdHandle };
  }

  /** Whether the connected central has notifications (or indications) on for this characteristic. */
  subscribed(charUuid: string, serviceUuid?: string): boolean {
    const c = this.#char(charUuid, serviceUuid);
    return ((this.connected && this._link!.cccd.get(key(c.service, c.uuid))) || 0) !== 0;
  }

  /**
   * Sends one notification if the central is connected and subscribed (and the radio on).
   * Returns whether it was sent; it arrives asynchronously, after anything sent before it.
   */
  notify(charUuid: string, data: Buffer, serviceUuid?: string): boolean {
    const c = this.#char(charUuid, serviceUuid);
    const radio = this._radio;
    if (!radio || !this.subscribed(c.uuid, c.service) || radio.state !== 'poweredOn') return false;
    this.notificationsSent++;
    radio._notification(this, c, Buffer.from(data));
    return true;
  }

  /**
   * Every `periodMs`, while the central is subscribed, sends `next()` as a notification.
   * `next` is only called for notifications that are sent, so a counter in it stays contiguous.
   * Replaces an earlier stream on the same characteristic. Stopped by stopStreaming or radio.close().
   */
  startStreaming(charUuid: string, periodMs: number, next: () => Buffer, serviceUuid?: string): void {
    const c = this.#char(charUuid, serviceUuid);
    const k = key(c.service, c.uuid);
    this.stopStreaming(c.uuid, c.service);
    const t = setInterval(() => {
      if (this._radio?.closed) return this.stopStreaming();
      if (this.subscribed(c.uuid, c.service) && this._radio?.state === 'poweredOn') this.notify(c.uuid, next(), c.service);
    }, periodMs);
    this.#streams.set(k, t);
  }

  /** Stops one characteristic's stream, or all of them. */
  stopStreaming(charUuid?: string, serviceUuid?: string): void {
    if (charUuid === undefined) {
      for (const t of this.#streams.values()) clearInterval(t);
      this.#streams.clear();
      return;
    }
    const c = this.#char(charUuid, serviceUuid);
    const k = key(c.service, c.uuid);
    const t = this.#streams.get(k);
    if (t) clearInterval(t);
    this.#streams.delete(k);
  }

  /** The link drops from the peripheral's side: the central gets 'disconnect' with `reason`. */
  drop(reason: number = HCI.REMOTE_USER_TERMINATED): boolean {
    if (!this.connected || !this._radio) return false;
    this._radio._teardown(this, reason);
    return true;
  }

  stopAdvertising(): void {
    this.advertising = false;
  }

  startAdvertising(): void {
    this.advertising = true;
  }

  /** @internal The advertisement of one advertising event, as gap.js would have parsed it. */
  _advertisement(): BindingsAdvertisement {
    const src = typeof this.advertisement === 'function' ? this.advertisement() : this.advertisement;
    const serviceUuids: string[] = [];
    for (const u of src.serviceUuids ?? []) {
      const n = nobleAttributeUuid(u);
      if (!serviceUuids.includes(n)) serviceUuids.push(n);
    }
    return {
      localName: src.localName ?? this.name,
      txPowerLevel: src.txPowerLevel,
      manufacturerData: src.manufacturerData === undefined ? undefined : Buffer.from(src.manufacturerData),
      serviceData: (src.serviceData ?? []).map((s) => ({ uuid: nobleServiceDataUuid(s.uuid), data: Buffer.from(s.data) })),
      serviceUuids,
      solicitationServiceUuids: [],
      serviceSolicitationUuids: [],
    };
  }

  /** @internal */
  _dispose(): void {
    this.stopStreaming();
  }

  #char(charUuid: string, serviceUuid?: string): CharLayout {
    const cu = nobleAttributeUuid(charUuid);
    const su = serviceUuid === undefined ? undefined : nobleAttributeUuid(serviceUuid);
    for (const s of this._layout) {
      if (su !== undefined && s.uuid !== su) continue;
      for (const c of s.chars) if (c.uuid === cu) return c;
    }
    throw new Error(`${this.address} has no characteristic ${charUuid}${serviceUuid ? ` in service ${serviceUuid}` : ''}`);
  }
}

/** ATT handles as a GATT server would number them: service, then per characteristic its
 *  declaration, value, CCCD (notify/indicate) and other descriptors. */
function layout(services: SimulatedService[]): ServiceLayout[] {
  let h = 1;
  return services.map((def) => {
    const startHandle = h++;
    const uuid = nobleAttributeUuid(def.uuid);
    const chars = def.characteristics.map((cd): CharLayout => {
      const declHandle = h++;
      const valueHandle = h++;
      const props = PROPERTY_ORDER.filter((p) => cd.properties.includes(p));
      const cccdHandle = props.includes('notify') || props.includes('indicate') ? h++ : undefined;
      const descriptors: CharLayout['descriptors'] = [];
      if (cccdHandle !== undefined) descriptors.push({ uuid: '2902', handle: cccdHandle, def: undefined });
      for (const d of cd.descriptors ?? []) {
        const du = nobleAttributeUuid(d.uuid);
        if (du !== '2902') descriptors.push({ uuid: du, handle: h++, def: d });
      }
      return { service: uuid, def: cd, uuid: nobleAttributeUuid(cd.uuid), props, declHandle, valueHandle, cccdHandle, descriptors, endHandle: h - 1 };
    });
    return { uuid, def, startHandle, endHandle: h - 1, chars };
  });
}

interface Attempt {
  uuid: string;
  params: unknown;
  /** An answer is scheduled. */
  timer: boolean;
  /** cancelConnect reached it: its LE Connection Complete (0x2) is on the way. */
  cancelled: boolean;
}

export interface SimulatedRadioOptions {
  /** The state init() reports; default 'poweredOn'. */
  state?: RadioState;
  /** The adapter's own address ('addressChange'); default '00:11:22:33:44:55'. */
  address?: string;
  /** Delay of every GATT answer; default 0 (the next turn of the event loop). */
  gattLatencyMs?: number;
  /** The controller filters duplicate reports when noble scans without allowDuplicates; default true. */
  controllerDuplicateFilter?: boolean;
}

/** noble's bindings over simulated peripherals. */
export class SimulatedRadio extends EventEmitter {
  /** Every bindings call noble made, in order. */
  readonly calls: Array<{ method: string; args: unknown[] }> = [];
  /** What noble's hci bindings would have printed (GATT calls for unknown peripherals...). */
  readonly warnings: string[] = [];
  readonly address: string;
  gattLatencyMs: number;
  controllerDuplicateFilter: boolean;

  #state: RadioState;
  #initialized = false;
  #closed = false;
  #scanning = false;
  #scanFilter: string[] = [];
  #filterDuplicates = true;
  readonly #reported = new Set<string>();
  readonly #inRange = new Map<string, SimulatedPeripheral>();
  readonly #known = new Map<string, SimulatedPeripheral>();
  readonly #adverts = new Map<string, NodeJS.Timeout>();
  readonly #timers = new Set<NodeJS.Timeout | NodeJS.Immediate>();
  #pending: Attempt | undefined;
  #queue: Array<{ uuid: string; params: unknown }> = [];
  #nextHandle = 0x40;

  constructor(o: SimulatedRadioOptions = {}) {
    super();
    this.#state = o.state ?? 'poweredOn';
    this.address = o.address ?? '00:11:22:33:44:55';
    this.gattLatencyMs = o.gattLatencyMs ?? 0;
    this.controllerDuplicateFilter = o.controllerDuplicateFilter ?? true;
  }

  // ---- controls for tests ------------------------------------------------------------------

  get state(): RadioState {
    return this.#state;
  }

  get initialized(): boolean {
    return this.#initialized;
  }

  get scanning(): boolean {
    return this.#scanning;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The peripherals in range now. */
  get peripherals(): SimulatedPeripheral[] {
    return [...this.#inRange.values()];
  }

  /** The uuid of the connection attempt the controller is working on, and those queued. */
  get connecting(): { pending: string | undefined; queued: string[] } {
    return { pending: this.#pending?.uuid, queued: this.#queue.map((q) => q.uuid) };
  }

  powerOff(): void {
    this.setState('poweredOff');
  }

  powerOn(): void {
    this.setState('poweredOn');
  }

  /**
   * The adapter's state changes. Before noble initialised the bindings this only sets what init()
   * will report. Leaving poweredOn stops the scan, fails connection attempts and drops links.
   */
  setState(state: RadioState): void {
    if (state === this.#state) return; // bindings.js 128: no event for the same state
    this.#state = state;
    if (!this.#initialized || this.#closed) return;
    this.#later(() => this.emit('stateChange', state));
    if (state === 'poweredOn') return;
    this.#scanning = false;
    const failed = [...(this.#pending ? [this.#pending.uuid] : []), ...this.#queue.map((q) => q.uuid)];
    this.#pending = undefined;
    this.#queue = [];
    for (const uuid of failed) this.#later(() => this.emit('connect', uuid, hciError(HCI.CONNECTION_FAILED_TO_BE_ESTABLISHED)));
    for (const p of this.#known.values()) if (p.connected) this._teardown(p, HCI.LOCAL_HOST_TERMINATED);
  }

  /** The peripheral comes into range: it advertises, and a connection waiting for it completes. */
  add(p: SimulatedPeripheral): SimulatedPeripheral {
    if (this.#closed) throw new Error('the radio is closed');
    if (p._radio && p._radio !== this) throw new Error(`${p.address} is in range of another radio`);
    const other = this.#known.get(p.uuid);
    if (other && other !== p) throw new Error(`another peripheral has the address ${p.address}`);
    p._radio = this;
    this.#known.set(p.uuid, p);
    if (p._inRange) return p;
    p._inRange = true;
    this.#inRange.set(p.uuid, p);
    const t = setInterval(() => this.#advertise(p), p.advertIntervalMs);
    this.#adverts.set(p.uuid, t);
    const pending = this.#pending;
    if (pending?.uuid === p.uuid && !pending.timer && !pending.cancelled) this.#attempt(pending);
    return p;
  }

  /** The peripheral goes out of range: it is no longer heard, and its link drops with `reason`. */
  remove(p: SimulatedPeripheral, reason: number = HCI.CONNECTION_TIMEOUT): void {
    if (!p._inRange || p._radio !== this) return;
    p._inRange = false;
    this.#inRange.delete(p.uuid);
    const t = this.#adverts.get(p.uuid);
    if (t) clearInterval(t);
    this.#adverts.delete(p.uuid);
    if (p.connected) this._teardown(p, reason);
  }

  /** Stops everything: timers, streams, advertising. No event is emitted after this. */
  close(): void {
    this.#closed = true;
    this.#scanning = false;
    for (const t of this.#adverts.values()) clearInterval(t);
    this.#adverts.clear();
    for (const t of this.#timers) {
      clearTimeout(t as NodeJS.Timeout);
      clearImmediate(t as NodeJS.Immediate);
    }
    this.#timers.clear();
    for (const p of this.#known.values()) {
      p._dispose();
      if (p._link) p._link.alive = false;
      p._link = undefined;
    }
    this.#pending = undefined;
    this.#queue = [];
  }

  // ---- noble's bindings contract (lib/noble.js calls these) ---------------------------------

  init(): void {
    this.#record('init', []);
    if (this.#initialized) return;
    this.#initialized = true;
    this.#later(() => {
      this.emit('addressChange', this.address);
      if (this.#state !== 'unknown') this.emit('stateChange', this.#state);
    });
  }

  setScanParameters(interval?: number, window?: number): void {
    this.#record('setScanParameters', [interval, window]);
    this.#later(() => this.emit('scanParametersSet'));
  }

  startScanning(serviceUuids?: string[] | null, allowDuplicates?: boolean): void {
    this.#record('startScanning', [serviceUuids, allowDuplicates]);
    if (this.#state !== 'poweredOn') return this.#warn(`startScanning while the adapter is ${this.#state}`);
    const filter = serviceUuids || [];
    const filterDuplicates = !allowDuplicates;
    this.#later(() => {
      if (this.#state !== 'poweredOn') return;
      this.#scanFilter = filter;
      this.#filterDuplicates = filterDuplicates;
      this.#reported.clear();
      this.#scanning = true;
      this.emit('scanStart', filterDuplicates);
    });
  }

  stopScanning(): void {
    this.#record('stopScanning', []);
    this.#scanning = false;
    this.#later(() => this.emit('scanStop'));
  }

  reset(): void {
    this.#record('reset', []);
  }

  connect(peripheralUuid: string, parameters?: unknown): void {
    this.#record('connect', [peripheralUuid, parameters]);
    if (this.#state !== 'poweredOn') {
      this.#later(() => this.emit('connect', peripheralUuid, hciError(HCI.COMMAND_DISALLOWED)));
      return;
    }
    if (this.#pending) {
      this.#queue.push({ uuid: peripheralUuid, params: parameters });
      return;
    }
    this.#start({ uuid: peripheralUuid, params: parameters });
  }

  cancelConnect(peripheralUuid: string, parameters?: unknown): void {
    this.#record('cancelConnect', [peripheralUuid, parameters]);
    this.#queue = this.#queue.filter((q) => q.uuid !== peripheralUuid);
    const pending = this.#pending;
    // No attempt under way: the controller answers Command Disallowed; nothing reaches noble.
    if (!pending || pending.cancelled) return;
    // Until its LE Connection Complete arrives the attempt stays pending (new connects queue).
    pending.cancelled = true;
    this.#later(() => this.#complete(pending, hciError(HCI.UNKNOWN_CONNECTION_ID)));
  }

  disconnect(peripheralUuid: string): void {
    this.#record('disconnect', [peripheralUuid]);
    const p = this.#known.get(peripheralUuid);
    if (!p?.connected) return this.#warn(`disconnect: no connection to ${peripheralUuid}`);
    const link = p._link!;
    this.#later(() => {
      if (p._link === link && link.alive) this._teardown(p, HCI.LOCAL_HOST_TERMINATED);
    });
  }

  updateRssi(peripheralUuid: string): void {
    this.#record('updateRssi', [peripheralUuid]);
    const c = this.#conn(peripheralUuid);
    if (c) this.#answer(c, () => this.emit('rssiUpdate', peripheralUuid, c.p.rssi));
  }

  addService(peripheralUuid: string, service: { uuid: string }): void {
    this.#record('addService', [peripheralUuid, service]);
    const c = this.#conn(peripheralUuid);
    if (c && c.p._layout.some((s) => s.uuid === service.uuid)) c.link.services.add(service.uuid);
  }

  addCharacteristics(peripheralUuid: string, serviceUuid: string, characteristics: Array<{ uuid: string }>): void {
    this.#record('addCharacteristics', [peripheralUuid, serviceUuid, characteristics]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const s = c.p._layout.find((x) => x.uuid === serviceUuid);
    for (const ch of characteristics) if (s?.chars.some((x) => x.uuid === ch.uuid)) c.link.chars.add(key(serviceUuid, ch.uuid));
  }

  discoverServices(peripheralUuid: string, uuids?: string[] | null): void {
    this.#record('discoverServices', [peripheralUuid, uuids]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const { p, link } = c;
    if (p.disconnectDuringDiscovery === true || p.disconnectDuringDiscovery === 'services') return this.#dropSoon(p, link);
    const wanted = uuids || [];
    this.#answer(c, () => {
      const services = p._layout.map((s) => ({ startHandle: s.startHandle, endHandle: s.endHandle, uuid: s.uuid }));
      for (const s of services) link.services.add(s.uuid);
      const serviceUuids = services.map((s) => s.uuid).filter((u) => wanted.length === 0 || wanted.indexOf(u) !== -1);
      this.emit('servicesDiscovered', peripheralUuid, services);
      this.emit('servicesDiscover', peripheralUuid, serviceUuids);
    });
  }

  discoverIncludedServices(peripheralUuid: string, serviceUuid: string, serviceUuids?: string[] | null): void {
    this.#record('discoverIncludedServices', [peripheralUuid, serviceUuid, serviceUuids]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const s = this.#service(c, serviceUuid);
    const wanted = serviceUuids || [];
    const included = (s.def.includedServices ?? []).map(nobleAttributeUuid).filter((u) => wanted.length === 0 || wanted.indexOf(u) !== -1);
    this.#answer(c, () => this.emit('includedServicesDiscover', peripheralUuid, serviceUuid, included));
  }

  discoverCharacteristics(peripheralUuid: string, serviceUuid: string, characteristicUuids?: string[] | null): void {
    this.#record('discoverCharacteristics', [peripheralUuid, serviceUuid, characteristicUuids]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const s = this.#service(c, serviceUuid);
    const { p, link } = c;
    if (p.disconnectDuringDiscovery === 'characteristics') return this.#dropSoon(p, link);
    const wanted = characteristicUuids || [];
    this.#answer(c, () => {
      const detailed = s.chars.map((ch) => {
        link.chars.add(key(s.uuid, ch.uuid));
        const raw = ch.props.reduce((bits, prop) => bits | (1 << PROPERTY_ORDER.indexOf(prop)), 0);
        return { startHandle: ch.declHandle, properties: raw, valueHandle: ch.valueHandle, uuid: ch.uuid, propsDecoded: [...ch.props], rawProps: raw, endHandle: ch.endHandle };
      });
      const found = s.chars.filter((ch) => wanted.length === 0 || wanted.indexOf(ch.uuid) !== -1).map((ch) => ({ properties: [...ch.props], uuid: ch.uuid }));
      this.emit('characteristicsDiscovered', peripheralUuid, serviceUuid, detailed);
      this.emit('characteristicsDiscover', peripheralUuid, serviceUuid, found);
    });
  }

  read(peripheralUuid: string, serviceUuid: string, characteristicUuid: string): void {
    this.#record('read', [peripheralUuid, serviceUuid, characteristicUuid]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const ch = this.#characteristic(c, serviceUuid, characteristicUuid);
    this.#answer(c, () => {
      let data: Buffer = Buffer.alloc(0); // an ATT error answers an empty read (gatt.js 561)
      if (ch.props.includes('read')) {
        data = Buffer.from(ch.def.read ? ch.def.read() : (ch.def.value ?? Buffer.alloc(0)));
        c.p.reads++;
      } else this.#warn(`read of ${characteristicUuid}: not readable (ATT error)`);
      this.emit('read', peripheralUuid, serviceUuid, characteristicUuid, data, false);
    });
  }

  write(peripheralUuid: string, serviceUuid: string, characteristicUuid: string, data: Buffer | Uint8Array, withoutResponse?: boolean): void {
    this.#record('write', [peripheralUuid, serviceUuid, characteristicUuid, data, withoutResponse]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const ch = this.#characteristic(c, serviceUuid, characteristicUuid);
    const bytes = Buffer.from(data);
    const noResp = withoutResponse === true;
    this.#answer(c, () => {
      const accepted = ch.props.includes(noResp ? 'writeWithoutResponse' : 'write');
      if (accepted) this.#accept(c.p, ch, bytes, noResp);
      else this.#warn(`write${noResp ? ' without response' : ''} to ${characteristicUuid}: not permitted (ATT error)`);
      // A write command is confirmed once sent (gatt.js 596-598); a refused request never is.
      if (accepted || noResp) this.emit('write', peripheralUuid, serviceUuid, characteristicUuid);
    });
  }

  broadcast(peripheralUuid: string, serviceUuid: string, characteristicUuid: string, broadcast: boolean): void {
    this.#record('broadcast', [peripheralUuid, serviceUuid, characteristicUuid, broadcast]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const ch = this.#characteristic(c, serviceUuid, characteristicUuid);
    if (!ch.props.includes('broadcast')) return this.#warn(`broadcast on ${characteristicUuid}: no server configuration descriptor`);
    this.#answer(c, () => this.emit('broadcast', peripheralUuid, serviceUuid, characteristicUuid, broadcast));
  }

  notify(peripheralUuid: string, serviceUuid: string, characteristicUuid: string, notify: boolean): void {
    this.#record('notify', [peripheralUuid, serviceUuid, characteristicUuid, notify]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const ch = this.#characteristic(c, serviceUuid, characteristicUuid);
    if (ch.cccdHandle === undefined) return this.#warn(`notify on ${characteristicUuid}: it has no CCCD (never answered)`);
    this.#answer(c, () => {
      const bit = ch.props.includes('notify') ? 1 : 2;
      const k = key(serviceUuid, characteristicUuid);
      const v = c.link.cccd.get(k) ?? 0;
      c.link.cccd.set(k, notify ? v | bit : v & ~bit);
      if (notify) c.p.subscriptions++;
      this.emit('notify', peripheralUuid, serviceUuid, characteristicUuid, notify);
    });
  }

  discoverDescriptors(peripheralUuid: string, serviceUuid: string, characteristicUuid: string): void {
    this.#record('discoverDescriptors', [peripheralUuid, serviceUuid, characteristicUuid]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const ch = this.#characteristic(c, serviceUuid, characteristicUuid);
    this.#answer(c, () => {
      for (const d of ch.descriptors) c.link.descriptors.add(`${key(serviceUuid, characteristicUuid)}/${d.uuid}`);
      this.emit('descriptorsDiscover', peripheralUuid, serviceUuid, characteristicUuid, ch.descriptors.map((d) => d.uuid));
    });
  }

  readValue(peripheralUuid: string, serviceUuid: string, characteristicUuid: string, descriptorUuid: string): void {
    this.#record('readValue', [peripheralUuid, serviceUuid, characteristicUuid, descriptorUuid]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const { ch, d } = this.#descriptor(c, serviceUuid, characteristicUuid, descriptorUuid);
    this.#answer(c, () => {
      const data = d.uuid === '2902' ? cccdBytes(c.link.cccd.get(key(ch.service, ch.uuid)) ?? 0) : Buffer.from(d.def?.value ?? Buffer.alloc(0));
      this.emit('valueRead', peripheralUuid, serviceUuid, characteristicUuid, descriptorUuid, data);
    });
  }

  writeValue(peripheralUuid: string, serviceUuid: string, characteristicUuid: string, descriptorUuid: string, data: Buffer): void {
    this.#record('writeValue', [peripheralUuid, serviceUuid, characteristicUuid, descriptorUuid, data]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const { ch, d } = this.#descriptor(c, serviceUuid, characteristicUuid, descriptorUuid);
    const bytes = Buffer.from(data);
    this.#answer(c, () => {
      if (d.uuid === '2902') this.#writeCccd(c, ch, bytes);
      else if (d.def) d.def.value = bytes;
      this.emit('valueWrite', peripheralUuid, serviceUuid, characteristicUuid, descriptorUuid);
    });
  }

  readHandle(peripheralUuid: string, handle: number): void {
    this.#record('readHandle', [peripheralUuid, handle]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    this.#answer(c, () => {
      let data: Buffer = Buffer.alloc(0);
      for (const s of c.p._layout) {
        for (const ch of s.chars) {
          if (ch.valueHandle === handle && ch.props.includes('read')) {
            data = Buffer.from(ch.def.read ? ch.def.read() : (ch.def.value ?? Buffer.alloc(0)));
            c.p.reads++;
          }
          if (ch.cccdHandle === handle) data = cccdBytes(c.link.cccd.get(key(ch.service, ch.uuid)) ?? 0);
          for (const d of ch.descriptors) if (d.handle === handle && d.def) data = Buffer.from(d.def.value ?? Buffer.alloc(0));
        }
      }
      this.emit('handleRead', peripheralUuid, handle, data);
    });
  }

  writeHandle(peripheralUuid: string, handle: number, data: Buffer, withoutResponse?: boolean): void {
    this.#record('writeHandle', [peripheralUuid, handle, data, withoutResponse]);
    const c = this.#conn(peripheralUuid);
    if (!c) return;
    const bytes = Buffer.from(data);
    this.#answer(c, () => {
      for (const s of c.p._layout) {
        for (const ch of s.chars) {
          if (ch.valueHandle === handle && (ch.props.includes('write') || ch.props.includes('writeWithoutResponse'))) this.#accept(c.p, ch, bytes, withoutResponse === true);
          if (ch.cccdHandle === handle) this.#writeCccd(c, ch, bytes);
        }
      }
      this.emit('handleWrite', peripheralUuid, handle);
    });
  }

  // ---- internals -----------------------------------------------------------------------------

  /** @internal A notification on its way: handleNotify, then noble's read(..., true) (gatt.js 111-124). */
  _notification(p: SimulatedPeripheral, ch: CharLayout, data: Buffer): void {
    const link = p._link;
    if (!link) return;
    this.#answer({ p, link }, () => {
      this.emit('handleNotify', p.uuid, ch.valueHandle, data);
      if (link.chars.has(key(ch.service, ch.uuid))) this.emit('read', p.uuid, ch.service, ch.uuid, data, true);
    });
  }

  /** @internal The link goes now; noble hears 'disconnect' on the next turn. */
  _teardown(p: SimulatedPeripheral, reason: number): void {
    const link = p._link;
    if (!link) return;
    link.alive = false;
    p._link = undefined;
    p.disconnectReasons.push(reason);
    this.#later(() => this.emit('disconnect', p.uuid, reason));
  }

  #record(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
  }

  #warn(message: string): void {
    this.warnings.push(message);
  }

  /** Runs `fn` later (setImmediate for 0 ms), unless the radio is closed by then. */
  #later(fn: () => void, ms = 0): void {
    if (this.#closed) return;
    const run = () => {
      this.#timers.delete(t);
      if (!this.#closed) fn();
    };
    const t: NodeJS.Timeout | NodeJS.Immediate = ms > 0 ? setTimeout(run, ms) : setImmediate(run);
    this.#timers.add(t);
  }

  /** A GATT answer: dropped if the link is gone by then (bindings.js 346). */
  #answer(c: { p: SimulatedPeripheral; link: Link }, fn: () => void): void {
    this.#later(() => {
      if (c.link.alive && c.p._link === c.link && this.#state === 'poweredOn') fn();
    }, this.gattLatencyMs);
  }

  #conn(peripheralUuid: string): { p: SimulatedPeripheral; link: Link } | undefined {
    const p = this.#known.get(peripheralUuid);
    if (!p?._link?.alive) {
      this.#warn(`noble warning: unknown peripheral ${peripheralUuid}`);
      return undefined;
    }
    return { p, link: p._link };
  }

  #service(c: { p: SimulatedPeripheral; link: Link }, serviceUuid: string): ServiceLayout {
    const s = c.p._layout.find((x) => x.uuid === serviceUuid);
    if (!s || !c.link.services.has(serviceUuid)) {
      throw new TypeError(`simulated gatt: service ${serviceUuid} of ${c.p.address} was not discovered on this connection (noble's gatt.js throws a TypeError here)`);
    }
    return s;
  }

  #characteristic(c: { p: SimulatedPeripheral; link: Link }, serviceUuid: string, characteristicUuid: string): CharLayout {
    const ch = c.p._layout.find((x) => x.uuid === serviceUuid)?.chars.find((x) => x.uuid === characteristicUuid);
    if (!ch || !c.link.chars.has(key(serviceUuid, characteristicUuid))) {
      throw new TypeError(`simulated gatt: characteristic ${characteristicUuid} of service ${serviceUuid} of ${c.p.address} was not discovered on this connection (noble's gatt.js throws a TypeError here)`);
    }
    return ch;
  }

  #descriptor(c: { p: SimulatedPeripheral; link: Link }, serviceUuid: string, characteristicUuid: string, descriptorUuid: string): { ch: CharLayout; d: CharLayout['descriptors'][number] } {
    const ch = this.#characteristic(c, serviceUuid, characteristicUuid);
    const d = ch.descriptors.find((x) => x.uuid === descriptorUuid);
    if (!d || !c.link.descriptors.has(`${key(serviceUuid, characteristicUuid)}/${descriptorUuid}`)) {
      throw new TypeError(`simulated gatt: descriptor ${descriptorUuid} of ${characteristicUuid} was not discovered on this connection (noble's gatt.js throws a TypeError here)`);
    }
    return { ch, d };
  }

  #accept(p: SimulatedPeripheral, ch: CharLayout, data: Buffer, withoutResponse: boolean): void {
    p.writes.push({ service: ch.service, char: ch.uuid, data, withoutResponse });
    if (!ch.def.read) ch.def.value = data;
    ch.def.onWrite?.(data, withoutResponse);
  }

  #writeCccd(c: { p: SimulatedPeripheral; link: Link }, ch: CharLayout, bytes: Buffer): void {
    const v = bytes.length >= 2 ? bytes.readUInt16LE(0) & 0x3 : (bytes[0] ?? 0) & 0x3;
    const k = key(ch.service, ch.uuid);
    if (v !== 0 && (c.link.cccd.get(k) ?? 0) === 0) c.p.subscriptions++;
    c.link.cccd.set(k, v);
  }

  #dropSoon(p: SimulatedPeripheral, link: Link): void {
    this.#later(() => {
      if (p._link === link && link.alive) this._teardown(p, HCI.CONNECTION_TIMEOUT);
    });
  }

  /** One advertising event of `p`, reported as the bindings would (bindings.js 170-223). */
  #advertise(p: SimulatedPeripheral): void {
    if (this.#closed || !this.#scanning || this.#state !== 'poweredOn' || !p._inRange || !p.advertising) return;
    if (p.connected && !p.advertiseWhileConnected) return;
    if (this.#filterDuplicates && this.controllerDuplicateFilter && this.#reported.has(p.uuid)) return;
    const advertisement = p._advertisement();
    if (this.#scanFilter.length > 0) {
      const heard = [...advertisement.serviceUuids, ...advertisement.serviceData.map((s) => s.uuid)];
      if (!heard.some((u) => this.#scanFilter.indexOf(u) !== -1)) return;
    }
    this.#reported.add(p.uuid);
    this.emit('discover', p.uuid, p.address, p.addressType, p.connectable, advertisement, p.rssi, p.scannable);
  }

  /** The controller starts creating a connection (bindings.js 54-57). */
  #start(a: { uuid: string; params: unknown }): void {
    const attempt: Attempt = { uuid: a.uuid, params: a.params, timer: false, cancelled: false };
    this.#pending = attempt;
    const p = this.#known.get(a.uuid);
    if (p) p.connectAttempts++;
    this.#attempt(attempt);
  }

  /** Answers the pending attempt if its peripheral is there to answer; otherwise it waits. */
  #attempt(attempt: Attempt): void {
    const p = this.#known.get(attempt.uuid);
    if (!p || !p._inRange || !p.connectable || p.connectBehaviour === 'hang') return;
    attempt.timer = true;
    this.#later(() => {
      if (this.#pending !== attempt || attempt.cancelled) return; // cancelled, or the radio went off
      if (!p._inRange) {
        attempt.timer = false; // went out of range meanwhile: keep waiting for it
        return;
      }
      if (p.connectBehaviour === 'refuse') return this.#complete(attempt, hciError(p.refuseStatus));
      if (p.connectBehaviour === 'hang') {
        attempt.timer = false;
        return;
      }
      const link: Link = { handle: this.#nextHandle++, alive: true, services: new Set(), chars: new Set(), descriptors: new Set(), cccd: new Map() };
      p._link = link;
      p.connects++;
      this.#complete(attempt, null);
      // The MTU exchange follows the connection (bindings.js 306, 371-375).
      this.#answer({ p, link }, () => this.emit('onMtu', p.uuid, p.mtu));
    }, p.connectLatencyMs);
  }

  /** LE Connection Complete: noble hears 'connect', and the next queued attempt starts (bindings.js 315-329). */
  #complete(attempt: Attempt, error: Error | null): void {
    if (this.#pending !== attempt) return; // the radio went off meanwhile
    this.#pending = undefined;
    this.emit('connect', attempt.uuid, error);
    if (this.#pending) return;
    const next = this.#queue.shift();
    if (next) this.#start(next);
  }
}

function cccdBytes(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v, 0);
  return b;
}

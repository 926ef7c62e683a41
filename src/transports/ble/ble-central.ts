/**
 * The hub's BLE central over noble: it scans continuously (with duplicates, so that broadcast
 * sensors are heard each time they speak), matches advertisements to the configured devices,
 * and keeps each connectable device streaming through a state machine:
 *
 *   searching -> connecting -> discovering -> subscribing -> streaming
 *        ^                                                      |
 *        +------------------ backing-off <----------------------+  (failure, timeout, drop)
 *
 * Every step has a timeout. A failed step or a dropped link backs the device off, exponentially
 * with jitter up to a ceiling, so a device that keeps failing is never retried in a tight loop;
 * its failures and state are in describe() for the status. At most `maxConnecting` connection
 * attempts run at once and at most `maxConnections` links are kept: a Pi's controller handles
 * only a few. When the adapter goes off (or was never usable), one line says why and how to fix
 * it; when it comes back, scanning resumes.
 *
 * The central knows devices only by their match rules and setup: what the bytes mean is the
 * profiles' business. It hands every notification, periodic read and advertisement payload to
 * `onPacket` with its source (the characteristic's 16-bit or 128-bit UUID, or 'advert') and the
 * time it arrived.
 */
import { Backoff } from '../../ops/backoff.js';
import type { Clock } from '../../ops/clock.js';
import type { Logger } from '../../ops/log.js';
import { bleUnavailableReason } from './load-noble.js';
import type { AdapterState, Noble, NobleCharacteristic, NoblePeripheral } from './noble-types.js';

export interface BleMatch {
  readonly services?: readonly string[];
  readonly name?: RegExp;
  readonly manufacturerId?: number;
  readonly serviceData?: string;
}

export interface BleTarget {
  /** The configured device this is (stable across reconnects and restarts). */
  readonly key: string;
  /** 'connect': a GATT device; 'advert': a broadcaster whose advertisements carry the data. */
  readonly kind: 'connect' | 'advert';
  /** The allow-listed address ('aa:bb:cc:dd:ee:ff'); without one the first match is bound. */
  readonly address?: string;
  readonly match: BleMatch;
  readonly subscribe: readonly string[];
  readonly reads: ReadonlyArray<{ readonly characteristic: string; readonly everyMs: number }>;
  readonly writes: ReadonlyArray<{ readonly characteristic: string; readonly bytes: Uint8Array }>;
}

export interface BlePacket {
  readonly key: string;
  readonly address: string;
  /** The characteristic's UUID (lowercase, no dashes) or 'advert'. */
  readonly source: string;
  readonly bytes: Uint8Array;
  readonly monoMs: number;
  readonly wallMs: number;
}

export interface BleGap {
  readonly key: string;
  readonly fromMonoMs: number;
  readonly toMonoMs: number;
  readonly reason: string;
}

export type BleDeviceState = 'searching' | 'connecting' | 'discovering' | 'subscribing' | 'streaming' | 'backing-off';

export interface BleCentralOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly onPacket: (packet: BlePacket) => void;
  readonly onGap: (gap: BleGap) => void;
  readonly maxConnections?: number;
  readonly maxConnecting?: number;
  readonly stepTimeoutMs?: number;
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  /** An advertisement repeating the previous one's bytes within this time is the same packet. */
  readonly advertRepeatMs?: number;
}

export interface BleDeviceStatus {
  readonly key: string;
  readonly address: string | undefined;
  readonly state: BleDeviceState;
  readonly rssi: number | undefined;
  /** Failed attempts since the device last streamed. */
  readonly failures: number;
  readonly lastError: string | undefined;
}

interface Device {
  readonly target: BleTarget;
  state: BleDeviceState;
  address: string | undefined;
  peripheral: NoblePeripheral | undefined;
  rssi: number | undefined;
  failures: number;
  lastError: string | undefined;
  retryAtMono: number;
  readonly backoff: Backoff;
  timers: NodeJS.Timeout[];
  /** When it stopped streaming, for the gap reported once it streams again. */
  awaySince: { monoMs: number; reason: string } | undefined;
  lastAdvert: { bytes: Buffer; monoMs: number } | undefined;
  /** Incremented per connection attempt: callbacks of an abandoned attempt do nothing. */
  attempt: number;
}

/** noble's form of a UUID: lowercase, no dashes. */
export function nobleUuid(uuid: string): string {
  return uuid.toLowerCase().replace(/-/g, '');
}

/**
 * Whether two UUIDs are the same. noble writes a 16-bit UUID in attribute and advertised service
 * lists without leading zeros ('a00' for 0x0A00) but in service data with four digits.
 */
export function sameUuid(a: string, b: string): boolean {
  const x = nobleUuid(a);
  const y = nobleUuid(b);
  if (x.length <= 4 && y.length <= 4) return parseInt(x, 16) === parseInt(y, 16);
  return x === y;
}

/** How noble's Linux bindings write an attribute UUID: 16-bit ones without leading zeros. */
function attributeUuid(uuid: string): string {
  return uuid.length <= 4 ? parseInt(uuid, 16).toString(16) : uuid;
}

class StepTimeout extends Error {}

export class BleCentral {
  readonly #noble: Noble;
  readonly #o: BleCentralOptions;
  readonly #devices: Device[];
  #adapter: AdapterState = 'unknown';
  #saidUnavailable: string | undefined;
  #stopped = false;
  readonly #onState = (s: AdapterState) => this.#state(s);
  readonly #onDiscover = (p: NoblePeripheral) => this.#discover(p);

  constructor(noble: Noble, targets: readonly BleTarget[], options: BleCentralOptions) {
    this.#noble = noble;
    this.#o = options;
    this.#devices = targets.map((target) => ({
      target: { ...target, subscribe: target.subscribe.map(nobleUuid), reads: target.reads.map((r) => ({ ...r, characteristic: nobleUuid(r.characteristic) })), writes: target.writes.map((w) => ({ ...w, characteristic: nobleUuid(w.characteristic) })) },
      state: 'searching',
      address: target.address?.toLowerCase(),
      peripheral: undefined,
      rssi: undefined,
      failures: 0,
      lastError: undefined,
      retryAtMono: 0,
      backoff: new Backoff(options.backoffMinMs ?? 1000, options.backoffMaxMs ?? 300_000),
      timers: [],
      awaySince: undefined,
      lastAdvert: undefined,
      attempt: 0,
    }));
  }

  start(): void {
    this.#noble.on('stateChange', this.#onState);
    this.#noble.on('discover', this.#onDiscover);
    // Reading the state starts noble's bindings; the state may already be known.
    const now = this.#noble.state;
    if (now !== 'unknown') this.#state(now);
  }

  get adapterState(): AdapterState {
    return this.#adapter;
  }

  describe(): BleDeviceStatus[] {
    return this.#devices.map((d) => ({ key: d.target.key, address: d.address, state: d.state, rssi: d.rssi, failures: d.failures, lastError: d.lastError }));
  }

  #state(state: AdapterState): void {
    if (this.#stopped) return;
    this.#adapter = state;
    if (state === 'poweredOn') {
      if (this.#saidUnavailable) this.#o.log.info('Bluetooth adapter is on again; scanning');
      this.#saidUnavailable = undefined;
      this.#noble.startScanningAsync([], true).catch((e: Error) => this.#o.log.error({ err: e.message }, 'BLE scan could not start'));
      return;
    }
    if (state === 'unknown' || state === 'resetting') return;
    if (this.#saidUnavailable !== state) {
      this.#saidUnavailable = state;
      this.#o.log.warn({ state }, `BLE unavailable: ${bleUnavailableReason(state)}; serial devices keep running`);
    }
    for (const d of this.#devices) if (d.state !== 'searching' && d.state !== 'backing-off') this.#lost(d, `adapter ${state}`);
  }

  #matches(d: Device, p: NoblePeripheral): boolean {
    const addr = p.address?.toLowerCase();
    if (d.address !== undefined) return addr === d.address;
    const m = d.target.match;
    const ad = p.advertisement ?? {};
    if (m.services && !m.services.some((s) => (ad.serviceUuids ?? []).some((u) => sameUuid(u, s)))) return false;
    if (m.name && !m.name.test(ad.localName ?? '')) return false;
    if (m.manufacturerId !== undefined) {
      const md = ad.manufacturerData;
      if (!md || md.length < 2 || md.readUInt16LE(0) !== m.manufacturerId) return false;
    }
    if (m.serviceData && !(ad.serviceData ?? []).some((s) => sameUuid(s.uuid, m.serviceData!))) return false;
    // Bound devices are not taken twice.
    return !this.#devices.some((o) => o !== d && o.address === addr);
  }

  #discover(p: NoblePeripheral): void {
    if (this.#stopped) return;
    for (const d of this.#devices) {
      if (!this.#matches(d, p)) continue;
      if (d.address === undefined) {
        d.address = p.address.toLowerCase();
        this.#o.log.info({ device: d.target.key, address: d.address }, 'BLE device found');
      }
      d.rssi = p.rssi;
      if (d.target.kind === 'advert') this.#advert(d, p);
      else {
        d.peripheral = p;
        this.#maybeConnect();
      }
      return;
    }
  }

  #advert(d: Device, p: NoblePeripheral): void {
    const want = d.target.match.serviceData === undefined ? undefined : nobleUuid(d.target.match.serviceData);
    const now = { monoMs: this.#o.clock.monoMs(), wallMs: this.#o.clock.wallMs() };
    for (const s of p.advertisement.serviceData ?? []) {
      if (want !== undefined && !sameUuid(s.uuid, want)) continue;
      const last = d.lastAdvert;
      if (last && last.bytes.equals(s.data) && now.monoMs - last.monoMs < (this.#o.advertRepeatMs ?? 5000)) continue;
      d.lastAdvert = { bytes: Buffer.from(s.data), monoMs: now.monoMs };
      if (d.state !== 'streaming') {
        if (d.awaySince) this.#gapEnded(d, now.monoMs);
        d.state = 'streaming';
      }
      this.#o.onPacket({ key: d.target.key, address: d.address!, source: 'advert', bytes: s.data, ...now });
    }
  }

  #busy(): { connecting: number; connected: number } {
    let connecting = 0;
    let connected = 0;
    for (const d of this.#devices) {
      if (d.target.kind !== 'connect') continue;
      if (d.state === 'connecting') connecting++;
      else if (d.state === 'discovering' || d.state === 'subscribing' || d.state === 'streaming') connected++;
    }
    return { connecting, connected };
  }

  /** Starts the next due attempts, within the caps. */
  #maybeConnect(): void {
    if (this.#stopped || this.#adapter !== 'poweredOn') return;
    const now = this.#o.clock.monoMs();
    for (const d of this.#devices) {
      const busy = this.#busy();
      if (busy.connecting >= (this.#o.maxConnecting ?? 1) || busy.connecting + busy.connected >= (this.#o.maxConnections ?? 4)) return;
      if (d.target.kind !== 'connect' || !d.peripheral) continue;
      if (d.state === 'searching' || (d.state === 'backing-off' && now >= d.retryAtMono)) void this.#connect(d, d.peripheral);
    }
  }

  async #step<T>(d: Device, attempt: number, what: string, work: Promise<T>): Promise<T> {
    const ms = this.#o.stepTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StepTimeout(`${what} timed out after ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      if (attempt !== d.attempt) throw new StepTimeout('abandoned');
    }
  }

  async #connect(d: Device, p: NoblePeripheral): Promise<void> {
    const attempt = ++d.attempt;
    d.state = 'connecting';
    try {
      await this.#step(d, attempt, 'connect', p.connectAsync());
      p.once('disconnect', () => {
        if (attempt === d.attempt && d.state !== 'backing-off') this.#lost(d, 'disconnected');
      });
      d.state = 'discovering';
      const wanted = [...new Set([...d.target.subscribe, ...d.target.reads.map((r) => r.characteristic), ...d.target.writes.map((w) => w.characteristic)])];
      const { characteristics } = await this.#step(d, attempt, 'service discovery', p.discoverSomeServicesAndCharacteristicsAsync([], wanted.map(attributeUuid)));
      // Keyed by the profile's spelling of each UUID, which is what the decodings are keyed by.
      const byUuid = new Map<string, NobleCharacteristic>();
      for (const u of wanted) {
        const c = characteristics.find((x) => sameUuid(x.uuid, u));
        if (c) byUuid.set(u, c);
      }
      const missing = wanted.filter((u) => !byUuid.has(u));
      if (missing.length > 0) throw new Error(`the device has no characteristic ${missing.join(', ')}`);
      d.state = 'subscribing';
      for (const uuid of d.target.subscribe) {
        const c = byUuid.get(uuid)!;
        c.on('data', (data: Buffer) => this.#packet(d, attempt, uuid, data));
        await this.#step(d, attempt, `subscribing to ${uuid}`, c.subscribeAsync());
      }
      for (const w of d.target.writes) await this.#step(d, attempt, `writing to ${w.characteristic}`, byUuid.get(w.characteristic)!.writeAsync(Buffer.from(w.bytes), false));
      for (const r of d.target.reads) this.#poll(d, attempt, byUuid.get(r.characteristic)!, r.characteristic, r.everyMs);
      d.state = 'streaming';
      d.failures = 0;
      d.lastError = undefined;
      d.backoff.reset();
      this.#o.log.info({ device: d.target.key, address: d.address }, 'BLE device streaming');
      if (d.awaySince) this.#gapEnded(d, this.#o.clock.monoMs());
    } catch (e) {
      if (attempt !== d.attempt || this.#stopped) return;
      const state = p.state;
      this.#failed(d, (e as Error).message);
      // A connect that never answered blocks every later one on Linux until it is cancelled; a
      // half-open link must not hold one of the few connections the controller has.
      if (state === 'connecting') p.cancelConnect?.();
      else if (state === 'connected') p.disconnectAsync().catch(() => {});
    } finally {
      this.#maybeConnect();
    }
  }

  #poll(d: Device, attempt: number, c: NobleCharacteristic, source: string, everyMs: number): void {
    const read = () => {
      if (attempt !== d.attempt) return;
      c.readAsync().then((data) => this.#packet(d, attempt, source, data), () => {});
    };
    read();
    d.timers.push(setInterval(read, everyMs));
  }

  #packet(d: Device, attempt: number, source: string, data: Buffer): void {
    if (attempt !== d.attempt || this.#stopped) return;
    this.#o.onPacket({ key: d.target.key, address: d.address!, source, bytes: data, monoMs: this.#o.clock.monoMs(), wallMs: this.#o.clock.wallMs() });
  }

  #clearTimers(d: Device): void {
    for (const t of d.timers) clearInterval(t);
    d.timers = [];
  }

  /** A step failed: back off, and say so (first failure at warn, then every 10th). */
  #failed(d: Device, reason: string): void {
    this.#clearTimers(d);
    d.attempt++;
    d.failures++;
    d.lastError = reason;
    d.state = 'backing-off';
    const wait = d.backoff.next();
    d.retryAtMono = this.#o.clock.monoMs() + wait;
    d.awaySince ??= { monoMs: this.#o.clock.monoMs(), reason };
    if (d.failures === 1 || d.failures % 10 === 0) this.#o.log.warn({ device: d.target.key, address: d.address, failures: d.failures, retryInMs: Math.round(wait), err: reason }, 'BLE device failed; backing off');
    d.timers.push(setTimeout(() => this.#maybeConnect(), wait));
  }

  /** A streaming device went away (out of range, powered off, adapter off). */
  #lost(d: Device, reason: string): void {
    this.#o.log.warn({ device: d.target.key, address: d.address, reason }, 'BLE device lost; reconnecting with backoff');
    d.awaySince ??= { monoMs: this.#o.clock.monoMs(), reason };
    this.#failed(d, reason);
  }

  #gapEnded(d: Device, toMonoMs: number): void {
    const away = d.awaySince!;
    d.awaySince = undefined;
    this.#o.onGap({ key: d.target.key, fromMonoMs: away.monoMs, toMonoMs, reason: away.reason });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#noble.removeListener('stateChange', this.#onState);
    this.#noble.removeListener('discover', this.#onDiscover);
    for (const d of this.#devices) {
      this.#clearTimers(d);
      d.attempt++;
    }
    // An adapter that does not answer is not waited for: stopping must always end.
    const answered = (p: Promise<unknown>) => Promise.race([p.catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
    if (this.#adapter === 'poweredOn') await answered(this.#noble.stopScanningAsync());
    // Only live links get a disconnect: the bindings answer nothing for a link that is not there.
    // A controller that does not answer in a second is not waited for.
    const links = this.#devices.map((d) => d.peripheral).filter((p): p is NoblePeripheral => p?.state === 'connected' || p?.state === 'connecting');
    for (const p of links) if (p.state === 'connecting') p.cancelConnect?.();
    await answered(Promise.all(links.filter((p) => p.state === 'connected').map((p) => p.disconnectAsync())));
  }
}

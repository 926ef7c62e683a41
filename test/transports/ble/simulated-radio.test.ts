// The simulated BLE radio, driven through the REAL noble (@abandonware/noble/with-bindings): what
// noble's own objects (its Peripheral, Service, Characteristic) show and do over it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once, type EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Characteristic, Peripheral } from '@abandonware/noble';
import { HCI, SimulatedPeripheral, SimulatedRadio, type SimulatedPeripheralOptions } from '../../../src/transports/simulated/ble-radio.js';
import { until } from '../../helpers/wait.js';

const TIMEOUT = { timeout: 15_000 };
const requireCjs = createRequire(import.meta.url);

/** What these tests use of the noble object (its index.d.ts types it as a module of functions). */
interface Noble extends EventEmitter {
  readonly state: string;
  address: string;
  startScanningAsync(serviceUuids?: string[], allowDuplicates?: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
}

function nobleOver(radio: SimulatedRadio): Noble {
  return requireCjs('@abandonware/noble/with-bindings')(radio) as Noble;
}

const HRM = 'aa:bb:cc:dd:ee:01';
const THERMO = 'aa:bb:cc:dd:ee:02';
const NUS_SERVICE = '6E400001-B5A3-F393-E0A9-E50E24DCCA9E';
const NUS_TX = '6E400003-B5A3-F393-E0A9-E50E24DCCA9E';

/** A heart-rate monitor: 180d with measurement (notify), sensor location (read), control point (write). */
function hrm(o: Partial<SimulatedPeripheralOptions> = {}, onWrite?: (data: Buffer) => void): SimulatedPeripheral {
  return new SimulatedPeripheral({
    address: HRM,
    name: 'HRM-1',
    rssi: -55,
    advertIntervalMs: 20,
    advertisement: { serviceUuids: ['180D'], manufacturerData: Buffer.from([0x59, 0x00, 0x01, 0x02]) },
    services: [
      {
        uuid: '180D',
        characteristics: [
          { uuid: '2A37', properties: ['notify'] },
          { uuid: '2A38', properties: ['read'], value: Buffer.from([0x01]) },
          { uuid: '2A39', properties: ['write'], onWrite },
        ],
      },
      { uuid: NUS_SERVICE, characteristics: [{ uuid: NUS_TX, properties: ['notify'] }] },
    ],
    ...o,
  });
}

/** A BTHome v2 thermometer: non-connectable, its service data changes at every advertisement. */
function thermometer(): SimulatedPeripheral {
  let packet = 0;
  return new SimulatedPeripheral({
    address: THERMO,
    addressType: 'random',
    rssi: -70,
    advertIntervalMs: 20,
    connectable: false,
    advertisement: () => {
      packet = (packet + 1) & 0xff;
      return { localName: 'THERMO', serviceData: [{ uuid: 'FCD2', data: Buffer.from([0x40, 0x00, packet, 0x02, 0xc4, 0x09]) }] };
    },
  });
}

/** A radio with noble over it, powered on; everything is closed after the test. */
async function setup(t: { after(fn: () => void): void }, ...peripherals: SimulatedPeripheral[]): Promise<{ radio: SimulatedRadio; noble: Noble }> {
  const radio = new SimulatedRadio();
  t.after(() => radio.close());
  for (const p of peripherals) radio.add(p);
  const noble = nobleOver(radio);
  const [state] = await once(noble, 'stateChange');
  assert.equal(state, 'poweredOn');
  return { radio, noble };
}

/** Scans until a peripheral with this address is discovered; returns noble's Peripheral. */
async function find(noble: Noble, address: string, allowDuplicates = false): Promise<Peripheral> {
  let found: Peripheral | undefined;
  const onDiscover = (p: Peripheral) => {
    if (p.address === address) found = p;
  };
  noble.on('discover', onDiscover);
  await noble.startScanningAsync([], allowDuplicates);
  await until(() => found !== undefined, `discovery of ${address}`, 5000);
  noble.removeListener('discover', onDiscover);
  await noble.stopScanningAsync();
  return found!;
}

/** Connects and discovers the heart-rate characteristics through noble. */
async function connectHrm(noble: Noble): Promise<{ p: Peripheral; chars: Map<string, Characteristic> }> {
  const p = await find(noble, HRM);
  await p.connectAsync();
  const { characteristics } = await p.discoverSomeServicesAndCharacteristicsAsync(['180d'], ['2a37', '2a38', '2a39']);
  return { p, chars: new Map(characteristics.map((c) => [c.uuid, c])) };
}

/** 'pending' if the promise has not settled after `ms`. */
async function settledWithin<T>(p: Promise<T>, ms: number): Promise<'pending' | 'resolved' | 'rejected'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'pending'>((r) => (timer = setTimeout(() => r('pending'), ms)));
  try {
    return await Promise.race([p.then(() => 'resolved' as const, () => 'rejected' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('noble initialises the radio lazily and reaches poweredOn; the adapter address comes through', TIMEOUT, async (t) => {
  const radio = new SimulatedRadio({ address: '00:1a:7d:da:71:13' });
  t.after(() => radio.close());
  const noble = nobleOver(radio);
  assert.equal(radio.initialized, false, 'noble calls init() only when someone listens for stateChange');
  const [state] = await once(noble, 'stateChange');
  assert.equal(state, 'poweredOn');
  assert.equal(noble.state, 'poweredOn');
  assert.equal(noble.address, '00:1a:7d:da:71:13');
  assert.deepEqual(radio.calls.map((c) => c.method), ['init']);
});

test('an unauthorized adapter: noble reports it, refuses to scan, and comes on when the radio does', TIMEOUT, async (t) => {
  const radio = new SimulatedRadio({ state: 'unauthorized' });
  t.after(() => radio.close());
  const noble = nobleOver(radio);
  assert.equal(noble.state, 'unknown', 'reading the state initialises the bindings; the answer is asynchronous');
  const [state] = await once(noble, 'stateChange');
  assert.equal(state, 'unauthorized');
  await assert.rejects(noble.startScanningAsync([], true), /Could not start scanning, state is unauthorized/);
  const on = once(noble, 'stateChange');
  radio.setState('unauthorized'); // the same state again: no event (bindings.js 128)
  radio.powerOn();
  assert.deepEqual(await on, ['poweredOn']);
  radio.setState('unsupported');
  assert.deepEqual(await once(noble, 'stateChange'), ['unsupported']);
});

test('scanning discovers both peripherals with their advertisement fields as noble exposes them', TIMEOUT, async (t) => {
  const { radio, noble } = await setup(t, hrm(), thermometer());
  const seen = new Map<string, Peripheral>();
  noble.on('discover', (p: Peripheral) => seen.set(p.address, p));
  const [filterDuplicates] = await Promise.all([once(noble, 'scanStart').then(([f]) => f as boolean), noble.startScanningAsync()]);
  assert.equal(filterDuplicates, true);
  await until(() => seen.size === 2, 'both peripherals discovered', 5000);

  const h = seen.get(HRM)!;
  assert.equal(h.id, 'aabbccddee01');
  assert.equal(h.uuid, 'aabbccddee01');
  assert.equal(h.addressType, 'public');
  assert.equal(h.connectable, true);
  assert.equal(h.rssi, -55);
  assert.equal(h.state, 'disconnected');
  assert.equal(h.advertisement.localName, 'HRM-1');
  assert.deepEqual(h.advertisement.serviceUuids, ['180d']);
  assert.deepEqual(h.advertisement.manufacturerData, Buffer.from([0x59, 0x00, 0x01, 0x02]));
  assert.deepEqual(h.advertisement.serviceData, []);

  const th = seen.get(THERMO)!;
  assert.equal(th.id, 'aabbccddee02');
  assert.equal(th.addressType, 'random');
  assert.equal(th.connectable, false);
  assert.equal(th.advertisement.localName, 'THERMO');
  assert.deepEqual(th.advertisement.serviceUuids, []);
  assert.equal(th.advertisement.manufacturerData, undefined);
  assert.equal(th.advertisement.serviceData.length, 1);
  assert.equal(th.advertisement.serviceData[0]!.uuid, 'fcd2');
  assert.deepEqual(th.advertisement.serviceData[0]!.data.subarray(3), Buffer.from([0x02, 0xc4, 0x09]));

  assert.ok(radio.calls.some((c) => c.method === 'startScanning'));
  await noble.stopScanningAsync();
  assert.equal(radio.scanning, false);
});

test('without allowDuplicates each peripheral is reported once; with it, at every advertisement, with fresh data', TIMEOUT, async (t) => {
  const { noble } = await setup(t, hrm(), thermometer());
  const counts = new Map<string, number>();
  const packets: number[] = [];
  noble.on('discover', (p: Peripheral) => {
    counts.set(p.address, (counts.get(p.address) ?? 0) + 1);
    if (p.address === THERMO) packets.push(p.advertisement.serviceData[0]!.data[2]!);
  });

  await noble.startScanningAsync([], false);
  await until(() => counts.size === 2, 'both discovered', 5000);
  await sleep(150); // seven more advertising intervals
  assert.deepEqual([counts.get(HRM), counts.get(THERMO)], [1, 1]);
  await noble.stopScanningAsync();

  counts.clear();
  packets.length = 0;
  await noble.startScanningAsync([], true);
  await until(() => (counts.get(HRM) ?? 0) >= 4 && (counts.get(THERMO) ?? 0) >= 4, 'repeated discoveries', 5000);
  await noble.stopScanningAsync();
  for (let i = 1; i < packets.length; i++) assert.equal(packets[i], (packets[i - 1]! + 1) & 0xff, 'each advertisement is a fresh BTHome packet');
});

test('a service filter applies as the hci bindings apply it: exact strings over serviceUuids and serviceData', TIMEOUT, async (t) => {
  const { noble } = await setup(t, hrm(), thermometer());
  const seen: string[] = [];
  noble.on('discover', (p: Peripheral) => seen.push(p.address));

  /** Scans until `expect` are all heard, then six intervals more; returns what was heard. */
  const scan = async (filter: string[], expect: string[]) => {
    seen.length = 0;
    await noble.startScanningAsync(filter, true);
    await until(() => expect.every((a) => seen.includes(a)), `discovery of ${expect.join(', ')}`, 5000);
    await sleep(120);
    await noble.stopScanningAsync();
    return new Set(seen);
  };
  assert.deepEqual(await scan(['180d'], [HRM]), new Set([HRM]));
  assert.deepEqual(await scan(['fcd2'], [THERMO]), new Set([THERMO]), 'service data UUIDs count');
  assert.deepEqual(await scan(['180D'], []), new Set(), 'noble compares UUID strings exactly: uppercase matches nothing');
});

test('connect, discover, subscribe and stream, write, read: through noble Characteristic objects', TIMEOUT, async (t) => {
  const written: Buffer[] = [];
  const sensor = hrm({}, (data) => written.push(data));
  const { noble } = await setup(t, sensor);

  const p = await find(noble, HRM);
  await p.connectAsync();
  assert.equal(p.state, 'connected');
  assert.equal(sensor.connected, true);
  assert.equal(sensor.connects, 1);
  await until(() => p.mtu === 23, 'the MTU exchange', 2000);

  const { services, characteristics } = await p.discoverSomeServicesAndCharacteristicsAsync(['180d'], ['2a37', '2a38', '2a39']);
  assert.deepEqual(services.map((s) => s.uuid), ['180d']);
  assert.equal(services[0]!.name, 'Heart Rate', "noble names the service from its own table");
  assert.deepEqual(
    characteristics.map((c) => [c.uuid, c.properties]),
    [['2a37', ['notify']], ['2a38', ['read']], ['2a39', ['write']]],
  );
  const chars = new Map(characteristics.map((c) => [c.uuid, c]));

  // Subscribe, then the sensor streams; noble's 'data' events carry the bytes in order.
  const hr = chars.get('2a37')!;
  assert.equal(sensor.notify('2a37', Buffer.from([0, 1])), false, 'not subscribed yet: nothing is sent');
  await hr.subscribeAsync();
  assert.equal(sensor.subscribed('2a37'), true);
  assert.equal(sensor.subscriptions, 1);
  const got: Array<{ data: Buffer; isNotification: boolean }> = [];
  hr.on('data', (data: Buffer, isNotification: boolean) => got.push({ data, isNotification }));
  let bpm = 60;
  sensor.startStreaming('2a37', 5, () => Buffer.from([0x00, bpm++]));
  await until(() => got.length >= 10, 'ten notifications', 5000);
  sensor.stopStreaming();
  assert.deepEqual(got.slice(0, 10).map((g) => [...g.data]), Array.from({ length: 10 }, (_, i) => [0x00, 60 + i]));
  assert.ok(got.every((g) => g.isNotification));

  // Write with response: the peripheral records it and its hook sees it.
  await chars.get('2a39')!.writeAsync(Buffer.from([0x01]), false);
  assert.deepEqual(sensor.writes, [{ service: '180d', char: '2a39', data: Buffer.from([0x01]), withoutResponse: false }]);
  assert.deepEqual(written, [Buffer.from([0x01])]);

  // Read: the value, not a notification.
  assert.deepEqual(await chars.get('2a38')!.readAsync(), Buffer.from([0x01]));
  assert.equal(sensor.reads, 1);

  // Unsubscribed: notifications are no longer sent.
  await hr.unsubscribeAsync();
  assert.equal(sensor.subscribed('2a37'), false);
  assert.equal(sensor.notify('2a37', Buffer.from([0, 99])), false);

  // 128-bit UUIDs: 32 lowercase hex digits. (Rediscovering services makes noble drop the
  // Characteristic objects it had for them: noble.js 328-330. So this comes last.)
  const all = await p.discoverServicesAsync([]);
  assert.deepEqual(all.map((s) => s.uuid), ['180d', '6e400001b5a3f393e0a9e50e24dcca9e']);
  const [nus] = await all[1]!.discoverCharacteristicsAsync([]);
  assert.equal(nus!.uuid, '6e400003b5a3f393e0a9e50e24dcca9e');
  assert.deepEqual(nus!.properties, ['notify']);

  const [reason] = await Promise.all([once(p, 'disconnect').then(([r]) => r as number), p.disconnectAsync()]);
  assert.equal(reason, HCI.LOCAL_HOST_TERMINATED);
  assert.equal(p.state, 'disconnected');
  assert.equal(sensor.connected, false);
});

test('GATT state is per connection, as in gatt.js: characteristics from an earlier link must be rediscovered', TIMEOUT, async (t) => {
  const sensor = hrm();
  const { radio, noble } = await setup(t, sensor);
  const { p, chars } = await connectHrm(noble);
  await chars.get('2a37')!.subscribeAsync();
  await p.disconnectAsync();
  assert.equal(sensor.subscribed('2a37'), false, 'the subscription went with the link');

  // Not connected: the bindings ignore the call (noble warning: unknown peripheral).
  assert.equal(await settledWithin(chars.get('2a38')!.readAsync(), 100), 'pending');
  assert.ok(radio.warnings.includes('noble warning: unknown peripheral aabbccddee01'));

  await p.connectAsync();
  await assert.rejects(chars.get('2a38')!.readAsync(), TypeError, 'a stale characteristic throws, as gatt.js would');
  const { characteristics } = await p.discoverSomeServicesAndCharacteristicsAsync(['180d'], ['2a38']);
  assert.deepEqual(await characteristics[0]!.readAsync(), Buffer.from([0x01]));
  assert.equal(sensor.connects, 2);
});

test('descriptors, ATT handles, RSSI, and writes without response, through noble', TIMEOUT, async (t) => {
  const sensor = hrm();
  const { radio, noble } = await setup(t, sensor);
  const { p, chars } = await connectHrm(noble);

  assert.equal(await p.updateRssiAsync(), -55);

  // The CCCD: discovered, read, and written to subscribe (as a central may do by hand).
  const hr = chars.get('2a37')!;
  const [cccd] = await hr.discoverDescriptorsAsync();
  assert.equal(cccd!.uuid, '2902');
  assert.deepEqual(await cccd!.readValueAsync(), Buffer.from([0x00, 0x00]));
  await cccd!.writeValueAsync(Buffer.from([0x01, 0x00]));
  assert.equal(sensor.subscribed('2a37'), true);
  assert.deepEqual(await cccd!.readValueAsync(), Buffer.from([0x01, 0x00]));
  const [notification] = await Promise.all([once(hr, 'data'), Promise.resolve(sensor.notify('2a37', Buffer.from([0x00, 72])))]);
  assert.deepEqual(notification, [Buffer.from([0x00, 72]), true]);

  // Raw ATT handles.
  const location = sensor.handlesOf('2a38');
  assert.deepEqual(await p.readHandleAsync(location.valueHandle), Buffer.from([0x01]));
  await p.writeHandleAsync(sensor.handlesOf('2a39').valueHandle, Buffer.from([0x02]), false);
  assert.deepEqual(sensor.writes.map((w) => [w.char, [...w.data]]), [['2a39', [0x02]]]);

  // A write command to a characteristic without writeWithoutResponse: noble's write completes
  // (it is confirmed once sent), the peripheral drops it.
  await chars.get('2a39')!.writeAsync(Buffer.from([0x03]), true);
  assert.equal(sensor.writes.length, 1);
  assert.ok(radio.warnings.some((w) => /not permitted/.test(w)));

  // A write request to a read-only characteristic is refused: noble never hears back.
  assert.equal(await settledWithin(chars.get('2a38')!.writeAsync(Buffer.from([0x09]), false), 100), 'pending');
});

test('a refused connect gives noble its connect error', TIMEOUT, async (t) => {
  const sensor = hrm({ connectBehaviour: 'refuse' });
  const { noble } = await setup(t, sensor);
  const p = await find(noble, HRM);
  await assert.rejects(p.connectAsync(), { message: 'Connection Failed to be Established (0x3e)' });
  assert.equal(p.state, 'error');
  assert.equal(sensor.connectAttempts, 1);
  assert.equal(sensor.connects, 0);

  sensor.connectBehaviour = 'accept';
  await p.connectAsync();
  assert.equal(p.state, 'connected');
});

test('a hanging connect never resolves and holds the controller; cancelConnect frees it for the next', TIMEOUT, async (t) => {
  const stuck = hrm({ connectBehaviour: 'hang' });
  const other = new SimulatedPeripheral({ address: 'aa:bb:cc:dd:ee:03', advertIntervalMs: 20, services: [] });
  const { radio, noble } = await setup(t, stuck, other);
  const ps = await find(noble, HRM);
  const po = await find(noble, 'aa:bb:cc:dd:ee:03');

  const hanging = ps.connectAsync();
  assert.equal(await settledWithin(hanging, 200), 'pending');
  assert.equal(ps.state, 'connecting');

  // The hci bindings make one connection at a time: the next one waits behind the hanging one.
  const queued = po.connectAsync();
  assert.equal(await settledWithin(queued, 100), 'pending');
  assert.deepEqual(radio.connecting, { pending: 'aabbccddee01', queued: ['aabbccddee03'] });

  // noble's Peripheral.cancelConnect fails the attempt itself and tells the bindings.
  ps.cancelConnect();
  await assert.rejects(hanging, /connection canceled!/);
  await queued;
  assert.equal(po.state, 'connected');
  assert.equal(other.connected, true);
  assert.equal(stuck.connects, 0);
  assert.ok(radio.calls.some((c) => c.method === 'cancelConnect' && c.args[0] === 'aabbccddee01'));
});

test("the peripheral dropping the link gives noble's 'disconnect' with the reason; in-flight requests never answer", TIMEOUT, async (t) => {
  const sensor = hrm();
  const { noble } = await setup(t, sensor);
  const { p, chars } = await connectHrm(noble);
  const disconnected = once(p, 'disconnect');
  const inFlight = chars.get('2a38')!.readAsync();
  assert.equal(sensor.drop(HCI.REMOTE_USER_TERMINATED), true);
  assert.deepEqual(await disconnected, [0x13]);
  assert.equal(await settledWithin(inFlight, 100), 'pending', 'a read in flight when the link dropped never answers');
  assert.equal(p.state, 'disconnected');
  assert.deepEqual(sensor.disconnectReasons, [0x13]);
  assert.equal(sensor.drop(), false, 'no link to drop');

  // A link that drops during service discovery: 'disconnect' (0x08), and discovery never completes.
  await p.connectAsync();
  sensor.disconnectDuringDiscovery = true;
  const dropped = once(p, 'disconnect');
  const discovery = p.discoverSomeServicesAndCharacteristicsAsync([], []);
  assert.deepEqual(await dropped, [HCI.CONNECTION_TIMEOUT]);
  assert.equal(await settledWithin(discovery, 100), 'pending');
});

test('powerOff: stateChange poweredOff, links drop, scanning stops; powerOn does not resume the scan', TIMEOUT, async (t) => {
  const sensor = hrm();
  const { radio, noble } = await setup(t, sensor, thermometer());
  const { p } = await connectHrm(noble);
  let discoveries = 0;
  noble.on('discover', () => discoveries++);
  await noble.startScanningAsync([], true);
  await until(() => discoveries > 0, 'discoveries', 5000);

  const events: string[] = [];
  noble.on('stateChange', (s: string) => events.push(`state ${s}`));
  p.on('disconnect', (reason: number) => events.push(`disconnect ${reason}`));
  radio.powerOff();
  await until(() => events.length === 2, 'stateChange and disconnect', 5000);
  assert.deepEqual(events, ['state poweredOff', `disconnect ${HCI.LOCAL_HOST_TERMINATED}`]);
  assert.equal(noble.state, 'poweredOff');
  assert.equal(p.state, 'disconnected');
  assert.equal(sensor.connected, false);
  assert.equal(radio.scanning, false);

  const before = discoveries;
  await sleep(100);
  assert.equal(discoveries, before, 'nothing is heard with the radio off');
  radio.powerOn();
  await until(() => noble.state === 'poweredOn', 'poweredOn', 5000);
  await sleep(100);
  assert.equal(discoveries, before, 'the controller does not resume a scan after power comes back');
  await noble.startScanningAsync([], true);
  await until(() => discoveries > before, 'discoveries after restarting the scan', 5000);
});

test('remove(): the peripheral is no longer discovered and its link drops (0x08); add() brings it back', TIMEOUT, async (t) => {
  const sensor = hrm({ advertiseWhileConnected: true });
  const { radio, noble } = await setup(t, sensor);
  const { p } = await connectHrm(noble);
  let heard = 0;
  noble.on('discover', (x: Peripheral) => {
    if (x.address === HRM) heard++;
  });
  await noble.startScanningAsync([], true);
  await until(() => heard >= 2, 'discoveries while in range', 5000);

  const disconnected = once(p, 'disconnect');
  radio.remove(sensor);
  assert.deepEqual(await disconnected, [HCI.CONNECTION_TIMEOUT]);
  const before = heard;
  await sleep(120);
  assert.equal(heard, before, 'out of range: no discoveries');
  assert.deepEqual(radio.peripherals, []);

  radio.add(sensor);
  await until(() => heard > before, 'discovered again back in range', 5000);
});

test('a connection to a peripheral out of range waits for it, as the controller does', TIMEOUT, async (t) => {
  const sensor = hrm();
  const { radio, noble } = await setup(t, sensor);
  const p = await find(noble, HRM);
  radio.remove(sensor);
  const connecting = p.connectAsync();
  assert.equal(await settledWithin(connecting, 100), 'pending');
  radio.add(sensor);
  await connecting;
  assert.equal(p.state, 'connected');
});

test('close() stops every timer: no events afterwards', TIMEOUT, async (t) => {
  const countTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
  const baseline = countTimers();
  const sensor = hrm();
  const { radio, noble } = await setup(t, sensor, thermometer());
  const { chars } = await connectHrm(noble);
  await chars.get('2a37')!.subscribeAsync();
  sensor.startStreaming('2a37', 5, () => Buffer.from([0, 1]));
  await noble.startScanningAsync([], true);
  assert.ok(countTimers() > baseline);

  let after = 0;
  radio.close();
  const count = () => after++;
  for (const e of ['discover', 'read', 'disconnect', 'stateChange']) radio.on(e, count);
  radio.powerOff();
  await sleep(60);
  assert.equal(after, 0);
  assert.equal(radio.closed, true);
  assert.equal(countTimers(), baseline);
});

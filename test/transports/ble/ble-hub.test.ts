// The hub's BLE side end to end: the real noble library over the simulated radio (through its
// bindings seam), the BLE central, the shipped profiles and decoders, into samples. Faults are
// caused in the radio: a device walking out of range and back, a connect that never completes,
// a link dropped during service discovery, malformed notifications, the adapter powering off and
// on, a BTHome packet with a wrong key and a replayed one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BleDevices, type ConfiguredBleDevice } from '../../../src/hub/ble-devices.js';
import { SystemClock } from '../../../src/ops/clock.js';
import { createLogger } from '../../../src/ops/log.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../../src/profiles/load.js';
import type { TimedSample } from '../../../src/profiles/timing.js';
import { loadNoble } from '../../../src/transports/ble/load-noble.js';
import { bthomeLight, heartRateStrap, polarH10, pulseOximeter } from '../../../src/transports/simulated/ble-peripherals.js';
import { SimulatedPeripheral, SimulatedRadio } from '../../../src/transports/simulated/ble-radio.js';
import { tempDir } from '../../helpers/tmp.js';
import { until } from '../../helpers/wait.js';

const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
const profile = (id: string) => profiles.get(id)!;
const TIMEOUT = { timeout: 60_000 };

interface Rig {
  radio: SimulatedRadio;
  ble: BleDevices;
  samples: Map<string, TimedSample[]>;
  gaps: string[];
  log: Array<{ msg: string; [k: string]: unknown }>;
  of(key: string, channel: string): TimedSample[];
}

async function rig(t: { after(fn: () => Promise<void> | void): void }, devices: ConfiguredBleDevice[], peripherals: SimulatedPeripheral[], central = {}, countersFile?: string): Promise<Rig> {
  const radio = new SimulatedRadio();
  for (const p of peripherals) radio.add(p);
  const samples = new Map<string, TimedSample[]>();
  const gaps: string[] = [];
  const log: Rig['log'] = [];
  const logger = createLogger('debug', new Writable({ write(c, _e, cb) { for (const l of String(c).trim().split('\n')) log.push(JSON.parse(l)); cb(); } }));
  const ble = new BleDevices({
    devices,
    clock: new SystemClock('assume-synced'),
    log: logger,
    load: () => loadNoble(radio),
    central: { stepTimeoutMs: 300, backoffMinMs: 50, backoffMaxMs: 200, ...central },
    onSamples: (key, s) => samples.set(key, [...(samples.get(key) ?? []), ...s]),
    onGap: (key) => gaps.push(key),
    onBound: () => {},
    ...(countersFile ? { countersFile } : {}),
  });
  t.after(async () => {
    await ble.stop();
    radio.close();
  });
  await ble.start();
  return { radio, ble, samples, gaps, log, of: (key, channel) => (samples.get(key) ?? []).filter((s) => s.channel === channel) };
}

test('many devices at once: a strap, an oximeter, a BTHome light and a Polar H10 all stream through noble', TIMEOUT, async (t) => {
  const r = await rig(t, [
    { subject: 's', profile: profile('bluetooth-sig/heart-rate'), address: 'aa:00:00:00:00:01' },
    { subject: 's', profile: profile('bluetooth-sig/pulse-oximeter') },
    { subject: 's', profile: profile('bthome/v2') },
    { subject: 's', profile: profile('polar/h10') },
  ], [
    heartRateStrap({ address: 'aa:00:00:00:00:01', periodMs: 50 }),
    pulseOximeter({ address: 'aa:00:00:00:00:02', periodMs: 50 }),
    bthomeLight({ address: 'aa:00:00:00:00:03', periodMs: 100, wallMs: () => Date.UTC(2026, 0, 1, 12) }),
    polarH10({ address: 'aa:00:00:00:00:04', periodMs: 50 }),
  ]);
  const [strap, oximeter, light, h10] = r.ble.keys;
  assert.equal(strap, 'ble:aa:00:00:00:00:01');
  await until(() => r.of(strap!, 'rr').length >= 5 && r.of(oximeter!, 'spo2').length >= 5 && r.of(light!, 'illuminance').length >= 3
    && r.of(h10!, 'ecg').length >= 146 && r.of(h10!, 'acc_z').length >= 72, 'every device to stream', 20_000);
  assert.ok(r.of(strap!, 'hr').every((s) => typeof s.value === 'number' && s.value > 40 && s.value < 90), 'hr');
  assert.ok(r.of(oximeter!, 'spo2').every((s) => s.value === 96 || s.value === 97 || s.value === 98), 'spo2');
  assert.ok(r.of(light!, 'illuminance').every((s) => typeof s.value === 'number' && s.value > 600), JSON.stringify(r.of(light!, 'illuminance').map((s) => s.value)));
  // The H10's ECG frames (73 samples each) are timed from their timestamp, 1/130 s apart.
  const ecg = r.of(h10!, 'ecg').slice(0, 73);
  for (let i = 1; i < ecg.length; i++) assert.ok(Math.abs(ecg[i]!.monoMs - ecg[i - 1]!.monoMs - 1000 / 130) < 0.01);
  assert.ok(r.of(h10!, 'acc_y').every((s) => typeof s.value === 'number' && Math.abs(s.value + 0.98) < 0.02), 'acc_y');
  assert.deepEqual(r.ble.describe().map((d) => d.state), ['connected', 'connected', 'connected', 'connected']);
});

test('a device that walks out of range and back: one gap, then streaming again', TIMEOUT, async (t) => {
  const strap = heartRateStrap({ address: 'aa:00:00:00:00:11', periodMs: 30 });
  const r = await rig(t, [{ subject: 's', profile: profile('bluetooth-sig/heart-rate') }], [strap]);
  const key = r.ble.keys[0]!;
  await until(() => r.of(key, 'hr').length >= 3, 'streaming');
  r.radio.remove(strap);
  await until(() => r.ble.describe()[0]!.state === 'backing-off', 'the loss to be noticed');
  const before = r.of(key, 'hr').length;
  r.radio.add(strap);
  await until(() => r.of(key, 'hr').length >= before + 3, 'streaming again', 20_000);
  assert.deepEqual(r.gaps, [key]);
  assert.ok(r.log.some((l) => l.msg === 'BLE device lost; reconnecting with backoff'));
});

test('a connect that never completes times out and is cancelled, and does not hold the others up', TIMEOUT, async (t) => {
  const stuck = heartRateStrap({ address: 'aa:00:00:00:00:21', periodMs: 30 });
  stuck.connectBehaviour = 'hang';
  const r = await rig(t, [
    { subject: 's', profile: profile('bluetooth-sig/heart-rate'), address: 'aa:00:00:00:00:21' },
    { subject: 's', profile: profile('bluetooth-sig/pulse-oximeter'), address: 'aa:00:00:00:00:22' },
  ], [stuck, pulseOximeter({ address: 'aa:00:00:00:00:22', periodMs: 30 })]);
  await until(() => r.of(r.ble.keys[1]!, 'spo2').length >= 3, 'the oximeter to stream despite the stuck strap', 20_000);
  const status = r.ble.describe();
  assert.notEqual(status[0]!.state, 'connected');
  const failures = r.ble.stats()[0]!.failures;
  assert.ok(failures >= 1);
  assert.match(String(r.log.find((l) => l.msg === 'BLE device failed; backing off')?.err), /connect timed out after 300 ms/);
  // Backed off, never in a tight loop: far fewer attempts than 300 ms steps would allow.
  assert.ok(stuck.connectAttempts <= failures + 1, `${stuck.connectAttempts} attempts`);
  // Once it answers, it is taken.
  stuck.connectBehaviour = 'accept';
  await until(() => r.of(r.ble.keys[0]!, 'hr').length >= 2, 'the strap once it answers', 20_000);
});

test('a link dropped during service discovery is retried; malformed notifications are counted and the stream goes on', TIMEOUT, async (t) => {
  let n = 0;
  const strap = new SimulatedPeripheral({
    address: 'aa:00:00:00:00:31',
    advertisement: { localName: 'HRM', serviceUuids: ['180d'] },
    services: [{ uuid: '180d', characteristics: [{ uuid: '2a37', properties: ['notify'] }] }],
    disconnectDuringDiscovery: 'characteristics',
  });
  // Every third notification is cut short (a 16-bit rate flagged, one byte sent).
  strap.startStreaming('2a37', 30, () => (++n % 3 === 0 ? Buffer.from([0x01, 0x48]) : Buffer.from([0x00, 0x48])));
  const r = await rig(t, [{ subject: 's', profile: profile('bluetooth-sig/heart-rate') }], [strap]);
  await until(() => r.ble.stats()[0]!.failures >= 1, 'the first attempt to fail in discovery');
  strap.disconnectDuringDiscovery = false;
  await until(() => r.of(r.ble.keys[0]!, 'hr').length >= 6, 'streaming after the retry', 20_000);
  const s = r.ble.stats()[0]!;
  assert.ok((s.issues.DECODE_SHORT ?? 0) >= 2, JSON.stringify(s.issues));
  assert.ok(r.of(r.ble.keys[0]!, 'hr').every((x) => x.value === 72));
});

test('the adapter powering off and on: said once, links dropped, scanning and streaming resume', TIMEOUT, async (t) => {
  const r = await rig(t, [{ subject: 's', profile: profile('bluetooth-sig/heart-rate') }], [heartRateStrap({ address: 'aa:00:00:00:00:41', periodMs: 30 })]);
  const key = r.ble.keys[0]!;
  await until(() => r.of(key, 'hr').length >= 3, 'streaming');
  r.radio.powerOff();
  await until(() => r.log.some((l) => /BLE unavailable: the Bluetooth adapter is powered off/.test(l.msg)), 'the power-off to be said');
  const before = r.of(key, 'hr').length;
  r.radio.powerOn();
  await until(() => r.of(key, 'hr').length >= before + 3, 'streaming after power-on', 20_000);
  assert.equal(r.log.filter((l) => /BLE unavailable/.test(l.msg)).length, 1);
  assert.ok(r.log.some((l) => l.msg === 'Bluetooth adapter is on again; scanning'));
  assert.deepEqual(r.gaps, [key]);
});

// Encrypted as bthome.io/encryption specifies: AES-CCM, nonce = MAC + D2 FC + device-info byte
// + counter, 4-byte tag, no associated data; written here independently of the decoder.
const key = Buffer.from('231d39c1d7cc1ab1aee224cd096db932', 'hex');
function encryptedLight(address: string, counter: number, lux: number, withKey = key): Buffer {
    const info = 0x41;
    const plain = Buffer.alloc(4);
    plain[0] = 0x05;
    plain.writeUIntLE(lux * 100, 1, 3);
    const ctr = Buffer.alloc(4);
    ctr.writeUInt32LE(counter);
    const nonce = Buffer.concat([Buffer.from(address.replace(/:/g, ''), 'hex'), Buffer.from([0xd2, 0xfc, info]), ctr]);
    const cipher = createCipheriv('aes-128-ccm', withKey, nonce, { authTagLength: 4 });
    const data = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([Buffer.from([info]), data, ctr, cipher.getAuthTag()]);
}

test('BTHome with a bind key: the right key decodes, a wrong key and a replayed packet are refused', TIMEOUT, async (t) => {
  const address = 'aa:00:00:00:00:51';
  const packet = (counter: number, lux: number, withKey = key) => encryptedLight(address, counter, lux, withKey);
  const queue = [packet(10, 100), packet(11, 200, Buffer.alloc(16, 7)), packet(10, 100), packet(12, 300)];
  let current = queue[0]!;
  const sensor = new SimulatedPeripheral({ address, connectable: false, advertIntervalMs: 40, advertisement: () => ({ serviceData: [{ uuid: 'fcd2', data: current }] }) });
  const r = await rig(t, [{ subject: 's', profile: profile('bthome/v2'), address, key }], [sensor]);
  const k = r.ble.keys[0]!;
  await until(() => r.of(k, 'illuminance').length === 1, 'the first packet');
  for (const next of queue.slice(1)) {
    const packets = r.ble.stats()[0]!.packets;
    current = next;
    await until(() => r.ble.stats()[0]!.packets > packets, 'the next packet to be heard');
  }
  await until(() => r.of(k, 'illuminance').length === 2, 'the last good packet');
  assert.deepEqual(r.of(k, 'illuminance').map((s) => s.value), [100, 300]);
  const issues = r.ble.stats()[0]!.issues;
  assert.equal(issues.DECODE_INVALID, 1, `the wrong key: ${JSON.stringify(issues)}`);
  assert.equal(issues.DECODE_REPLAYED, 1, 'the replayed counter 10');
});

test('an unencrypted packet from a device with a key is refused', TIMEOUT, async (t) => {
  const address = 'aa:00:00:00:00:61';
  const sensor = bthomeLight({ address, periodMs: 50 });
  const r = await rig(t, [{ subject: 's', profile: profile('bthome/v2'), address, key: Buffer.alloc(16, 1) }], [sensor]);
  await until(() => r.ble.stats()[0]!.packets >= 2, 'packets');
  assert.equal(r.samples.size, 0);
  assert.ok((r.ble.stats()[0]!.issues.DECODE_INVALID ?? 0) >= 2);
});

test('the BTHome counter survives a restart: a packet heard before it is refused after it', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'bthome-counters.json');
  const address = 'aa:00:00:00:00:71';
  let current = encryptedLight(address, 500, 42);
  const device = () => new SimulatedPeripheral({ address, connectable: false, advertIntervalMs: 40, advertisement: () => ({ serviceData: [{ uuid: 'fcd2', data: current }] }) });
  const first = await rig(t, [{ subject: 's', profile: profile('bthome/v2'), address, key }], [device()], {}, file);
  await until(() => first.of(first.ble.keys[0]!, 'illuminance').length === 1, 'the packet');
  await first.ble.stop();
  first.radio.close();
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { [address]: 500 });
  // The same packet, replayed to a restarted hub.
  const second = await rig(t, [{ subject: 's', profile: profile('bthome/v2'), address, key }], [device()], {}, file);
  await until(() => second.ble.stats()[0]!.packets >= 1, 'the replay to be heard');
  assert.equal(second.samples.size, 0);
  assert.equal(second.ble.stats()[0]!.issues.DECODE_REPLAYED, 1);
  current = encryptedLight(address, 501, 43);
  await until(() => second.of(second.ble.keys[0]!, 'illuminance').length === 1, 'the next real packet');
});

test('Environmental Sensing service-data broadcasts (pvvx custom format on 0x181A) through noble', TIMEOUT, async (t) => {
  // MAC a4:c1:38:01:02:03 lowest byte first, 21.45 Cel, 48.20 %, 2950 mV, 87 %, counter, flags.
  const data = Buffer.from('03020138c1a46108d412860b572a00', 'hex');
  const sensor = new SimulatedPeripheral({ address: 'a4:c1:38:01:02:03', connectable: false, advertIntervalMs: 40, advertisement: { localName: 'ATC_010203', serviceData: [{ uuid: '181a', data }] } });
  const r = await rig(t, [{ subject: 's', profile: profile('pvvx/env-advert') }], [sensor]);
  const key = r.ble.keys[0]!;
  await until(() => r.of(key, 'temperature').length >= 1, 'a reading');
  assert.deepEqual([r.of(key, 'temperature')[0]!.value, r.of(key, 'humidity')[0]!.value, r.of(key, 'battery')[0]!.value], [21.45, 48.2, 87]);
  // The same advertisement, repeated, is one reading.
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(r.of(key, 'temperature').length, 1);
  assert.equal(r.ble.describe()[0]!.device_id, 'ble:a4:c1:38:01:02:03');
});

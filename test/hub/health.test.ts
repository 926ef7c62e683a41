// /healthz, /readyz and /status against a real hub: a LevelDB outbox with a tiny quota, a real
// broker stopped and started again, a serial device that is not there, and a BLE strap on the
// simulated radio that refuses connections and then accepts them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { decodeBody, decodeSigned, HubState, type Status } from '../../src/frames/codec.js';
import { DeviceSource } from '../../src/hub/device-source.js';
import { READY_OUTBOX_SHARE } from '../../src/hub/hub-health.js';
import { ManualClock, SystemClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import { statusTopic } from '../../src/publish/topics.js';
import { loadNoble } from '../../src/transports/ble/load-noble.js';
import { SerialTransport } from '../../src/transports/serial/serial-transport.js';
import { heartRateStrap } from '../../src/transports/simulated/ble-peripherals.js';
import { SimulatedRadio } from '../../src/transports/simulated/ble-radio.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';
import { CONFIG_SHA256, HUB_ID, NOW, startOpsRig, SUBJECTS, type OpsRig } from './ops-rig.js';

const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
const STRAP = 'a0:9e:1a:00:00:07';

async function readyUntil(rig: OpsRig, status: number, what: string): Promise<any> {
  let body: any;
  const end = Date.now() + 30_000;
  for (;;) {
    const r = await rig.get('/readyz');
    body = r.json();
    if (r.status === status) return body;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last answer ${JSON.stringify(body)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

test('/healthz: 503 before the hub starts, 200 while it runs, 503 from the moment it stops; no token needed', async (t) => {
  const rig = await startOpsRig(t, { start: false });
  const before = await rig.get('/healthz');
  assert.equal(before.status, 503);
  assert.equal(before.json().status, 'new');
  await rig.hub.start();
  const running = await rig.get('/healthz');
  assert.equal(running.status, 200);
  assert.equal(running.json().status, 'ok');
  const stopped = rig.hub.stop();
  const stopping = await rig.get('/healthz');
  assert.equal(stopping.status, 503);
  assert.match(stopping.json().status, /^stopp(ing|ed)$/);
  await stopped;
  const after = await rig.get('/healthz');
  assert.equal(after.status, 503);
  assert.equal(after.json().status, 'stopped');
  assert.equal((await rig.get('/readyz')).status, 503, 'a stopped hub is not ready either');
});

test('/readyz: ready while frames wait in an outbox with room; not ready near the quota with the broker away, before any drop; ready when it is back', { timeout: 60_000 }, async (t) => {
  const quota = 16 * 1024;
  const rig = await startOpsRig(t, { quotaBytes: quota });
  await until(() => rig.hub.stats().publisher.connected, 'the hub to connect');
  const up = await readyUntil(rig, 200, 'the hub to be ready');
  assert.deepEqual(Object.keys(up.checks), ['hub', 'outbox', 'delivery', 'inputs']);
  assert.equal(up.ready, true);
  assert.match(up.checks.delivery.detail, /^broker connected/);
  assert.deepEqual(up.checks.inputs, { ok: true, detail: 'no devices configured' });

  await rig.brokerDown();
  await until(() => !rig.hub.stats().publisher.connected, 'the hub to see the broker gone');
  await rig.record();
  const waiting = await rig.get('/readyz');
  assert.equal(waiting.status, 200);
  assert.match(waiting.json().checks.delivery.detail, /^broker unreachable; frames wait in the outbox/);

  // Fill the outbox one frame at a time: readiness must fail before the quota drops anything.
  let answer = waiting;
  while (answer.status === 200) {
    await rig.record();
    answer = await rig.get('/readyz');
  }
  assert.equal(answer.status, 503);
  const full = answer.json();
  assert.equal(full.ready, false);
  assert.equal(full.checks.delivery.ok, false);
  assert.match(full.checks.delivery.detail, /^broker unreachable and the outbox is at \d+ % of the quota/);
  assert.deepEqual([full.checks.hub.ok, full.checks.outbox.ok, full.checks.inputs.ok], [true, true, true]);
  const atFlip = rig.hub.stats().outbox;
  assert.equal(atFlip.droppedFrames, 0, 'not ready before the first frame is dropped');
  assert.ok(atFlip.pendingBytes >= READY_OUTBOX_SHARE * quota && atFlip.pendingBytes <= quota, `${atFlip.pendingBytes} of ${quota} bytes`);

  // Past the quota the oldest frames give way: still not ready.
  while (rig.hub.stats().outbox.droppedFrames === 0) await rig.record();
  const dropping = await rig.get('/readyz');
  assert.equal(dropping.status, 503);
  // The gap frame that reports the drop is stored a moment after it.
  await until(() => rig.hub.stats().outbox.appended.gap > 0, 'the gap frame');
  const scrape = await rig.scrape();
  assert.ok(scrape.value('twinedge_outbox_dropped_frames_total')! > 0);
  assert.ok(scrape.value('twinedge_frames_appended_total', { kind: 'gap' })! >= 1, 'the drop is reported by a gap frame');

  await rig.brokerUp();
  const back = await readyUntil(rig, 200, 'the broker to be back');
  assert.match(back.checks.delivery.detail, /^broker connected/);
  await until(() => rig.hub.stats().outbox.pending === 0, 'the outbox to drain');
});

test('inputs: not ready while no configured device is connected; BLE failures and their reason show in /status and the metrics', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const radio = new SimulatedRadio();
  const strap = heartRateStrap({ address: STRAP, periodMs: 100 });
  strap.connectBehaviour = 'refuse';
  radio.add(strap);
  t.after(() => radio.close());
  const clock = new SystemClock('assume-synced');
  const missing = join(dir, 'no-such-port');
  const source = new DeviceSource({
    devices: [{ subject: SUBJECTS[0]!, profile: profiles.get('generic/bh1750-light')!, transport: (l) => new SerialTransport({ path: missing, baudRate: 9600 }, clock, l) }],
    ble: {
      devices: [{ subject: SUBJECTS[1]!, profile: profiles.get('bluetooth-sig/heart-rate')!, address: STRAP }],
      load: () => loadNoble(radio),
      central: { stepTimeoutMs: 300, backoffMinMs: 20, backoffMaxMs: 100 },
    },
    windowMs: 3_600_000, clock, log: silentLogger(), reconnectMinMs: 20, reconnectMaxMs: 100,
  });
  const rig = await startOpsRig(t, { clock, source });
  const bleKey = `ble:${STRAP}`;

  await until(() => (rig.hub.devices().find((d) => d.device === bleKey)?.failures ?? 0) >= 2, 'the strap to refuse twice');
  const notReady = await rig.get('/readyz');
  assert.equal(notReady.status, 503);
  assert.deepEqual(notReady.json().checks.inputs, { ok: false, detail: '0 of 2 devices connected' });
  assert.doesNotMatch(notReady.text, /no-such-port|a0:9e/, '/readyz names no device');

  const status = await rig.get('/status', rig.token);
  assert.equal(status.status, 200);
  const inputs = status.json().inputs as Array<Record<string, any>>;
  const ble = inputs.find((d) => d.device === bleKey)!;
  assert.equal(ble.transport, 'ble');
  assert.notEqual(ble.state, 'connected');
  assert.ok(ble.failures >= 2, `failures ${ble.failures}`);
  assert.match(ble.last_error, /Connection Failed to be Established/);
  const serial = inputs.find((d) => d.device === `serial:${missing}`)!;
  assert.notEqual(serial.state, 'connected');
  assert.equal(serial.profile, 'generic/bh1750-light');
  assert.ok(!('failures' in serial), 'serial devices have no BLE failure count');
  const failing = await rig.scrape();
  assert.ok(failing.value('twinedge_ble_device_failures', { device: bleKey, profile: 'bluetooth-sig/heart-rate' })! >= 2);
  assert.equal(failing.value('twinedge_devices', { state: 'connected' }), 0);

  strap.connectBehaviour = 'accept';
  const ready = await readyUntil(rig, 200, 'the strap to stream');
  assert.deepEqual(ready.checks.inputs, { ok: true, detail: '1 of 2 devices connected' });
  await until(() => (rig.hub.devices().find((d) => d.device === bleKey)?.samples ?? 0) > 0, 'samples from the strap');
  const streaming = (await rig.get('/status', rig.token)).json().inputs.find((d: { device: string }) => d.device === bleKey);
  assert.equal(streaming.state, 'connected');
  assert.equal(streaming.failures, 0);
  assert.equal(streaming.last_error, null);
  assert.ok(streaming.samples > 0 && streaming.bytes > 0, 'BLE bytes and samples counted');
  const s = await rig.scrape();
  assert.equal(s.value('twinedge_ble_device_failures', { device: bleKey, profile: 'bluetooth-sig/heart-rate' }), 0);
  assert.equal(s.value('twinedge_device_connected', { device: bleKey, profile: 'bluetooth-sig/heart-rate', transport: 'ble' }), 1);
});

test('/status needs the token and says what the birth message says, with the state of the hub now', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const clock = new ManualClock(NOW, 'jumped');
  const source = new DeviceSource({
    devices: [{ subject: SUBJECTS[1]!, profile: profiles.get('generic/bh1750-light')!, transport: (l) => new SerialTransport({ path: join(dir, 'absent'), baudRate: 9600 }, clock, l) }],
    windowMs: 3_600_000, clock, log: silentLogger(), reconnectMinMs: 20, reconnectMaxMs: 100,
  });
  const rig = await startOpsRig(t, { clock, source, brokerAtStart: 'down' });
  for (const token of [null, 'wrong', `${rig.token}x`]) {
    const r = await rig.get('/status', token);
    assert.equal(r.status, 401, String(token));
    assert.doesNotMatch(r.text, /absent|p-2/, 'a refusal tells nothing');
  }

  // The retained birth, as a twin server reads it.
  await rig.brokerUp();
  const client = await mqtt.connectAsync(rig.broker.url, { clientId: 'status-reader' });
  t.after(() => client.endAsync());
  const births: Status[] = [];
  client.on('message', (_topic, payload) => {
    const body = decodeBody(decodeSigned(payload).body);
    if (body.status?.state === HubState.ONLINE) births.push(body.status);
  });
  await client.subscribeAsync(statusTopic(HUB_ID), { qos: 1 });
  await until(() => births.length > 0, 'the birth');
  const birth = births[0]!;

  const r = await rig.get('/status', rig.token);
  assert.equal(r.status, 200);
  assert.match(r.type, /^application\/json/);
  const doc = r.json();
  assert.equal(doc.hub_id, HUB_ID);
  assert.equal(doc.key_id, rig.hub.keyId);
  assert.equal(doc.boot_id, clock.bootId);
  assert.equal(doc.lifecycle, 'running');
  assert.equal(doc.software_version, birth.software_version);
  assert.equal(doc.config_sha256, CONFIG_SHA256);
  assert.equal(doc.config_sha256, birth.config_sha256);
  assert.deepEqual(doc.subjects, birth.subjects);
  assert.deepEqual(doc.profiles, birth.profiles!.map((p) => ({ ...p })));
  assert.deepEqual(doc.profiles, [{ id: 'generic/bh1750-light', version: '1.0.0' }]);
  const ids = (devices: Array<{ device_id: string; profile_id: string; subject_ref: string }>) => devices.map((d) => [d.device_id, d.profile_id, d.subject_ref]);
  assert.deepEqual(ids(doc.devices), ids(birth.devices!));
  assert.deepEqual(ids(doc.devices), [[`serial:${join(dir, 'absent')}`, 'generic/bh1750-light', 'p-2']]);
  assert.equal(doc.last_seq, birth.last_seq);
  assert.equal(doc.clock.sync, 'jumped');
  assert.equal(doc.clock.wall, new Date(NOW).toISOString());
  assert.equal(doc.broker.connected, true);
  assert.equal(doc.outbox.state, 'open');
  assert.equal(doc.outbox.quota_bytes, 64 << 20);

  await rig.record();
  const later = (await rig.get('/status', rig.token)).json();
  assert.equal(later.last_seq, doc.last_seq + 1, '/status is the state now, not the birth\'s');
});

// /metrics against a real hub (LevelDB outbox, aedes broker, devices on real ptys), read the way
// Prometheus reads it: the values move as the test makes things happen (lines written to a
// device, garbage, a broker outage and its end, a restart with a backlog).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeviceSource } from '../../src/hub/device-source.js';
import { exposureOptionsFrom } from '../../src/hub/from-config.js';
import { metricsTable } from '../../src/hub/hub-metrics.js';
import { sectionOf } from '../../src/ops/error-docs.js';
import { defaultConfig } from '../../src/config/load.js';
import { ManualClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import { SerialTransport } from '../../src/transports/serial/serial-transport.js';
import { PtyPair } from '../helpers/pty.js';
import { tempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import type { Scrape } from '../helpers/prom-text.js';
import { NOW, startOpsRig, SUBJECTS, type OpsRig } from './ops-rig.js';

const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
const LIGHT = profiles.get('generic/bh1750-light')!;

/** Scrapes until `pred` holds for a scrape; returns that scrape. */
async function scrapeUntil(rig: OpsRig, pred: (s: Scrape) => boolean, what: string): Promise<Scrape> {
  let last: Scrape | undefined;
  const end = Date.now() + 30_000;
  for (;;) {
    last = await rig.scrape();
    if (pred(last)) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A light sensor on `path`, with exposures for its subject; windows too long to close during a test. */
function lightSource(path: string, clock: ManualClock): DeviceSource {
  return new DeviceSource({
    devices: [{ subject: SUBJECTS[0]!, profile: LIGHT, transport: (l) => new SerialTransport({ path, baudRate: 9600 }, clock, l) }],
    windowMs: 3_600_000, clock, log: silentLogger(), reconnectMinMs: 20, reconnectMaxMs: 100,
    exposure: exposureOptionsFrom(defaultConfig({ hub: { id: 'h' }, subjects: [{ ref: SUBJECTS[0]! }] })),
  });
}

test('names follow Prometheus conventions, no metric ties a device to a subject, and /metrics needs no token', async (t) => {
  const dir = await tempDir(t);
  const clock = new ManualClock(NOW, 'unsynced');
  // A port that does not exist: the device is configured, and retried with backoff.
  const rig = await startOpsRig(t, { clock, source: lightSource(join(dir, 'no-such-port'), clock) });
  const r = await rig.get('/metrics');
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/plain; version=0\.0\.4/);
  const s = await rig.scrape();

  const ours = [...s.types].filter(([name]) => name.startsWith('twinedge_'));
  // The README's table is made from the registry; a scrape shows exactly the metrics it lists.
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  assert.equal(sectionOf(readme, 'hub-metrics'), metricsTable(), 'run npx tsx scripts/update-docs.ts');
  const documented = [...metricsTable().matchAll(/^\| `(twinedge_[a-z0-9_]+)` \| (\w+) \|/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(ours, documented);
  for (const [name, type] of ours) {
    assert.match(name, /^twinedge_[a-z0-9_]+$/);
    if (type === 'counter') assert.match(name, /_total$/, `${name} is a counter`);
    else assert.doesNotMatch(name, /_total$/, `${name} is a ${type}`);
  }
  const tied = s.samples.filter((x) => 'device' in x.labels && 'subject' in x.labels);
  assert.deepEqual(tied, []);
  assert.ok(s.samples.some((x) => 'device' in x.labels), 'device rows exist');
  assert.ok(s.samples.some((x) => 'subject' in x.labels), 'subject rows exist');

  assert.equal(s.value('twinedge_hub_info', { hub_id: 'hub-ops', version: '0.1.0' }), 1);
  assert.equal(s.value('twinedge_devices', { state: 'connected' }), 0);
  assert.equal(s.value('twinedge_device_connected', { device: `serial:${join(dir, 'no-such-port')}`, profile: 'generic/bh1750-light', transport: 'serial' }), 0);
  assert.equal(s.value('twinedge_clock_sync', { state: 'unsynced' }), 1);
  assert.equal(s.value('twinedge_clock_sync', { state: 'synced' }), 0);
  clock.setSync('synced');
  const synced = await rig.scrape();
  assert.equal(synced.value('twinedge_clock_sync', { state: 'synced' }), 1);
  assert.equal(synced.value('twinedge_clock_sync', { state: 'unsynced' }), 0);

  // The process's own metrics, from prom-client's defaults.
  assert.ok(s.value('process_resident_memory_bytes')! > 10 << 20, 'RSS in bytes');
  assert.equal(s.types.get('nodejs_eventloop_lag_p99_seconds'), 'gauge');
  assert.ok(Number.isFinite(s.value('nodejs_eventloop_lag_p99_seconds')));
});

test('two hubs in one process keep their own metrics', async (t) => {
  const a = await startOpsRig(t);
  const b = await startOpsRig(t);
  await a.record();
  await a.record();
  await b.record();
  const [sa, sb] = [await a.scrape(), await b.scrape()];
  assert.equal(sa.value('twinedge_outbox_last_seq'), 2);
  assert.equal(sb.value('twinedge_outbox_last_seq'), 1);
  assert.equal(sa.value('twinedge_frames_appended_total', { kind: 'event' }), 2);
  assert.equal(sb.value('twinedge_frames_appended_total', { kind: 'event' }), 1);
});

test('samples and decode errors are counted as a device sends lines and garbage', { timeout: 60_000, skip: skipUnless('socat') }, async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'pty'));
  const pty = await PtyPair.start(join(dir, 'pty'));
  t.after(() => pty.close());
  const clock = new ManualClock(NOW, 'synced');
  const rig = await startOpsRig(t, { clock, source: lightSource(pty.devicePath, clock) });
  const device = { device: `serial:${pty.devicePath}`, profile: 'generic/bh1750-light' };

  const open = await scrapeUntil(rig, (s) => s.value('twinedge_devices', { state: 'connected' }) === 1, 'the port to open');
  assert.equal(open.value('twinedge_device_connected', { ...device, transport: 'serial' }), 1);
  assert.equal(open.value('twinedge_device_samples_total', device), 0);

  for (let i = 0; i < 5; i++) await pty.send(`Light: ${100 + i}.00 lx\n`);
  const good = await scrapeUntil(rig, (s) => s.value('twinedge_device_samples_total', device) === 5, '5 samples');
  assert.equal(good.value('twinedge_device_packets_total', device), 5);
  assert.equal(good.value('twinedge_device_bytes_total', device), 5 * 'Light: 100.00 lx\n'.length);
  assert.equal(good.sum('twinedge_decode_errors_total'), 0);

  await pty.send('garbage\nmore garbage\nBH1750 Test begin\n');
  await pty.send('Light: -1.00 lx\nLight: -2.00 lx\n');
  await pty.send('Light: 7.00 lx\n');
  const bad = await scrapeUntil(rig, (s) => s.value('twinedge_device_samples_total', device) === 6, 'the good line after the garbage');
  assert.equal(bad.value('twinedge_decode_errors_total', { ...device, code: 'LINE_NO_MATCH' }), 3);
  assert.equal(bad.value('twinedge_decode_errors_total', { ...device, code: 'DECODE_NO_READING' }), 2);
  assert.equal(bad.value('twinedge_device_packets_rejected_total', device), 5);
  assert.equal(bad.value('twinedge_device_packets_total', device), 11);

  await pty.unplug();
  const away = await scrapeUntil(rig, (s) => s.value('twinedge_devices', { state: 'connected' }) === 0, 'the unplug to be seen');
  assert.equal(away.value('twinedge_device_connected', { ...device, transport: 'serial' }), 0);
  assert.equal(away.value('twinedge_device_samples_total', device), 6, 'a counter keeps its total across an unplug');
});

test('outbox depth and age rise while the broker is away and fall when it is back', { timeout: 60_000 }, async (t) => {
  const clock = new ManualClock(NOW, 'synced');
  const rig = await startOpsRig(t, { clock });
  await rig.record();
  // The outbox forgets an acknowledged frame a moment after its PUBACK.
  const first = await scrapeUntil(rig, (s) => s.value('twinedge_publish_acked_total') === 1 && s.value('twinedge_outbox_pending_frames') === 0, 'the first frame to be acknowledged');
  assert.equal(first.value('twinedge_broker_connected'), 1);
  assert.equal(first.value('twinedge_outbox_pending_frames'), 0);
  assert.equal(first.value('twinedge_outbox_oldest_pending_age_seconds'), 0);
  assert.equal(first.value('twinedge_publish_ack_latency_seconds_count'), 1);
  assert.equal(first.value('twinedge_publish_ack_latency_seconds_bucket', { le: '+Inf' }), 1);

  await rig.brokerDown();
  const down = await scrapeUntil(rig, (s) => s.value('twinedge_broker_connected') === 0, 'the hub to see the broker gone');
  assert.equal(down.value('twinedge_broker_reconnects_total'), 1);
  for (let i = 0; i < 3; i++) await rig.record();
  clock.advance(90_000);
  await rig.record();
  const backlog = await rig.scrape();
  assert.equal(backlog.value('twinedge_outbox_pending_frames'), 4);
  assert.ok(backlog.value('twinedge_outbox_pending_bytes')! > 4 * 100, 'pending bytes counted');
  assert.equal(backlog.value('twinedge_outbox_oldest_pending_age_seconds'), 90, 'the oldest frame was made 90 s ago');
  assert.equal(backlog.value('twinedge_frames_appended_total', { kind: 'event' }), 5);
  assert.equal(backlog.value('twinedge_publish_acked_total'), 1);
  assert.equal((await rig.get('/readyz')).status, 200, 'frames wait in an outbox with room: still ready');

  await rig.brokerUp();
  const drained = await scrapeUntil(rig, (s) => s.value('twinedge_outbox_pending_frames') === 0 && s.value('twinedge_publish_acked_total') === 5, 'the backlog to drain');
  assert.equal(drained.value('twinedge_broker_connected'), 1);
  assert.equal(drained.value('twinedge_publish_acked_total'), 5);
  assert.equal(drained.value('twinedge_publish_ack_latency_seconds_count'), 5);
  assert.equal(drained.value('twinedge_outbox_oldest_pending_age_seconds'), 0);
  assert.equal(drained.value('twinedge_outbox_pending_bytes'), 0);
  assert.equal(drained.value('twinedge_outbox_dropped_frames_total'), 0);
});

test('a backlog keeps its age across a restart; frames made before the clock was set count from the restart', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const first = await startOpsRig(t, { dir: join(dir, 'a'), clock: new ManualClock(NOW, 'synced') });
  await first.brokerDown();
  await first.record();
  await first.record();
  await first.hub.stop();
  const later = await startOpsRig(t, { dir: join(dir, 'a'), clock: new ManualClock(NOW + 3_600_000, 'synced'), brokerAtStart: 'down' });
  const s = await later.scrape();
  assert.equal(s.value('twinedge_outbox_pending_frames'), 2);
  assert.equal(s.value('twinedge_outbox_oldest_pending_age_seconds'), 3600);

  // A Pi without a real-time clock boots near 1970: those frames' times say nothing of their age.
  const unset = await startOpsRig(t, { dir: join(dir, 'b'), clock: new ManualClock(86_400_000, 'unsynced') });
  await unset.brokerDown();
  await unset.record();
  await unset.hub.stop();
  const synced = await startOpsRig(t, { dir: join(dir, 'b'), clock: new ManualClock(NOW, 'synced'), brokerAtStart: 'down' });
  const u = await synced.scrape();
  assert.equal(u.value('twinedge_outbox_pending_frames'), 1);
  assert.equal(u.value('twinedge_outbox_oldest_pending_age_seconds'), 0);
});

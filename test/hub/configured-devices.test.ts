// From config to running devices: a device given only by its profile is looked for by the
// profile's USB ids at each open; where it cannot be found the hub says why once and retries
// with backoff, and the other devices are not affected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { defaultConfig } from '../../src/config/load.js';
import { DeviceSource } from '../../src/hub/device-source.js';
import { configuredDevices } from '../../src/hub/from-config.js';
import { SystemClock } from '../../src/ops/clock.js';
import { createLogger } from '../../src/ops/log.js';
import { until } from '../helpers/wait.js';

test('a device matched by its profile\'s USB ids: a device id from the ids, one clear line while it cannot be found', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('info', new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).trim().split('\n')) lines.push(JSON.parse(l)); cb(); } }));
  const clock = new SystemClock('assume-synced');
  const config = defaultConfig({
    subjects: [{ ref: 'a' }, { ref: 'b' }],
    devices: [{ profile: 'generic/bh1750-light' }, { profile: 'generic/imu6-lcrc', subject: 'b', serial: { path: '/nonexistent/ttyUSB7', baud_rate: 230400 } }],
  });
  assert.equal(config.devices[0]!.subject, 'a', 'the first subject by default');
  const { serial: devices } = await configuredDevices(config, log, clock);
  const source = new DeviceSource({ devices, windowMs: 60_000, clock, log, reconnectMinMs: 20, reconnectMaxMs: 40 });
  t.after(() => source.stop());
  source.start(async () => {});
  assert.deepEqual(source.describe().devices.map((d) => [d.device_id, d.profile_id, d.subject_ref]), [
    ['serial:usb/2341:0043', 'generic/bh1750-light', 'a'],
    ['serial:/nonexistent/ttyUSB7', 'generic/imu6-lcrc', 'b'],
  ]);
  await until(() => source.stats().every((s) => s.state === 'backing-off'), 'both to be retried with backoff');
  // Several attempts later, still one line each.
  await new Promise((r) => setTimeout(r, 300));
  const away = lines.filter((l) => l.msg === 'device not available; retrying with backoff');
  assert.deepEqual(away.map((l) => l.device).sort(), ['serial:/nonexistent/ttyUSB7', 'serial:usb/2341:0043']);
  const usb = away.find((l) => l.device === 'serial:usb/2341:0043')!;
  assert.match(String(usb.err), /cannot list serial ports to find USB 2341:0043|no serial port has USB 2341:0043/);
});

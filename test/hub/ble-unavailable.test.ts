// A hub with BLE devices but no usable adapter: one clear line, and its serial devices stream on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DeviceSource } from '../../src/hub/device-source.js';
import { SystemClock } from '../../src/ops/clock.js';
import { createLogger } from '../../src/ops/log.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import { bleUnavailableReason, loadNoble } from '../../src/transports/ble/load-noble.js';
import { SerialTransport } from '../../src/transports/serial/serial-transport.js';
import { PtyPair } from '../helpers/pty.js';
import { tempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const SIMULATOR = fileURLToPath(new URL('../../scripts/simulate-serial.ts', import.meta.url));

test('loading noble on this machine gives noble or a reason that says what to do, never an exception', async () => {
  const r = await loadNoble();
  if ('unavailable' in r) assert.match(r.unavailable, /adapter|Bluetooth|permitted|capabilit/i);
  else assert.equal(typeof r.noble.startScanningAsync, 'function');
  assert.match(bleUnavailableReason('EPERM: operation not permitted'), /setcap cap_net_raw,cap_net_admin\+eip/);
  assert.match(bleUnavailableReason('poweredOff'), /bluetoothctl power on/);
});

test('BLE unavailable: one warning line, and the serial device streams', { timeout: 60_000, skip: skipUnless('socat') }, async (t) => {
  const dir = await tempDir(t);
  const pty = await PtyPair.start(dir);
  t.after(() => pty.close());
  const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
  const lines: Array<{ msg: string; level: number }> = [];
  const log = createLogger('info', new Writable({ write(c, _e, cb) { for (const l of String(c).trim().split('\n')) lines.push(JSON.parse(l)); cb(); } }));
  const clock = new SystemClock('assume-synced');
  const source = new DeviceSource({
    devices: [{ subject: 's', profile: profiles.get('generic/pulse-oximeter-nmea')!, transport: (l) => new SerialTransport({ path: pty.devicePath, baudRate: 115200 }, clock, l) }],
    ble: {
      devices: [{ subject: 's', profile: profiles.get('bluetooth-sig/heart-rate')! }],
      // As the real loader answers on a host without Bluetooth support (this one: EAFNOSUPPORT).
      load: async () => ({ unavailable: bleUnavailableReason('EAFNOSUPPORT, Address family not supported by protocol') }),
    },
    windowMs: 60_000, clock, log,
  });
  source.start(async () => {});
  t.after(() => source.stop());
  const sim = spawn(process.execPath, ['--import', 'tsx', SIMULATOR, '--profile', 'generic/pulse-oximeter-nmea', '--port', pty.peerPath, '--speed', '20'], { stdio: 'ignore' });
  t.after(() => { sim.kill('SIGKILL'); });
  await until(() => source.stats()[0]!.samples >= 30, 'the serial device to stream');
  const ble = lines.filter((l) => /BLE unavailable/.test(l.msg));
  assert.equal(ble.length, 1, 'said once');
  assert.match(ble[0]!.msg, /no Bluetooth support .*serial devices keep running/);
  assert.deepEqual(source.describe().devices.map((d) => [d.device_id, d.state]), [[`serial:${pty.devicePath}`, 'connected'], ['ble:bluetooth-sig/heart-rate#1', 'ble-unavailable']]);
});

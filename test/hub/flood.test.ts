// A device that floods garbage (random bytes as fast as the pty takes them) beside one that
// streams good lines: the good one loses nothing, the flood is counted by code, and the log
// gets a handful of lines for it, not one per bad frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DeviceSource } from '../../src/hub/device-source.js';
import { SystemClock } from '../../src/ops/clock.js';
import { createLogger } from '../../src/ops/log.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import { SerialTransport } from '../../src/transports/serial/serial-transport.js';
import { PtyPair } from '../helpers/pty.js';
import { tempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const SIMULATOR = fileURLToPath(new URL('../../scripts/simulate-serial.ts', import.meta.url));

test('a device flooding garbage never stalls the others, and is rate-limited in the log', { timeout: 60_000, skip: skipUnless('socat') }, async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'a'));
  await mkdir(join(dir, 'b'));
  const flooding = await PtyPair.start(join(dir, 'a'));
  const good = await PtyPair.start(join(dir, 'b'));
  const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
  const clock = new SystemClock('assume-synced');
  const logLines: Array<{ device?: string; msg: string }> = [];
  const log = createLogger('info', new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).trim().split('\n')) logLines.push(JSON.parse(l)); cb(); } }));
  const oximeter = profiles.get('generic/pulse-oximeter-nmea')!;
  const source = new DeviceSource({
    devices: [
      { subject: 's', profile: profiles.get('generic/bh1750-light')!, transport: (l) => new SerialTransport({ path: flooding.devicePath, baudRate: 9600 }, clock, l) },
      { subject: 's', profile: oximeter, transport: (l) => new SerialTransport({ path: good.devicePath, baudRate: 115200 }, clock, l) },
    ],
    windowMs: 60_000, clock, log,
  });
  source.start(async () => {});
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await source.stop();
    await flooding.close();
    await good.close();
  });
  await until(() => source.stats().every((s) => s.state === 'open'), 'both ports open');

  children.push(spawn('sh', ['-c', `exec cat /dev/urandom > "${flooding.peerPath}"`], { stdio: 'ignore' }));
  const sim = spawn(process.execPath, ['--import', 'tsx', SIMULATOR, '--profile', 'generic/pulse-oximeter-nmea', '--port', good.peerPath, '--speed', '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(sim);
  await until(() => source.stats()[1]!.samples >= 150, 'the good device to stream 50 lines', 30_000);
  let out = '';
  sim.stdout!.on('data', (d) => { out += d; });
  const exited = once(sim, 'exit');
  sim.kill('SIGTERM');
  await exited;
  const { good: written } = JSON.parse(out.trim().split('\n').pop()!);
  await until(() => source.stats()[1]!.samples >= written * 3, 'every line of the good device', 10_000);
  children[0]!.kill('SIGKILL');

  const [flood, steady] = source.stats();
  assert.equal(steady!.samples, written * 3, 'the good device lost nothing');
  assert.deepEqual(steady!.issues, {});
  assert.ok(flood!.bytes > 1_000_000, `the flood was real: ${flood!.bytes} bytes`);
  const bad = Object.values(flood!.errors).reduce((a, b) => a + b, 0);
  assert.ok(bad > 1000, `bad input counted: ${JSON.stringify(flood!.errors)}`);
  const floodLines = logLines.filter((l) => l.device === `serial:${flooding.devicePath}`);
  assert.ok(floodLines.length <= Object.keys(flood!.errors).length + 2, `${floodLines.length} log lines for ${bad} bad frames`);
  assert.ok(floodLines.length >= 1, 'the flood is logged');
});

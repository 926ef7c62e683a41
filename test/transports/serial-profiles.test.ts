// Every shipped serial profile, streamed from a simulated device process through a real
// pseudo-terminal (socat) into the real serialport and the hub's device source: steady
// streaming, garbage and cut frames between good ones, the port closed and reopened under the
// reader, and a reader that stalls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { CrossSection } from '../../src/frames/codec.js';
import { DeviceSource } from '../../src/hub/device-source.js';
import type { ProducedFrame } from '../../src/hub/frame-source.js';
import { SystemClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import type { Profile } from '../../src/profiles/profile.js';
import { SerialTransport } from '../../src/transports/serial/serial-transport.js';
import { PtyPair } from '../helpers/pty.js';
import { tempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const SIMULATOR = fileURLToPath(new URL('../../scripts/simulate-serial.ts', import.meta.url));
const skip = skipUnless('socat');
const TIMEOUT = { timeout: 60_000, skip };
const loaded = await loadProfiles([SHIPPED_PROFILES_DIR]);
const profile = (id: string): Profile => loaded.profiles.get(id)!;

/** Samples a good write of each device gives, and how fast to run it so a test takes seconds. */
const DEVICES: Record<string, { samplesPerWrite: number; speed: number }> = {
  'generic/bh1750-light': { samplesPerWrite: 1, speed: 25 },
  'generic/pulse-oximeter-nmea': { samplesPerWrite: 3, speed: 25 },
  'generic/respiration-belt-csv': { samplesPerWrite: 1, speed: 1 },
  'generic/imu6-lcrc': { samplesPerWrite: 12, speed: 1 },
  'generic/csv-template': { samplesPerWrite: 2, speed: 25 },
};

interface Rig {
  pty: PtyPair;
  source: DeviceSource;
  frames: ProducedFrame[];
  simulate(extra?: string[]): Promise<ChildProcess>;
  stopSimulator(child: ChildProcess): Promise<{ good: number; garbage: number }>;
  stats(): ReturnType<DeviceSource['stats']>[number];
}

async function rig(t: { after(fn: () => Promise<void>): void }, id: string, windowMs = 60_000): Promise<Rig> {
  const dir = await tempDir(t);
  const pty = await PtyPair.start(dir);
  const clock = new SystemClock('assume-synced');
  const frames: ProducedFrame[] = [];
  const p = profile(id);
  const source = new DeviceSource({
    devices: [{ subject: 's1', profile: p, transport: (l) => new SerialTransport({ path: pty.devicePath, baudRate: p.serial!.baudRate }, clock, l) }],
    windowMs,
    clock,
    log: silentLogger(),
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
  });
  source.start(async (f) => { frames.push(...f); });
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await source.stop();
    await pty.close();
  });
  await until(() => source.stats()[0]!.state === 'open', 'the port to open');
  return {
    pty, source, frames,
    async simulate(extra = []) {
      const child = spawn(process.execPath, ['--import', 'tsx', SIMULATOR, '--profile', id, '--port', pty.peerPath, '--speed', String(DEVICES[id]!.speed), ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      await once(child.stdout!, 'data');
      return child;
    },
    async stopSimulator(child) {
      let out = '';
      child.stdout!.on('data', (d) => { out += d; });
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(out.trim().split('\n').pop()!);
    },
    stats: () => source.stats()[0]!,
  };
}

for (const id of Object.keys(DEVICES)) {
  test(`${id}: steady streaming decodes every write, with no error`, TIMEOUT, async (t) => {
    const r = await rig(t, id);
    const child = await r.simulate();
    await until(() => r.stats().samples >= 40, 'samples to flow');
    const { good } = await r.stopSimulator(child);
    const header = id === 'generic/csv-template' ? 1 : 0;
    const expected = (good - header) * DEVICES[id]!.samplesPerWrite;
    await until(() => r.stats().samples >= expected, `${expected} samples`, 5000);
    const s = r.stats();
    assert.equal(s.samples, expected, 'every sample of every write, once');
    assert.equal(s.packets, good);
    assert.deepEqual(s.issues, {});
    assert.equal(s.rejected, 0);
  });

  test(`${id}: garbage and cut frames between good ones are counted, and every good one after them decodes`, TIMEOUT, async (t) => {
    const r = await rig(t, id);
    const child = await r.simulate(['--garbage-every', '4']);
    await until(() => r.stats().samples >= 10 * DEVICES[id]!.samplesPerWrite, 'samples to flow');
    const { good, garbage } = await r.stopSimulator(child);
    assert.ok(garbage >= 2, 'garbage was sent');
    const header = id === 'generic/csv-template' ? 1 : 0;
    const expected = (good - header) * DEVICES[id]!.samplesPerWrite;
    await until(() => r.stats().samples >= expected, `${expected} samples`, 5000);
    const s = r.stats();
    assert.equal(s.samples, expected, 'no good write lost to the garbage around it');
    const bad = Object.values(s.issues).reduce((a, b) => a + b, 0);
    assert.ok(bad >= garbage, `each garbage burst is counted (${JSON.stringify(s.issues)}, ${garbage} bursts)`);
    assert.deepEqual(Object.keys(s.errors).sort(), Object.keys(s.issues).sort(), 'the log tally saw the same codes');
  });
}

test('the port closed and reopened under the reader: streaming resumes, and the gap reaches the window', TIMEOUT, async (t) => {
  const id = 'generic/imu6-lcrc';
  const r = await rig(t, id);
  let child = await r.simulate();
  await until(() => r.stats().samples >= 120, 'samples before the unplug');
  await r.stopSimulator(child);
  await r.pty.unplug();
  await until(() => r.stats().state !== 'open', 'the unplug to be noticed');
  const before = r.stats().samples;
  await r.pty.plug();
  await until(() => r.stats().state === 'open', 'the port to be reopened');
  child = await r.simulate();
  await until(() => r.stats().samples >= before + 120, 'samples after the replug');
  await r.stopSimulator(child);
  await r.source.stop();
  const windows = r.frames.map((f) => (f.payload as { cross_section: CrossSection }).cross_section);
  const last = windows[windows.length - 1]!;
  assert.equal(last.partial, true);
  const motion = last.quality!.find((q) => q.modality === 'motion')!;
  // Windows are on the wall clock: a window boundary may fall inside the test.
  const gaps = windows.reduce((n, w) => n + w.quality!.find((q) => q.modality === 'motion')!.gaps!, 0);
  assert.equal(gaps, 1, 'one gap for the time the port was away');
  assert.deepEqual(last.sources!.map((s) => [s.device_id, s.profile_id, s.profile_version]), [[`serial:${r.pty.devicePath}`, id, '1.0.0']]);
  assert.ok(motion.coverage > 0 && motion.coverage <= 1);
});

test('a reader that stalls loses nothing: the bytes wait in the port and decode when it reads again', TIMEOUT, async (t) => {
  const id = 'generic/imu6-lcrc';
  const r = await rig(t, id);
  const child = await r.simulate();
  await until(() => r.stats().samples >= 60, 'samples to flow');
  // The event loop blocked for 1.5 s: about 75 frames arrive meanwhile.
  const end = Date.now() + 1500;
  while (Date.now() < end) { /* stall */ }
  const { good } = await r.stopSimulator(child);
  await until(() => r.stats().samples >= good * 12, 'every frame', 5000);
  assert.equal(r.stats().samples, good * 12);
  assert.deepEqual(r.stats().issues, {});
});

// A button box on a real pty, read by the real serialport through its shipped profile: each
// press is one event frame (a bouncing contact's repeated lines are one press), with the code,
// dose and note its profile gives, emitted like every other frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind, type Event } from '../../src/frames/codec.js';
import { DeviceSource } from '../../src/hub/device-source.js';
import type { ProducedFrame } from '../../src/hub/frame-source.js';
import { SystemClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import { SerialTransport } from '../../src/transports/serial/serial-transport.js';
import type { TransportListener } from '../../src/transports/transport.js';
import { PtyPair } from '../helpers/pty.js';
import { tempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

test('button presses on a serial box become event frames, one per press', { timeout: 60_000, skip: skipUnless('socat') }, async (t) => {
  const dir = await tempDir(t);
  const pty = await PtyPair.start(dir);
  t.after(() => pty.close());
  const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
  const clock = new SystemClock('assume-synced');
  const source = new DeviceSource({
    devices: [{ subject: 'p-1', profile: profiles.get('generic/button-box')!, transport: (l: TransportListener) => new SerialTransport({ path: pty.devicePath, baudRate: 9600 }, clock, l) }],
    windowMs: 3_600_000, clock, log: silentLogger(),
  });
  const frames: ProducedFrame[] = [];
  source.start(async (f) => { frames.push(...f); });
  t.after(() => source.stop());
  await until(() => source.stats()[0]?.state === 'open', 'the port to open');
  const before = Date.now();
  // The power-up banner is no press; button 1 bounces into three lines; then button 2.
  await pty.send('HELLO button-box 1.0\r\nBTN 1\r\nBTN 1\r\n');
  await pty.send('BTN 1\r\n');
  await until(() => frames.length === 1, 'the first press');
  await pty.send('BTN 2\r\n');
  await until(() => frames.length === 2, 'the second press');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(frames.length, 2, 'three bouncing lines were one press');
  const [medication, meal] = frames.map((f) => (f.payload as { event: Event }).event);
  assert.deepEqual(frames.map((f) => f.subjectRef), ['p-1', 'p-1']);
  assert.equal(medication!.kind, EventKind.MEDICATION);
  assert.equal(medication!.code, 'ATC:N02BE01');
  assert.equal(medication!.dose, 500);
  assert.equal(medication!.dose_unit, 'mg');
  assert.equal(medication!.source, `device:serial:${pty.devicePath}`);
  assert.ok(medication!.at_ms >= before && medication!.at_ms <= Date.now(), 'marked at the press');
  assert.equal(meal!.kind, EventKind.MEAL);
  assert.equal(source.eventsMarked, 2);
});

test('a replayed button box played again after a restart marks none of its stored events twice', { timeout: 60_000 }, async (t) => {
  const { ReplayTransport } = await import('../../src/transports/capture/replay-transport.js');
  const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
  const start = Date.UTC(2026, 5, 1, 8);
  const press = (s: number) => ({ kind: 'chunk' as const, t: s * 1000, bytes: Buffer.from('BTN 1\r\n') });
  const capture = () => ({
    header: { format: 'twinedge-capture' as const, version: 1 as const, device: 'serial:box', profile: 'generic/button-box', started_wall_ms: start, started_mono_ms: 0 },
    entries: [press(1), press(30), press(60)],
  });
  const stored = new Map<string, Uint8Array>();
  const run = async () => {
    const clock = new SystemClock('assume-synced');
    const frames: ProducedFrame[] = [];
    const source = new DeviceSource({
      devices: [{ subject: 'p-1', profile: profiles.get('generic/button-box')!, replayed: true, windows: false, transport: (l: TransportListener) => new ReplayTransport({ capture: capture(), atEnd: 'stay-open' }, clock, l) }],
      windowMs: 3_600_000, clock, log: silentLogger(),
    });
    source.start(async (f, state) => {
      frames.push(...f);
      for (const s of state ?? []) if (s.value) stored.set(s.key, s.value);
    }, async (key) => stored.get(key));
    await until(() => (source.stats()[0]?.samples ?? 0) === 3, 'the capture to be played');
    await source.stop();
    return frames.map((f) => (f.payload as { event: Event }).event.at_ms);
  };
  assert.deepEqual(await run(), [start + 1000, start + 30_000, start + 60_000]);
  assert.deepEqual(await run(), [], 'played again from its start: every press was stored already');
});

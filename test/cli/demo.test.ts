import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;

test('twinedge demo runs the real pipeline to an embedded broker and prints every frame verified', async () => {
  const child = spawn(process.execPath, [CLI, 'demo', '--duration', '8', '--window', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, err);
  const lines = out.trim().split('\n');
  const frames = lines.filter((l) => / cross-section /.test(l));
  assert.ok(frames.length >= 4, `a frame per one-second window (${frames.length})`);
  // The simulated IMU (100 Hz) fills every window; the oximeter and the light sensor (1 Hz) may
  // leave a window without a sample, and their features out of it.
  for (const l of frames) assert.match(l, /^demo-hub demo-subject(-2)? #\d+ cross-section .*(\(verified key [0-9a-f]{8}\))$/);
  // The first windows began before the hub did, the last are cut by the stop: only those between
  // are whole. The IMU (serial, subject 2) fills them; under a loaded test machine its timers can
  // slip a window's samples into the next, so most, not all, must have ENMO.
  const whole = frames.slice(2).filter((f) => !f.includes('(partial)') && f.includes('demo-subject-2'));
  const withEnmo = whole.filter((l) => /activity\.enmo=[\d.]+mg/.test(l));
  assert.ok(whole.length >= 3 && withEnmo.length >= whole.length / 2, `ENMO in ${withEnmo.length} of ${whole.length} whole windows`);
  assert.ok(frames.some((l) => /demo-subject #.*hr\.mean=[\d.]+\/min/.test(l)), 'the Polar H10 through noble decoded into hr.mean');
  assert.ok(frames.some((l) => /spo2\.mean=9\d%/.test(l)), 'the BLE oximeter decoded into spo2.mean');
  assert.ok(frames.some((l) => /light\.mean=[\d.]+lx/.test(l)), 'the BTHome light sensor decoded into light.mean');
  // The third subject's light sensor replays a day in two minutes: in 8 s, its first hour closes.
  const exposures = lines.filter((l) => / exposure /.test(l));
  assert.ok(exposures.some((l) => /^demo-hub demo-light-day #\d+ exposure .* \d{4}-\d\d-\d\d to 01:00 \(1 h covered\) light\.dose=0lx\.h .*\(verified key/.test(l)), exposures.join('\n'));
  // The button box's "medication taken", pressed at 3 s with a bouncing contact: one event.
  const events = lines.filter((l) => / event /.test(l));
  assert.equal(events.length, 1, events.join('\n'));
  assert.match(events[0]!, /^demo-hub demo-subject #\d+ event .*medication ATC:N02BE01 500mg "marked on the button box"/);
  // Seqs are 1, 2, 3, ... in order, cross-sections and exposures together.
  const data = lines.filter((l) => /^demo-hub \S+ #\d+ (cross-section|exposure|event) /.test(l));
  assert.deepEqual(data.map((l) => Number(/#(\d+)/.exec(l)![1])), data.map((_, i) => i + 1));
  assert.ok(lines.some((l) => /status .* online/.test(l)));
  assert.ok(lines.some((l) => /status .* offline \(shutdown\)/.test(l)));
  const summary = /twinedge demo: (\d+) frames made, (\d+) received and verified, (\d+) rejected/.exec(lines.at(-1)!);
  assert.ok(summary, lines.at(-1));
  assert.equal(summary[1], summary[2], 'every frame made was received');
  assert.equal(Number(summary[1]), data.length);
  assert.equal(summary[3], '0');
});

// twinedge features: the hub's feature code on a CSV, run as the real command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
const twinedge = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const TIMEOUT = { timeout: 60_000 };

test('RR intervals in, HRV per window out as JSON lines, a thin window showing what it left out', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  // Window 1 (0-5 s): the hand-worked vector of test/features (RMSSD sqrt(175), SDNN sqrt(55)).
  // Window 2 (5-10 s): two beats, 1.6 s of 5 s: too little coverage for any HRV value.
  await writeFile(join(dir, 'rr.csv'), 'time,rr\n0,800\n0.8,810\n1.61,790\n2.4,1600\n4.0,805\n4.8,800\n6.0,800\n6.8,800\n');
  const r = twinedge('features', '--input', join(dir, 'rr.csv'), '--channel', 'rr', '--window', '5', '--json');
  assert.equal(r.status, 0, r.stderr);
  const [w1, w2] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(w1.window_start, '1970-01-01T00:00:00.000Z');
  assert.equal(w1.samples, 6);
  const rmssd = w1.features.find((f: { code: string }) => f.code === 'hrv.rmssd');
  assert.ok(Math.abs(rmssd.value - Math.sqrt(175)) < 1e-6);
  assert.equal(rmssd.unit, 'ms');
  assert.deepEqual(w2.features, []);
  assert.deepEqual(w2.absent, ['hrv.rmssd', 'hrv.sdnn', 'hrv.pnn50']);
});

test('accelerometer rows time,x,y,z give ENMO; ISO times work; bad rows are named', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  // As in test/features: (0,1,0) -> 0, (0,0,0.9) -> 0 after the clip, (0,0.5,1.2) -> 0.3 g: 100 mg.
  await writeFile(join(dir, 'acc.csv'), '2026-01-01T00:00:00.00Z,0,1,0\n2026-01-01T00:00:00.01Z,0,0,0.9\n2026-01-01T00:00:00.02Z,0,0.5,1.2\n');
  const r = twinedge('features', '--input', join(dir, 'acc.csv'), '--channel', 'acc', '--window', '0.03', '--json');
  assert.equal(r.status, 0, r.stderr);
  const w = JSON.parse(r.stdout.trim().split('\n')[0]!);
  assert.equal(w.features[0].code, 'activity.enmo');
  assert.ok(Math.abs(w.features[0].value - 100) < 1e-3, String(w.features[0].value));

  await writeFile(join(dir, 'bad.csv'), '0,1,0,0\n0.01,x,0,0\n');
  const bad = twinedge('features', '--input', join(dir, 'bad.csv'), '--channel', 'acc', '--json');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /bad\.csv:2: column 2 'x' is not a number \[USAGE_BAD_ARGUMENT\]/);
  const unknown = twinedge('features', '--input', join(dir, 'bad.csv'), '--channel', 'ecg');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /no feature reads channel 'ecg'; channels: hr, rr, spo2, resp/);
});

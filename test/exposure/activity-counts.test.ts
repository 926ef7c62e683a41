// ActiGraph counts: the streaming filter gives the same counts however the stream is cut, and
// behaves as the published algorithm says at rest and in motion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AG_A, AG_B, AxisCounts, steadyState, type AxisCountsState } from '../../src/exposure/activity-counts.js';

/** A 30 Hz signal: gravity plus a sine of `amplitude` g at `hz`. */
function signal(seconds: number, amplitude: number, hz: number, offset = 1): number[] {
  return Array.from({ length: seconds * 30 }, (_, i) => offset + amplitude * Math.sin((2 * Math.PI * hz * i) / 30));
}

test('the steady state holds a constant input still, as scipy.signal.lfilter_zi defines it', () => {
  const z = steadyState(AG_B, AG_A);
  // Run the filter on a constant 1 from that state: the state must not move.
  const n = AG_B.length - 1;
  const s = z.slice();
  const y = AG_B[0]! + s[0]!;
  for (let i = 0; i < n - 1; i++) s[i] = AG_B[i + 1]! + s[i + 1]! - AG_A[i + 1]! * y;
  s[n - 1] = AG_B[n]! - AG_A[n]! * y;
  s.forEach((v, i) => assert.ok(Math.abs(v - z[i]!) < 1e-12, `state ${i}`));
  // The filter is a band-pass: it passes no constant, so the steady output is 0.
  assert.ok(Math.abs(y) < 1e-9, String(y));
});

test('an axis at rest under gravity gives no counts, from the first epoch', () => {
  const c = new AxisCounts(10);
  assert.deepEqual(c.push(signal(60, 0, 0)), [0, 0, 0, 0, 0, 0]);
});

test('walking-like motion gives counts that grow with its amplitude', () => {
  const totals = [0.05, 0.2, 0.5].map((amp) => new AxisCounts(60).push(signal(60, amp, 2))[0]!);
  assert.ok(totals[0]! < totals[1]! && totals[1]! < totals[2]!, JSON.stringify(totals));
  assert.ok(totals[2]! > 1000, JSON.stringify(totals));
  // A 10 Hz vibration (a motor, a tremor of the bed) is well above the rhythms of human movement
  // the band-pass keeps: far fewer counts than 2 Hz at the same amplitude.
  const fast = new AxisCounts(60).push(signal(60, 0.5, 10))[0]!;
  assert.ok(fast < totals[2]! / 5, `${fast} vs ${totals[2]}`);
});

test('counts do not depend on how the stream is cut into chunks', () => {
  const data = signal(40, 0.3, 1.5).map((v, i) => v + 0.05 * Math.sin(i * 0.7));
  const whole = new AxisCounts(10).push(data);
  assert.equal(whole.length, 4);
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 40 }), (cuts) => {
    const c = new AxisCounts(10);
    const got: number[] = [];
    let at = 0;
    for (let k = 0; at < data.length; k++) {
      const len = cuts[k % cuts.length]!;
      got.push(...c.push(data.slice(at, at + len)));
      at += len;
    }
    assert.deepEqual(got, whole);
  }), { numRuns: 200 });
});

test('a state saved and restored through JSON at any cut continues exactly', () => {
  const data = signal(40, 0.3, 1.5).map((v, i) => v + 0.05 * Math.sin(i * 0.7));
  const whole = new AxisCounts(10).push(data);
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 40 }), (cuts) => {
    let c = new AxisCounts(10);
    const got: number[] = [];
    let at = 0;
    for (let k = 0; at < data.length; k++) {
      const len = cuts[k % cuts.length]!;
      got.push(...c.push(data.slice(at, at + len)));
      c = new AxisCounts(10, JSON.parse(JSON.stringify(c.state())) as AxisCountsState);
      at += len;
    }
    assert.deepEqual(got, whole);
  }), { numRuns: 200 });
  // Before any sample the filter has no state yet: it settles on the first one, after a restore too.
  assert.deepEqual(new AxisCounts(10, JSON.parse(JSON.stringify(new AxisCounts(10).state())) as AxisCountsState).push(signal(20, 0, 0)), [0, 0]);
  assert.throws(() => new AxisCounts(10, { ...new AxisCounts(60).state(), epoch: 150 }), TypeError);
});

test('twinedge exposure --channel acc: counts per local day, none at rest, other rates resampled', { timeout: 60_000 }, async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tempDir } = await import('../helpers/tmp.js');
  const dir = await tempDir(t);
  const cli = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
  const t0 = Date.UTC(2026, 5, 1, 10) / 1000;
  const rows = (hz: number, amp: number) => Array.from({ length: 120 * hz }, (_, i) => `${t0 + i / hz},${(amp * Math.sin((2 * Math.PI * 1.5 * i) / hz)).toFixed(4)},0,1`).join('\n');
  const run = (name: string) => spawnSync(process.execPath, [cli, 'exposure', '--input', join(dir, name), '--channel', 'acc', '--tz', 'UTC', '--json'], { encoding: 'utf8' });
  await writeFile(join(dir, 'rest.csv'), rows(30, 0));
  await writeFile(join(dir, 'walk.csv'), rows(30, 0.4));
  await writeFile(join(dir, 'fast.csv'), rows(50, 0.4));
  const counts = (name: string) => {
    const r = run(name);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).values.find((v: { code: string }) => v.code === 'activity.counts').value as number;
  };
  assert.equal(counts('rest.csv'), 0);
  // Two minutes of the same motion on x alone: the day's total is the two epochs' x counts.
  const walk = counts('walk.csv');
  const direct = new AxisCounts(60).push(Array.from({ length: 3600 }, (_, i) => Number((0.4 * Math.sin((2 * Math.PI * 1.5 * i) / 30)).toFixed(4))));
  assert.equal(walk, Math.round(direct[0]! + direct[1]!));
  assert.ok(walk > 500);
  // The same motion sampled at 50 Hz is resampled to the algorithm's 30 Hz: nearly the same counts.
  const fast = counts('fast.csv');
  assert.ok(Math.abs(fast - walk) / walk < 0.05, `50 Hz: ${fast}, 30 Hz: ${walk}`);
});

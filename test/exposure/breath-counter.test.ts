// Streaming breath counts: right on drifting, noisy breathing; nothing on flat or noise-only
// signals; the same after any save and restore through JSON; never bridged across a gap; and in
// step with the batch method of resp.rate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BreathCounter, type BreathCounterState } from '../../src/exposure/breath-counter.js';
import { breathTimes } from '../../src/features/resp-rate.js';
import { mulberry32 } from '../../src/ops/prng.js';

const RATE = 25;
const PERIOD_MS = 1000 / RATE;
const T0 = Date.UTC(2026, 5, 1, 8);

/** Standard normal numbers from the project's seeded generator (Box-Muller). */
function normal(seed: number): () => number {
  const u = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

interface Signal { times: Float64Array; values: Float32Array }

/**
 * `seconds` of breathing at `bpm` (a sine of amplitude 1 rising through its mean at t = 0),
 * on a baseline that drifts (a ramp and a 4-minute swing 1.5 times the breath's amplitude),
 * with Gaussian noise of `noise` standard deviation.
 */
function breathing(bpm: number, seconds: number, noise: number, seed: number, rate = RATE): Signal {
  const n = normal(seed);
  const times = new Float64Array(seconds * rate);
  const values = new Float32Array(seconds * rate);
  for (let i = 0; i < times.length; i++) {
    const t = i / rate;
    times[i] = T0 + (i * 1000) / rate;
    values[i] = 500 + 0.003 * t + 1.5 * Math.sin((2 * Math.PI * t) / 240 + 1) + Math.sin((2 * Math.PI * bpm * t) / 60) + noise * n();
  }
  return { times, values };
}

/** The times of the samples that completed a breath, one push a sample. */
function run(s: Signal, rate = RATE): number[] {
  const c = new BreathCounter({ rateHz: rate });
  const out: number[] = [];
  for (let i = 0; i < s.times.length; i++) if (c.push(s.times[i]!, s.values[i]!)) out.push(s.times[i]!);
  return out;
}

test('10 minutes of breathing at 12, 15 and 24 a minute, drifting and noisy, are counted within 2', () => {
  // A breath is a rise of the sine through its mean, at t = k x 60/bpm s. Countable ones come
  // after the warm-up (the first 6 s: 1 s to fill the smoother, 5 s to settle) and are detected
  // about half a second after they happen, so before the end:
  // 12/min: rises every 5 s; 10 s .. 595 s counts, 118.
  // 15/min: every 4 s; 8 s .. 596 s, 148.
  // 24/min: every 2.5 s; 7.5 s .. 597.5 s, 237.
  for (const [bpm, expected] of [[12, 118], [15, 148], [24, 237]] as const) {
    const got = run(breathing(bpm, 600, 0.15, bpm)).length;
    assert.ok(Math.abs(got - expected) <= 2, `${bpm}/min: expected ${expected}, counted ${got}`);
  }
});

test('a flat signal and noise alone, small or large, count nothing', () => {
  const flat = (v: number): Signal => ({ times: Float64Array.from({ length: 600 * RATE }, (_, i) => T0 + i * PERIOD_MS), values: new Float32Array(600 * RATE).fill(v) });
  assert.deepEqual(run(flat(512)), []);
  assert.deepEqual(run(flat(0)), []);
  for (const [sd, seed] of [[0.002, 1], [1, 2], [50, 3]] as const) {
    const n = normal(seed);
    const s = flat(512);
    s.values.forEach((_, i) => (s.values[i] = 512 + sd * n()));
    assert.deepEqual(run(s), [], `noise of ${sd}`);
  }
  // Right after a start the spread estimates rest on a few seconds only; the gate is stricter
  // then. 20,000 restarts into noise at 10 Hz (where the smoothing separates least) count nothing.
  const u = normal(5);
  const restarted = new BreathCounter({ rateHz: 10 });
  let t = T0;
  let falseBreaths = 0;
  for (let r = 0; r < 20_000; r++) {
    restarted.gap();
    for (let i = 0; i < 120; i++) if (restarted.push((t += 100), u())) falseBreaths++;
  }
  assert.equal(falseBreaths, 0);
  // A 10-bit reading flickering between two codes.
  const n = normal(4);
  const adc = flat(0);
  adc.values.forEach((_, i) => (adc.values[i] = Math.round(512.4 + 0.3 * n())));
  assert.deepEqual(run(adc), []);
});

test('a state saved and restored through JSON at random cut points continues identically', () => {
  // 15/min at 25 Hz, and 45/min at 50 Hz where the refractory interval decides every other breath.
  const cuts = mulberry32(11);
  for (const [s, rate] of [[breathing(15, 180, 0.2, 7), RATE], [breathing(45, 120, 0.05, 8, 50), 50]] as const) {
    const whole = run(s, rate);
    assert.ok(whole.length > 40, String(whole.length));
    for (let trial = 0; trial < 20; trial++) {
      let c = new BreathCounter({ rateHz: rate });
      const got: number[] = [];
      for (let i = 0; i < s.times.length; i++) {
        if (cuts() < 0.01) c = new BreathCounter({ rateHz: rate }, JSON.parse(JSON.stringify(c.state())) as BreathCounterState);
        if (c.push(s.times[i]!, s.values[i]!)) got.push(s.times[i]!);
      }
      assert.deepEqual(got, whole);
    }
  }
  // The end states agree too, field by field.
  const s = breathing(15, 180, 0.2, 7);
  const a = new BreathCounter({ rateHz: RATE });
  const b = new BreathCounter({ rateHz: RATE });
  a.pushBatch(s.times, s.values);
  b.pushBatch(s.times.subarray(0, 2000), s.values.subarray(0, 2000));
  const c = new BreathCounter({ rateHz: RATE }, JSON.parse(JSON.stringify(b.state())) as BreathCounterState);
  c.pushBatch(s.times.subarray(2000), s.values.subarray(2000));
  assert.deepEqual(c.state(), a.state());
});

test('how the samples are cut into batches makes no difference', () => {
  const s = breathing(20, 120, 0.2, 9);
  const whole = run(s);
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 30 }), (sizes) => {
    const c = new BreathCounter({ rateHz: RATE });
    const got: number[] = [];
    for (let at = 0, k = 0; at < s.times.length; at += sizes[k++ % sizes.length]!) {
      const end = at + sizes[k % sizes.length]!;
      got.push(...c.pushBatch(s.times.subarray(at, end), s.values.subarray(at, end)));
    }
    assert.deepEqual(got, whole);
  }), { numRuns: 50 });
});

test('a gap is never bridged: the count is the two sides counted apart', () => {
  // Before the gap the chest is breathing out (the trigger is armed at a trough); after it the
  // belt sits 5 units higher. Bridged, that step would be a breath.
  const before = breathing(15, 183, 0.1, 21);
  const after = breathing(15, 180, 0.1, 22);
  const resumeAt = before.times[before.times.length - 1]! + 120_000;
  after.times.forEach((_, i) => (after.times[i] = resumeAt + i * PERIOD_MS));
  after.values.forEach((v, i) => (after.values[i] = v + 5));
  const apart = run(before).length + run(after).length;
  for (const announce of [true, false]) {
    const c = new BreathCounter({ rateHz: RATE });
    const got = c.pushBatch(before.times, before.values);
    if (announce) c.gap();
    got.push(...c.pushBatch(after.times, after.values));
    assert.equal(got.length, apart, announce ? 'gap()' : 'a time jump alone');
    // Nothing in the warm-up after the gap.
    assert.ok(got.every((t) => t < resumeAt || t >= resumeAt + 6000), JSON.stringify(got.filter((t) => t >= resumeAt).slice(0, 3)));
  }
  // A hole shorter than a second is bridged: the counter carries on without a warm-up.
  const short = breathing(15, 120, 0.1, 23);
  const holed = { times: short.times.filter((_, i) => i < 1500 || i >= 1520), values: short.values.filter((_, i) => i < 1500 || i >= 1520) };
  const bridged = new BreathCounter({ rateHz: RATE }).pushBatch(holed.times, holed.values);
  assert.ok(bridged.some((t) => t > short.times[1520]! && t < short.times[1520]! + 6000), 'a breath in the 6 s after a 0.8 s hole');
});

test('a wobble around the baseline is not a breath: the heart beating through a pause', () => {
  // 10 breaths a minute: 3 s of breath (one sine cycle), then 3 s of rest at the baseline, with
  // a cardiogenic oscillation at 1.1 Hz all along. The smoothing leaves a tenth of it, which
  // crosses zero several times in each pause; the hysteresis keeps that from counting.
  // Breaths rise at t = 6k s; k = 0 is in the warm-up, k = 1 .. 99 count: 99.
  const times = Float64Array.from({ length: 600 * RATE }, (_, i) => T0 + i * PERIOD_MS);
  const values = Float32Array.from(times, (_, i) => {
    const t = i / RATE;
    const p = t % 6;
    return (p < 3 ? Math.sin((2 * Math.PI * p) / 3) : 0) + 0.5 * Math.sin(2 * Math.PI * 1.1 * t);
  });
  const got = run({ times, values }).length;
  assert.ok(Math.abs(got - 99) <= 2, String(got));
});

test('at most one breath in 1.5 s: breathing at 45 a minute is not counted at 45', () => {
  // 50 Hz, so that 1 s of smoothing keeps enough of 0.75 Hz to pass the noise gate.
  const got = run(breathing(45, 600, 0.05, 31, 50), 50);
  for (let i = 1; i < got.length; i++) assert.ok(got[i]! - got[i - 1]! >= 1500, `${got[i]! - got[i - 1]!} ms between breaths`);
  assert.ok(got.length > 100 && got.length <= 400, String(got.length));
});

test('on a stationary 2-minute segment, the count is the batch method\'s within 1', () => {
  for (const bpm of [12, 15, 24]) {
    const n = normal(bpm);
    const lead = 10 * RATE;
    const times = Float64Array.from({ length: 130 * RATE }, (_, i) => T0 + i * PERIOD_MS);
    const values = Float32Array.from(times, (_, i) => 300 + 20 * Math.sin((2 * Math.PI * bpm * i) / (60 * RATE) + 0.7) + 3 * n());
    // The streaming counter gets 10 s before the segment for its warm-up.
    const streamed = new BreathCounter({ rateHz: RATE }).pushBatch(times, values).filter((t) => t >= times[lead]!);
    const batch = breathTimes(times.slice(lead), values.slice(lead), RATE);
    assert.ok(Math.abs(streamed.length - batch.length) <= 1, `${bpm}/min: ${streamed.length} streamed, ${batch.length} in batch`);
    // Each batch breath is seen by the stream a little later: half the 1 s smoothing window,
    // give or take the two methods' different thresholds.
    const end = times[times.length - 1]!;
    for (const b of batch.filter((x) => x < end - 1000)) assert.ok(streamed.some((t) => t - b >= 0 && t - b <= 1000), `${bpm}/min: batch breath at ${b - T0} ms unmatched`);
  }
});

test('refused input: older samples, non-finite values, a state for another rate', () => {
  const c = new BreathCounter({ rateHz: RATE });
  c.push(T0, 1);
  const before = JSON.stringify(c.state());
  assert.equal(c.push(T0, 2), false);
  assert.equal(c.push(T0 - 40, 2), false);
  assert.equal(c.push(T0 + 40, Number.NaN), false);
  assert.equal(JSON.stringify(c.state()), before);
  assert.throws(() => new BreathCounter({ rateHz: 50 }, c.state()), TypeError);
  // Same smoothing window, another rate: refused all the same.
  assert.throws(() => new BreathCounter({ rateHz: 24.9 }, c.state()), TypeError);
  assert.doesNotThrow(() => new BreathCounter({ rateHz: RATE }, c.state()));
  assert.throws(() => new BreathCounter({ rateHz: 1 }), TypeError);
});

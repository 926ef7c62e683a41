// Streaming ActiGraph counts for three separate axis channels at any rate: the published
// algorithm's numbers at 30 Hz, the filter's gain in motion, nothing at rest, clock-aligned
// epochs and groups, gaps never bridged, and a state that survives JSON bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ActivityCounter, type ActivityCounterState, type Axis, type Epoch } from '../../src/exposure/activity-counter.js';
import { AG_A, AG_B, AgCountFilter, AxisCounts } from '../../src/exposure/activity-counts.js';
import { butterworthLowPass4, GridResampler, gridTimeMs } from '../../src/exposure/resample.js';
import { mulberry32 } from '../../src/ops/prng.js';

/** An epoch boundary (a whole minute), and its 30 Hz grid index. */
const T0 = Date.UTC(2026, 5, 1, 8);
const K0 = (T0 * 3) / 100;
const AXES = [0, 1, 2] as const;

type Motion = (tMs: number) => readonly [number, number, number];

/** Slow movement, below 2 Hz on every axis, with gravity on z. */
const slow: Motion = (tMs) => {
  const t = (tMs - T0) / 1000;
  return [0.3 * Math.sin(2 * Math.PI * 0.8 * t) + 0.15 * Math.sin(2 * Math.PI * 1.7 * t + 1), 0.2 * Math.sin(2 * Math.PI * 1.1 * t + 2), 1 + 0.1 * Math.sin(2 * Math.PI * 0.5 * t)];
};

/** The sample times of `seconds` at `rateHz` from `startMs`: on the grid itself at 30 Hz unless `startMs` is off it. */
function timesOf(rateHz: number, seconds: number, startMs: number): number[] {
  return Array.from({ length: Math.round(seconds * rateHz) }, (_, i) => (rateHz === 30 && startMs === T0 ? gridTimeMs(K0 + i) : startMs + (i * 1000) / rateHz));
}

/** Every epoch given out, the three axes pushed sample by sample in turn. */
function feed(c: ActivityCounter, times: readonly number[], motion: Motion): Epoch[] {
  const out: Epoch[] = [];
  for (const t of times) {
    const v = motion(t);
    for (const a of AXES) out.push(...c.push(a, t, v[a]));
  }
  return out;
}

/** The filter's gain at f Hz for 30 Hz samples: |B(e^jw)| / |A(e^jw)|. */
function agGain(f: number): number {
  const w = (2 * Math.PI * f) / 30;
  const at = (c: readonly number[]) => Math.hypot(c.reduce((s, x, k) => s + x * Math.cos(w * k), 0), c.reduce((s, x, k) => s + x * Math.sin(w * k), 0));
  return at(AG_B) / at(AG_A);
}

test('at 30 Hz, the per-axis counts are AxisCounts\' for the same samples, with or without clock jitter', () => {
  const u = mulberry32(3);
  const noise = Array.from({ length: 3 * 5 * 60 * 30 }, () => (u() - 0.5) * 0.2);
  const samples = (i: number) => {
    const t = i / 30;
    return [0.4 * Math.sin(2 * Math.PI * 1.2 * t) + noise[3 * i]!, 0.25 * Math.sin(2 * Math.PI * 0.6 * t + 1) + noise[3 * i + 1]!, 1 + 0.3 * Math.sin(2 * Math.PI * 2.1 * t) + noise[3 * i + 2]!] as const;
  };
  for (const epochS of [60, 10]) {
    const expected = AXES.map((a) => new AxisCounts(epochS).push(Array.from({ length: 9000 }, (_, i) => samples(i)[a])));
    // Times exactly on the grid, then each moved by up to 8 ms either way, as rebuilt BLE times are.
    for (const jitterMs of [0, 8]) {
      const c = new ActivityCounter({ rateHz: 30, epochS });
      const out: Epoch[] = [];
      for (let i = 0; i < 9000; i++) for (const a of AXES) out.push(...c.push(a, gridTimeMs(K0 + i) + (u() * 2 - 1) * jitterMs, samples(i)[a]));
      assert.equal(out.length, 300 / epochS, `${epochS} s epochs`);
      assert.deepEqual(out.map((e) => e.x), expected[0]);
      assert.deepEqual(out.map((e) => e.y), expected[1]);
      assert.deepEqual(out.map((e) => e.z), expected[2]);
      for (const e of out) {
        assert.equal(e.vm, Math.sqrt(e.x ** 2 + e.y ** 2 + e.z ** 2));
        assert.equal(e.coveredS, epochS);
      }
    }
  }
  // A lost sample is filled on the line between its neighbours, as the grid needs every point.
  const values = Array.from({ length: 3600 }, (_, i) => samples(i)[0]);
  const filled = values.slice();
  filled[1000] = values[999]! + (values[1001]! - values[999]!) / 2;
  const c = new ActivityCounter({ rateHz: 30 });
  const out: Epoch[] = [];
  for (let i = 0; i < 3600; i++) if (i !== 1000) for (const a of AXES) out.push(...c.push(a, gridTimeMs(K0 + i), a === 0 ? values[i]! : 1));
  assert.deepEqual(out.map((e) => e.x), new AxisCounts(60).push(filled));
});

test('an axis at rest under gravity gives no counts, at any rate', () => {
  for (const rateHz of [25, 30, 50, 100, 200]) {
    const out = feed(new ActivityCounter({ rateHz }), timesOf(rateHz, 200, T0 + 12_345.6), () => [0.6, 0, 0.8]);
    assert.equal(out.length, 3, `${rateHz} Hz`);
    for (const e of out) assert.deepEqual([e.x, e.y, e.z, e.vm], [0, 0, 0, 0], `${rateHz} Hz`);
  }
});

test('a sine movement gives the counts the filter\'s gain at its frequency predicts', () => {
  // A sine of A g at f Hz leaves the band-pass as a sine of peak P = A |H(f)| x 17.127404 (the
  // scale), once the start has died away. Per 30 Hz sample the count c = floor(|P sin|) when
  // |P sin| >= 4, else 0 (P stays under the 128 clip): over phases spread evenly its mean is
  // E = (2/pi) sqrt(P^2 - 16), from below by less than 1 (the floor). Each 10 Hz value is the
  // floor of the mean of 3, less than 2/3 lower. So a 60 s epoch (600 values) holds between
  // 600 (E - 5/3) and 600 E. 1.3 and 2.7 Hz do not divide 30 Hz, so the phases do spread; 1 %
  // either side covers the epoch's finite sample of phases and the 1 mg rounding of the input.
  for (const [f, amplitude] of [[1.3, 0.5], [2.7, 1]] as const) {
    const p = amplitude * agGain(f) * ((3 / 4096 / (2.6 / 256)) * 237.5);
    assert.ok(p > 10 && p < 128, `peak ${p}`);
    const e = (2 / Math.PI) * Math.sqrt(p * p - 16);
    const low = 600 * (e - 5 / 3) * 0.99;
    const high = 600 * e * 1.01;
    for (const rateHz of [30, 100]) {
      const out = feed(new ActivityCounter({ rateHz }), timesOf(rateHz, 241, T0), (t) => [amplitude * Math.sin((2 * Math.PI * f * (t - T0)) / 1000), 0, 1]);
      assert.equal(out.length, 4);
      // The first epoch holds the filter's start.
      for (const ep of out.slice(1)) {
        assert.ok(ep.x >= low && ep.x <= high, `${f} Hz at ${rateHz} Hz input: ${ep.x} not in [${low.toFixed(0)}, ${high.toFixed(0)}]`);
        assert.equal(ep.y, 0);
        assert.equal(ep.z, 0);
      }
    }
  }
});

test('a vibration near 30 Hz in 100 Hz input does not fold into movement', () => {
  // 29 Hz sampled at 30 Hz would read as 1 Hz, in the middle of the counts' band: 0.5 g of it
  // would count thousands an epoch. The anti-alias filter takes it down by over 40 dB first,
  // leaving a peak under the 4-count threshold.
  const out = feed(new ActivityCounter({ rateHz: 100 }), timesOf(100, 181, T0), (t) => [0.5 * Math.sin((2 * Math.PI * 29 * (t - T0)) / 1000), 0, 1]);
  assert.equal(out.length, 3);
  for (const e of out) assert.equal(e.x, 0);
});

/** Phase delay (ms) of a cascade of sections at f Hz, sampled at fs Hz. */
function phaseDelayMs(sections: ReturnType<typeof butterworthLowPass4>, f: number, fs: number): number {
  const w = (2 * Math.PI * f) / fs;
  let phase = 0;
  for (const [b0, b1, b2, a1, a2] of sections) {
    phase += Math.atan2(-b1 * Math.sin(w) - b2 * Math.sin(2 * w), b0 + b1 * Math.cos(w) + b2 * Math.cos(2 * w));
    phase -= Math.atan2(-a1 * Math.sin(w) - a2 * Math.sin(2 * w), 1 + a1 * Math.cos(w) + a2 * Math.cos(2 * w));
  }
  return (-phase / (2 * Math.PI * f)) * 1000;
}

test('resampled to the grid, a slow signal is where it was, at the grid\'s own instants', () => {
  // x of `slow`: 0.3 g at 0.8 Hz and 0.15 g at 1.7 Hz. Linear interpolation between samples h
  // apart is off by at most A w^2 h^2 / 8 a component; above 30 Hz the anti-alias filter's delay
  // is taken back at 0 Hz, and at f it differs by its phase delay there less that, which moves a
  // component by up to A w x that difference.
  const parts = [[0.3, 0.8], [0.15, 1.7]] as const;
  for (const rateHz of [25, 50, 100, 200]) {
    const r = new GridResampler(rateHz);
    const h = 1 / rateHz;
    const sections = rateHz > 30 ? butterworthLowPass4(10, rateHz) : [];
    const dc = sections.length > 0 ? phaseDelayMs(sections, 1e-6, rateHz) : 0;
    assert.ok(Math.abs(dc - r.delayMs) < 1e-6, `${rateHz} Hz: delay ${r.delayMs} ms, ${dc} ms from the phase`);
    const bound = parts.reduce((s, [a, f]) => {
      const w = 2 * Math.PI * f;
      const shift = sections.length > 0 ? Math.abs(phaseDelayMs(sections, f, rateHz) - dc) / 1000 : 0;
      return s + (a * w * w * h * h) / 8 + a * w * shift;
    }, 0);
    let worst = 0;
    let seen = 0;
    for (const t of timesOf(rateHz, 60, T0 + 3.7)) {
      r.push(t, slow(t)[0], (k, v) => {
        // The first second holds the filter's start from rest.
        if (gridTimeMs(k) < T0 + 1000) return;
        worst = Math.max(worst, Math.abs(v - slow(gridTimeMs(k))[0]));
        seen++;
      });
    }
    assert.ok(seen > 1700, String(seen));
    assert.ok(worst <= bound, `${rateHz} Hz: ${worst} g off, bound ${bound}`);
  }
});

test('100 Hz input of a slow movement gives the counts of 30 Hz input within 1 %', () => {
  // The 100 Hz path's grid values are within 0.7 mg of the 30 Hz samples (the test above), less
  // than the algorithm's own 1 mg rounding step: most round to the same mg, and one that does not
  // moves a few counts. 1 % of an epoch of thousands of counts is dozens of such samples.
  const at30 = feed(new ActivityCounter({ rateHz: 30 }), timesOf(30, 301, T0), slow);
  const at100 = feed(new ActivityCounter({ rateHz: 100 }), timesOf(100, 301, T0 + 3.7), slow);
  assert.equal(at100.length, at30.length);
  for (let i = 1; i < at30.length; i++) {
    for (const axis of ['x', 'y', 'z'] as const) {
      const a = at30[i]![axis];
      const b = at100[i]![axis];
      assert.ok(a > 1000, `${axis}: ${a}`);
      assert.ok(Math.abs(a - b) <= 0.01 * a, `epoch ${i} ${axis}: ${b} at 100 Hz, ${a} at 30 Hz`);
    }
  }
});

test('epochs are aligned to the clock, whatever the first sample\'s time', () => {
  fc.assert(fc.property(fc.double({ min: 0, max: 180_000, noNaN: true }), fc.constantFrom(25, 30, 50, 100), fc.constantFrom(10, 60), (offset, rateHz, epochS) => {
    const start = T0 + 7 * 60_000 + offset;
    const epochMs = epochS * 1000;
    const out = feed(new ActivityCounter({ rateHz, epochS }), timesOf(rateHz, 3.5 * epochS, start), slow);
    assert.ok(out.length >= 3, String(out.length));
    for (const e of out) {
      assert.equal(e.startMs % epochMs, 0);
      assert.equal(e.endMs - e.startMs, epochMs);
    }
    const first = out[0]!;
    assert.ok(first.startMs <= start && start < first.endMs, `${first.startMs} ${start}`);
    // The first epoch holds the grid points from the first sample on (a 30 Hz sample goes to
    // its nearest grid point, up to half a step earlier).
    assert.ok(Math.abs(first.coveredS - (first.endMs - start) / 1000) <= 1 / 30 + 1e-9, `${first.coveredS} vs ${(first.endMs - start) / 1000}`);
    for (const e of out.slice(1)) assert.equal(e.coveredS, epochS);
    out.slice(1).forEach((e, i) => assert.equal(e.startMs, out[i]!.endMs));
  }), { numRuns: 40 });
});

test('the 10 Hz groups of 3 are the grid\'s, not the stream\'s', () => {
  // Start one sample past a group (k = 3g + 1), mid-epoch. The counts must be those of
  // per-sample counts grouped by k / 3, the first group holding its 2 samples.
  const first = K0 + 901;
  const n = 3 * 1800;
  const x = (i: number) => 0.4 * Math.sin((2 * Math.PI * 1.3 * i) / 30) + 0.1 * Math.sin((2 * Math.PI * 0.37 * i) / 30);
  const out: Epoch[] = [];
  const c = new ActivityCounter({ rateHz: 30 });
  for (let i = 0; i < n; i++) for (const a of AXES) out.push(...c.push(a, gridTimeMs(first + i), a === 0 ? x(i) : 1));
  const f = new AgCountFilter();
  const perSample = Array.from({ length: n }, (_, i) => f.count(x(i)));
  const grouped = (phase: number) => {
    const sums = new Map<number, number>();
    let i = 0;
    while (i < n) {
      const k = first + i;
      const end = Math.min(n, i + (3 - ((k - phase) % 3 + 3) % 3));
      const slice = perSample.slice(i, end);
      const epoch = Math.floor(k / 1800);
      sums.set(epoch, (sums.get(epoch) ?? 0) + Math.floor(slice.reduce((s, v) => s + v, 0) / slice.length));
      i = end;
    }
    return sums;
  };
  const onGrid = grouped(0);
  assert.deepEqual(out.map((e) => e.x), out.map((e) => onGrid.get(e.startMs / 60_000)!));
  assert.equal(out.length, 3);
  assert.equal(out[0]!.coveredS, (1800 - 901) / 30);
  // Grouped from the stream's first sample instead, the counts differ: the check can tell.
  const fromStream = grouped(1);
  assert.notDeepEqual(out.map((e) => e.x), out.map((e) => fromStream.get(e.startMs / 60_000)!));
});

test('a gap is never bridged: the filter restarts settled, the epoch around it says what it covers', () => {
  // At rest lying on the back (z = 1 g) until 80 s, then nothing, then at rest on the side
  // (x = 1 g) from `resume`. Bridged, the 1 g swap would read as movement.
  const run = (resume: number, announce: boolean) => {
    const c = new ActivityCounter({ rateHz: 100 });
    const out = feed(c, timesOf(100, 80, T0), () => [0, 0, 1]);
    if (announce) c.gap();
    return out.concat(feed(c, timesOf(100, 301 - resume, T0 + resume * 1000), () => [1, 0, 0]));
  };
  const summary = (out: Epoch[]) => out.map((e) => [(e.startMs - T0) / 1000, e.vm, Math.round(e.coveredS * 30)]);
  // 80 s in, 30 s away: the second epoch holds 20 + 10 s of grid points, less the one in the
  // last 40 ms before the gap, which the anti-alias filter's delay holds back for good.
  const announced = run(110, true);
  assert.deepEqual(summary(announced), [[0, 0, 1800], [60, 0, 600 - 1 + 300], [120, 0, 1800], [180, 0, 1800], [240, 0, 1800]]);
  // Unannounced, the jump in time is a gap all the same.
  assert.deepEqual(run(110, false), announced);
  // An epoch with no sample in it is not given out at all.
  assert.deepEqual(summary(run(250, true)), [[0, 0, 1800], [60, 0, 599], [240, 0, 1500]]);
  // A hole under a second is bridged on a straight line: the swap then counts, which is what
  // restarting after a real gap avoids.
  const bridged = run(80.5, false);
  assert.ok(bridged[1]!.vm > 0, JSON.stringify(bridged[1]));
});

test('flush() gives out the open epochs at the end of the input, and closes them', () => {
  // 100 Hz for 100 s: the second epoch is 40 s short of its end when the input stops.
  const c = new ActivityCounter({ rateHz: 100 });
  const out = feed(c, timesOf(100, 100, T0), slow);
  assert.equal(out.length, 1);
  const tail = c.flush();
  assert.equal(tail.length, 1);
  const last = tail[0]!;
  assert.equal(last.startMs, T0 + 60_000);
  // 40 s of grid points, less the ones the anti-alias filter's delay still held (40 ms: one).
  assert.equal(Math.round(last.coveredS * 30), 40 * 30 - 1);
  assert.ok(last.x > 1000, String(last.x));
  assert.deepEqual(c.flush(), []);
  // Samples for the closed epoch are dropped; the next epoch is counted as usual.
  const restored = new ActivityCounter({ rateHz: 100 }, JSON.parse(JSON.stringify(c.state())) as ActivityCounterState);
  const later = feed(restored, timesOf(100, 81, T0 + 110_000), slow);
  assert.deepEqual(later.map((e) => [(e.startMs - T0) / 1000, e.coveredS]), [[120, 60]]);
  assert.deepEqual(restored.flush().map((e) => (e.startMs - T0) / 1000), [180]);
});

test('a state saved and restored through JSON at random cut points continues bit for bit', () => {
  // 100 Hz and 30 Hz, with a gap in the middle, cut after random samples of random axes.
  for (const rateHz of [100, 30]) {
    const times = timesOf(rateHz, 240, T0 + 11.1).filter((t) => t < T0 + 100_000 || t > T0 + 130_000);
    const whole = new ActivityCounter({ rateHz });
    const expected = feed(whole, times, slow);
    assert.ok(expected.length >= 3);
    const cuts = mulberry32(rateHz);
    for (let trial = 0; trial < 10; trial++) {
      let c = new ActivityCounter({ rateHz });
      const got: Epoch[] = [];
      for (const t of times) {
        const v = slow(t);
        for (const a of AXES) {
          if (cuts() < 0.002) c = new ActivityCounter({ rateHz }, JSON.parse(JSON.stringify(c.state())) as ActivityCounterState);
          got.push(...c.push(a, t, v[a]));
        }
      }
      assert.deepStrictEqual(got, expected);
      assert.deepStrictEqual(JSON.stringify(c.state()), JSON.stringify(whole.state()));
    }
  }
});

test('how the three axes\' batches interleave makes no difference', () => {
  const times = timesOf(100, 150, T0 + 5).filter((t) => t < T0 + 70_000 || t > T0 + 75_000);
  const expected = feed(new ActivityCounter({ rateHz: 100 }), times, slow);
  const columns = AXES.map((a) => Float32Array.from(times, (t) => slow(t)[a]));
  const tArray = Float64Array.from(times);
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom<Axis>(0, 1, 2), fc.integer({ min: 1, max: 3000 })), { minLength: 1, maxLength: 40 }), (steps) => {
    const c = new ActivityCounter({ rateHz: 100 });
    const at = [0, 0, 0];
    const got: Epoch[] = [];
    for (let s = 0; at.some((x) => x < times.length); s++) {
      const [axis, size] = s < steps.length ? steps[s]! : ([at.indexOf(Math.min(...at)) as Axis, 3000] as const);
      const end = Math.min(times.length, at[axis]! + size);
      got.push(...c.pushBatch(axis, tArray.subarray(at[axis]!, end), columns[axis]!.subarray(at[axis]!, end)));
      at[axis] = end;
    }
    // Values through a Float32Array, as a batch holds them: compare with the same.
    const ref = new ActivityCounter({ rateHz: 100 });
    const want: Epoch[] = [];
    times.forEach((t, i) => AXES.forEach((a) => want.push(...ref.push(a, t, columns[a]![i]!))));
    assert.deepStrictEqual(got, want);
    assert.equal(got.length, expected.length);
  }), { numRuns: 30 });
});

test('refused input: a fourth axis, older samples, non-finite values, a state for another rate', () => {
  const c = new ActivityCounter({ rateHz: 100 });
  assert.throws(() => c.push(3 as Axis, T0, 1), TypeError);
  c.push(0, T0, 1);
  const before = JSON.stringify(c.state());
  assert.deepEqual(c.push(0, T0, 0.5), []);
  assert.deepEqual(c.push(0, T0 - 10, 0.5), []);
  assert.deepEqual(c.push(0, T0 + 10, Number.NaN), []);
  assert.equal(JSON.stringify(c.state()), before);
  assert.throws(() => new ActivityCounter({ rateHz: 30 }, c.state()), TypeError);
  assert.throws(() => new ActivityCounter({ rateHz: 100, epochS: 10 }, c.state()), TypeError);
  assert.doesNotThrow(() => new ActivityCounter({ rateHz: 100 }, c.state()));
  assert.throws(() => new ActivityCounter({ rateHz: 100, epochS: 2.5 }), TypeError);
});

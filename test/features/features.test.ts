// Window features against values worked by hand (each vector's arithmetic is in its comment).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeFeatures, FEATURES } from '../../src/features/definitions.js';
import type { ChannelWindow, WindowInput } from '../../src/features/feature.js';
import { breathTimes } from '../../src/features/resp-rate.js';
import { keptIntervals } from '../../src/features/hrv.js';

const START = 1_700_000_000_000;

function channel(values: number[], rateHz?: number, times?: number[]): ChannelWindow {
  return {
    times: Float64Array.from(times ?? values.map((_, i) => START + (rateHz ? (i * 1000) / rateHz : i))),
    values: Float32Array.from(values),
    rateHz,
  };
}

function input(lengthMs: number, channels: Record<string, ChannelWindow>): WindowInput {
  return { startMs: START, endMs: START + lengthMs, channels: new Map(Object.entries(channels)) };
}

const feature = (code: string) => FEATURES.find((f) => f.code === code)!;

test('hr.mean, spo2.mean, light.mean, temperature.mean: the mean of the samples, coverage against the rate', () => {
  // 10 s at 1 Hz, 8 samples present: mean (60+62+64+66+68+70+72+74)/8 = 67, coverage 8/10.
  const r = feature('hr.mean').compute(input(10_000, { hr: channel([60, 62, 64, 66, 68, 70, 72, 74], 1) }))!;
  assert.deepEqual(r, { value: 67, n: 8, coverage: 0.8 });
  assert.equal(feature('hr.mean').standardCode, 'LOINC:8867-4');
  assert.equal(feature('spo2.mean').compute(input(4000, { spo2: channel([97, 98, 96, 97], 1) }))!.value, 97);
  assert.equal(feature('light.mean').unit, 'lx');
  assert.equal(feature('temperature.mean').compute(input(2000, { temperature: channel([36.5, 36.7], 1) }))!.value, (Math.fround(36.5) + Math.fround(36.7)) / 2);
});

test('HRV: a missed beat is rejected and the differences across it are not bridged', () => {
  // RR 800 810 790 1600 805 800 ms. 1600 is more than 20 % off the median (805) of itself and
  // its neighbours 810 790 805 800: rejected. Kept differences: 810-800 = 10, 790-810 = -20,
  // 800-805 = -5 (790->1600 and 1600->805 are left out).
  // RMSSD = sqrt((100 + 400 + 25) / 3) = sqrt(175) = 13.2288 ms.
  // SDNN over 800 810 790 805 800: mean 801, squared deviations 1 81 121 16 1 = 220, / (5 - 1)
  // = 55, sqrt = 7.4162 ms. pNN50 = 0 of 3 = 0 %.
  const rr = channel([800, 810, 790, 1600, 805, 800]);
  assert.deepEqual(keptIntervals(rr.values), [true, true, true, false, true, true]);
  const win = input(5000, { rr });
  const rmssd = feature('hrv.rmssd').compute(win)!;
  assert.ok(Math.abs(rmssd.value - Math.sqrt(175)) < 1e-9);
  assert.equal(rmssd.n, 3);
  // Kept intervals span 800+810+790+805+800 = 4005 ms of the 5000 ms window.
  assert.equal(rmssd.coverage, 4005 / 5000);
  const sdnn = feature('hrv.sdnn').compute(win)!;
  assert.ok(Math.abs(sdnn.value - Math.sqrt(55)) < 1e-9);
  assert.equal(sdnn.n, 5);
  assert.equal(feature('hrv.pnn50').compute(win)!.value, 0);
});

test('HRV: pNN50 counts differences strictly over 50 ms; out-of-range intervals are rejected', () => {
  // RR 700 760 700 751 250 700: 250 ms is out of range. Kept differences: +60, -60, +51
  // (751->250 and 250->700 are left out). Over 50 ms: all three, pNN50 = 100 %; with 750
  // instead of 751, +50 is not over 50 ms: 2 of 3 = 66.67 %.
  assert.equal(feature('hrv.pnn50').compute(input(4000, { rr: channel([700, 760, 700, 751, 250, 700]) }))!.value, 100);
  const r = feature('hrv.pnn50').compute(input(4000, { rr: channel([700, 760, 700, 750, 250, 700]) }))!;
  assert.ok(Math.abs(r.value - 200 / 3) < 1e-9);
  assert.equal(r.n, 3);
});

test('resp.rate: a sine at 15 and at 30 breaths a minute, with noise, at 25 Hz', () => {
  for (const bpm of [15, 30]) {
    const rate = 25;
    let seed = 1;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
    const values = Array.from({ length: 60 * rate }, (_, i) => Math.sin((2 * Math.PI * (bpm / 60) * i) / rate) + noise());
    const r = feature('resp.rate').compute(input(60_000, { resp: channel(values, rate) }))!;
    assert.ok(Math.abs(r.value - bpm) < 0.2, `${bpm}: got ${r.value}`);
    assert.ok(Math.abs(r.n - bpm) <= 1, `${bpm} breaths in a minute, counted ${r.n}`);
    assert.equal(r.coverage, 1);
  }
  // A flat line has no breath.
  assert.deepEqual(breathTimes(Float64Array.from([0, 1, 2, 3]), Float32Array.from([1, 1, 1, 1]), 1), []);
});

test('activity.enmo: negatives clipped per sample before the mean, in mg', () => {
  // Three readings: at rest on its side (0, 1, 0) g -> 0; a norm of 0.9 g (0, 0, 0.9) -> clipped
  // to 0, not -0.1; a norm of 1.3 g (0, 0.5, 1.2): sqrt(0.25 + 1.44) = 1.3 -> 0.3.
  // ENMO = (0 + 0 + 0.3) / 3 x 1000 = 100 mg. Without the clip it would be 66.7 mg.
  const times = [START, START + 10, START + 20];
  const r = feature('activity.enmo').compute(input(30, {
    acc_x: channel([0, 0, 0], 100, times), acc_y: channel([1, 0, 0.5], 100, times), acc_z: channel([0, 0.9, 1.2], 100, times),
  }))!;
  assert.ok(Math.abs(r.value - 100) < 1e-4, String(r.value));
  assert.equal(r.n, 3);
  assert.equal(r.coverage, 1);
});

test('a feature whose inputs cover too little of the window is not emitted', () => {
  const win = input(10_000, { hr: channel([60, 61, 62, 63], 1), spo2: channel([97, 97, 97, 97, 97, 97, 97, 97], 1) });
  assert.deepEqual(computeFeatures(win, 0.5).map((f) => f.code), ['spo2.mean']);
  assert.deepEqual(computeFeatures(win, 0.3).map((f) => f.code), ['hr.mean', 'spo2.mean']);
});

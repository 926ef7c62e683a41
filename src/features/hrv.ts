/**
 * Heart-rate variability from RR intervals (channel `rr`, ms, in beat order), per window.
 *
 * Artefact rejection, stated: an interval is rejected when it is outside 300 to 2000 ms (200 to
 * 30 beats a minute), or when it differs by more than 20 % from the median of the in-range
 * intervals among itself and its two neighbours on each side (a missed or an extra beat). A
 * successive difference is taken only between two neighbouring intervals that are both kept:
 * a difference across a rejected beat is left out, never bridged.
 *
 * - hrv.rmssd (ms): the square root of the mean of the squared successive differences; the
 *   denominator is the number of differences kept (as Kubios and the HRV Task Force, 1996, write
 *   it: N - 1 for N clean consecutive intervals).
 * - hrv.sdnn (ms): the standard deviation of the kept intervals with N - 1 degrees of freedom
 *   (the sample standard deviation).
 * - hrv.pnn50 (%): 100 x the number of kept successive differences whose magnitude is greater
 *   than 50 ms, over the number of kept differences.
 *
 * n is the number of kept intervals (SDNN) or of kept differences (RMSSD, pNN50); coverage is
 * the time the kept intervals span over the window length, at most 1.
 */
import type { FeatureDefinition, FeatureValue, WindowInput } from './feature.js';

export const RR_MIN_MS = 300;
export const RR_MAX_MS = 2000;
const NEIGHBOURS = 2;
const MAX_DEVIATION = 0.2;

/** For each interval, whether it is kept. */
export function keptIntervals(rr: Float32Array): boolean[] {
  const inRange = Array.from(rr, (x) => x >= RR_MIN_MS && x <= RR_MAX_MS);
  return Array.from(rr, (x, i) => {
    if (!inRange[i]) return false;
    const around: number[] = [];
    for (let j = Math.max(0, i - NEIGHBOURS); j <= Math.min(rr.length - 1, i + NEIGHBOURS); j++) if (inRange[j]) around.push(rr[j]!);
    around.sort((a, b) => a - b);
    const m = around.length % 2 ? around[around.length >> 1]! : (around[around.length / 2 - 1]! + around[around.length / 2]!) / 2;
    return Math.abs(x - m) <= MAX_DEVIATION * m;
  });
}

interface Hrv { kept: number[]; diffs: number[]; coverage: number }

function hrvOf(input: WindowInput): Hrv | undefined {
  const ch = input.channels.get('rr');
  if (!ch || ch.values.length === 0) return undefined;
  const rr = ch.values;
  const keep = keptIntervals(rr);
  const kept: number[] = [];
  const diffs: number[] = [];
  let spanMs = 0;
  for (let i = 0; i < rr.length; i++) {
    if (!keep[i]) continue;
    kept.push(rr[i]!);
    spanMs += rr[i]!;
    if (i > 0 && keep[i - 1]) diffs.push(rr[i]! - rr[i - 1]!);
  }
  return { kept, diffs, coverage: Math.min(1, spanMs / (input.endMs - input.startMs)) };
}

function defineHrv(code: string, unit: string, fn: (h: Hrv) => FeatureValue | undefined): FeatureDefinition {
  return { code, unit, channels: ['rr'], compute: (input) => { const h = hrvOf(input); return h && fn(h); } };
}

export const HRV_RMSSD = defineHrv('hrv.rmssd', 'ms', ({ diffs, coverage }) => {
  if (diffs.length === 0) return undefined;
  const sumSq = diffs.reduce((s, d) => s + d * d, 0);
  return { value: Math.sqrt(sumSq / diffs.length), n: diffs.length, coverage };
});

export const HRV_SDNN = defineHrv('hrv.sdnn', 'ms', ({ kept, coverage }) => {
  if (kept.length < 2) return undefined;
  const m = kept.reduce((s, x) => s + x, 0) / kept.length;
  const ss = kept.reduce((s, x) => s + (x - m) * (x - m), 0);
  return { value: Math.sqrt(ss / (kept.length - 1)), n: kept.length, coverage };
});

export const HRV_PNN50 = defineHrv('hrv.pnn50', '%', ({ diffs, coverage }) => {
  if (diffs.length === 0) return undefined;
  const over = diffs.filter((d) => Math.abs(d) > 50).length;
  return { value: (100 * over) / diffs.length, n: diffs.length, coverage };
});

/**
 * resp.rate (/min, LOINC 9279-1): breaths a minute from a respiration signal (channel `resp`:
 * chest expansion, any unit), per window.
 *
 * Method, stated: the signal less its window mean is smoothed by a centred moving average over
 * 1 s (it keeps breathing, up to about 40 a minute, and drops sensor noise); a breath is an
 * upward crossing of +h after the signal was below -h, h being a quarter of the smoothed
 * signal's standard deviation (a Schmitt trigger: a wobble around zero is not a breath). The
 * rate is (k - 1) breaths over the time from the first crossing to the k-th, so a window is
 * measured between breaths, not from its edges. Needs at least three crossings.
 *
 * n is the number of breaths counted; coverage the samples present over those expected.
 */
import { rateCoverage, type FeatureDefinition } from './feature.js';

const SMOOTH_S = 1;
const HYSTERESIS = 0.25;

/** Times (ms) of the upward crossings that count as breaths. */
export function breathTimes(times: Float64Array, values: Float32Array, rateHz: number): number[] {
  const n = values.length;
  if (n < 3) return [];
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  const half = Math.max(0, Math.round((SMOOTH_S * rateHz) / 2));
  const smooth = new Float64Array(n);
  // Running sum over [i - half, i + half], clipped at the ends.
  let sum = 0;
  let lo = 0;
  let hi = -1;
  for (let i = 0; i < n; i++) {
    while (hi < Math.min(n - 1, i + half)) sum += values[++hi]! - mean;
    while (lo < i - half) sum -= values[lo++]! - mean;
    smooth[i] = sum / (hi - lo + 1);
  }
  let sq = 0;
  for (let i = 0; i < n; i++) sq += smooth[i]! * smooth[i]!;
  const h = HYSTERESIS * Math.sqrt(sq / n);
  if (h === 0) return [];
  const out: number[] = [];
  let armed = false;
  for (let i = 0; i < n; i++) {
    const v = smooth[i]!;
    if (v < -h) armed = true;
    else if (armed && v > h) {
      out.push(times[i]!);
      armed = false;
    }
  }
  return out;
}

export const RESP_RATE: FeatureDefinition = {
  code: 'resp.rate',
  unit: '/min',
  standardCode: 'LOINC:9279-1',
  channels: ['resp'],
  compute(input) {
    const ch = input.channels.get('resp');
    if (!ch || ch.rateHz === undefined) return undefined;
    const breaths = breathTimes(ch.times, ch.values, ch.rateHz);
    if (breaths.length < 3) return undefined;
    const spanMs = breaths[breaths.length - 1]! - breaths[0]!;
    return { value: ((breaths.length - 1) * 60_000) / spanMs, n: breaths.length, coverage: rateCoverage(ch, input.startMs, input.endMs) };
  },
};

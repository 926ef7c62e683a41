/**
 * Light exposure of one local day, from the samples themselves (not from window means). Each
 * sample stands for the time until the next one, its epoch; a gap longer than `maxGapMs` is not
 * bridged: the sample before it stands for one nominal epoch only. So a day with the sensor off
 * is not a dark day: `coveredMin` says how much of it was measured, beside every value.
 *
 * Definitions (conventions as the light-dosimetry literature and its tools use them):
 * - light.dose (lx.h): the sum over samples of illuminance x epoch.
 * - light.tat<C> (min): time at or above C lx: the epochs of samples with illuminance >= C (a
 *   sample at exactly C counts); the count of epochs, not the time from first to last.
 * - light.flit<C>, light.llit<C> (min after local midnight): the local clock time of the first
 *   and last sample at or above C lx. light.mlit<C>: the mean local clock time of the samples at
 *   or above C, each weighted by its epoch (Reid et al., 2014, "Timing and intensity of light
 *   correlate with body weight in adults", PLoS ONE 9(4): e92251, mean timing of light above
 *   threshold).
 * - light.lan<C> (min): light at night: the epochs of samples above C lx whose local clock time
 *   is in the night (from `nightStartMin` to `nightEndMin` after midnight, across midnight).
 * - light.dose.hl<H> (lx.h): the dose decayed exponentially with half-life H, as it stands at the
 *   end of the day: the sum of illuminance x epoch x 2^(-(end - t) / H), carried from the days
 *   before by the caller.
 */
import { localClockMinutes } from './local-days.js';

export interface LightDayOptions {
  readonly timeZone: string;
  readonly thresholdLx: number;
  readonly nightThresholdLx: number;
  readonly nightStartMin: number;
  readonly nightEndMin: number;
  /** The sensor's nominal sample period. */
  readonly epochMs: number;
  /** Longest interval a sample may stand for; a longer one is a gap. */
  readonly maxGapMs: number;
}

export interface LightDay {
  readonly doseLxh: number;
  readonly tatMin: number;
  readonly flitMin: number | undefined;
  readonly llitMin: number | undefined;
  readonly mlitMin: number | undefined;
  readonly lanMin: number;
  readonly coveredMin: number;
  readonly samples: number;
}

function atNight(clockMin: number, o: LightDayOptions): boolean {
  return o.nightStartMin > o.nightEndMin ? clockMin >= o.nightStartMin || clockMin < o.nightEndMin : clockMin >= o.nightStartMin && clockMin < o.nightEndMin;
}

/** The epoch each sample stands for, in ms: to the next sample, or one nominal epoch across a gap or at the end. */
export function epochs(times: ArrayLike<number>, epochMs: number, maxGapMs: number, endMs = Infinity): Float64Array {
  const out = new Float64Array(times.length);
  for (let i = 0; i < times.length; i++) {
    const next = i + 1 < times.length ? times[i + 1]! : Math.min(endMs, times[i]! + epochMs);
    const d = next - times[i]!;
    out[i] = d > maxGapMs ? epochMs : Math.max(0, d);
  }
  return out;
}

/** One local day's light exposure from its samples (times in ms, in order, within the day). */
export function lightDay(times: ArrayLike<number>, lux: ArrayLike<number>, dayEndMs: number, o: LightDayOptions): LightDay {
  const e = epochs(times, o.epochMs, o.maxGapMs, dayEndMs);
  let dose = 0, tat = 0, lan = 0, covered = 0;
  let flit: number | undefined, llit: number | undefined;
  let mlitSum = 0, mlitWeight = 0;
  for (let i = 0; i < times.length; i++) {
    const epochMin = e[i]! / 60000;
    const v = lux[i]!;
    covered += epochMin;
    dose += (v * e[i]!) / 3_600_000;
    const clock = localClockMinutes(times[i]!, o.timeZone);
    if (v >= o.thresholdLx) {
      tat += epochMin;
      flit ??= clock;
      llit = clock;
      mlitSum += clock * epochMin;
      mlitWeight += epochMin;
    }
    if (v > o.nightThresholdLx && atNight(clock, o)) lan += epochMin;
  }
  return { doseLxh: dose, tatMin: tat, flitMin: flit, llitMin: llit, mlitMin: mlitWeight > 0 ? mlitSum / mlitWeight : undefined, lanMin: lan, coveredMin: covered, samples: times.length };
}

/** A dose decayed with half-life `halfLifeMs`, carried from `fromMs` to `toMs`, plus the day's samples. */
export function decayedDose(carriedLxh: number, fromMs: number, toMs: number, times: ArrayLike<number>, lux: ArrayLike<number>, epochMsOf: Float64Array, halfLifeMs: number): number {
  let d = carriedLxh * 2 ** (-(toMs - fromMs) / halfLifeMs);
  for (let i = 0; i < times.length; i++) d += ((lux[i]! * epochMsOf[i]!) / 3_600_000) * 2 ** (-(toMs - times[i]!) / halfLifeMs);
  return d;
}

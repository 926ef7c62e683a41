/**
 * resp.breaths, streaming: breaths detected one sample at a time in a respiration signal
 * (channel `resp`: chest expansion, any unit) at a nominal rate. The window method of
 * features/resp-rate.ts made causal, so that a day's count can be kept as samples arrive and
 * carried across a restart in `state()`.
 *
 * Method and constants, per sample:
 * 1. Baseline: double exponential smoothing (Brown's: twice an exponential moving average less
 *    the average of that average), time constant 10 s; each average is the plain running mean
 *    of the samples so far until 10 s of them have come, so the start carries no bias. A single
 *    average lags a drifting baseline by 10 s times its slope, which at 30 a minute and more
 *    was enough to hide the breaths' troughs; the double one follows a ramp without lag. It
 *    takes about 30 % of a breath's swing at 6 a minute, 16 % at 12. d = value - baseline.
 * 2. Smoothing: the mean s of the last W = 2 round(rate/2) + 1 values of d (1 s, the window of
 *    resp-rate.ts), which keeps breathing up to about 40 a minute and drops sensor noise. It is
 *    the centred moving average of the sample (W - 1)/2 back: detection runs half a second late,
 *    and says so by completing a breath on a later sample.
 * 3. Spread: exponential moving averages (10 s, again a running mean at first) of s^2 and of
 *    r^2, r being the fast part that smoothing removed (the centre sample's d less s).
 * 4. Noise gate: nothing is counted unless RMS(s) > 2 RMS(r) / sqrt(W - 1). White noise gives
 *    RMS(s) = RMS(r) / sqrt(W - 1) exactly (s averages W samples, r is one less their mean), so
 *    a flat or noise-only signal, of any amplitude, does not open it; breathing puts RMS(s) far
 *    above (at 25 Hz: about 14 RMS(r) at 12 a minute, 0.7 at 40, against a gate of 0.41). At
 *    10 Hz sampling, breathing faster than about 35 a minute is not told apart from noise.
 *    Noise with its power at breathing frequencies (a random walk) is not white and can count.
 *    While the spread estimates are young (m smoothed samples since the start or a gap) the
 *    gate is stricter, by 1 + 4 W/m on the squares: two averages of a few seconds scatter
 *    widely, and without it about one restart in 2,500 into noise at 10 Hz counted a breath.
 * 5. Schmitt trigger, as resp-rate.ts: armed when s < -h, a breath when armed and s > +h,
 *    h = 0.25 RMS(s) (a wobble around the baseline, such as the heartbeat during a pause, is not
 *    a breath).
 * 6. Refractory interval: a crossing less than 1.5 s after the last breath disarms the trigger
 *    without counting (at most 40 a minute, the fastest the smoothing keeps).
 *
 * Warm-up: nothing is counted in the first 6 s after the start or a gap (W - 1 samples to fill
 * the smoother, then 5 s for the baseline and the spread); a breath that rises in it is lost.
 *
 * A gap (gap(), or more than max(1 s, 4 sample periods) between two samples) is never bridged:
 * the next sample starts everything afresh, warm-up included; shorter holes are bridged. Samples
 * not after the last one, and non-finite ones, are dropped. `state()` is plain JSON and a
 * restored counter continues exactly as the original would (JSON writes -0 as 0; no result
 * depends on the sign of a zero). Not for concurrent use.
 */

const BASELINE_TAU_S = 10;
const SMOOTH_S = 1;
const SPREAD_TAU_S = 10;
/** How far above white noise's share the slow part must stand: RMS(s) > GATE x RMS(r) / sqrt(W - 1). */
const GATE = 2;
/** The gate's extra strictness while the spread estimates are young: x (1 + YOUTH W/m) on the squares. */
const YOUTH = 4;
const HYSTERESIS = 0.25;
const REFRACTORY_MS = 1500;
const WARMUP_S = 5;

export interface BreathCounterOptions {
  /** The signal's nominal rate (Hz); 2 or more. */
  readonly rateHz: number;
}

export interface BreathCounterState {
  /** The rate it was made for: a state goes back only into a counter for the same rate. */
  rateHz: number;
  /** Time (ms) of the last accepted sample; kept across a gap so that older samples are refused. */
  lastMs: number | null;
  /** Samples since the start or the last gap. */
  samples: number;
  /** The last W values of d, in a ring; `at` is the oldest (the next to be overwritten). */
  ring: number[];
  at: number;
  /** The baseline's two exponential averages: of the signal, and of that average. */
  average: number;
  averageOfAverage: number;
  slowSquare: number;
  fastSquare: number;
  armed: boolean;
  lastBreathMs: number | null;
}

export class BreathCounter {
  readonly #width: number;
  readonly #baselineAlpha: number;
  readonly #spreadAlpha: number;
  readonly #gate2: number;
  readonly #warmup: number;
  readonly #maxStepMs: number;
  #s: BreathCounterState;

  constructor(options: BreathCounterOptions, state?: BreathCounterState) {
    const rate = options.rateHz;
    if (!Number.isFinite(rate) || rate < 2) throw new TypeError(`rateHz must be 2 or more, not ${rate}`);
    this.#width = 2 * Math.max(1, Math.round((SMOOTH_S * rate) / 2)) + 1;
    this.#baselineAlpha = 1 - Math.exp(-1 / (BASELINE_TAU_S * rate));
    this.#spreadAlpha = 1 - Math.exp(-1 / (SPREAD_TAU_S * rate));
    this.#gate2 = (GATE * GATE) / (this.#width - 1);
    this.#warmup = this.#width - 1 + Math.round(WARMUP_S * rate);
    this.#maxStepMs = Math.max(1000, 4000 / rate);
    if (state !== undefined && (state.rateHz !== rate || state.ring.length !== this.#width)) throw new TypeError(`BreathCounter state is for ${state.rateHz} Hz, not ${rate} Hz`);
    this.#s = state ? { ...state, ring: state.ring.slice() } : { rateHz: rate, lastMs: null, ...this.#fresh(), lastBreathMs: null };
  }

  /** One sample; true when it completes a breath. */
  push(tMs: number, value: number): boolean {
    const s = this.#s;
    if (!Number.isFinite(tMs) || !Number.isFinite(value)) return false;
    if (s.lastMs !== null && tMs <= s.lastMs) return false;
    if (s.samples > 0 && tMs - s.lastMs! > this.#maxStepMs) this.gap();
    s.lastMs = tMs;
    const n = ++s.samples;
    if (n === 1) {
      s.average = value;
      s.averageOfAverage = value;
    } else {
      const a = Math.max(this.#baselineAlpha, 1 / n);
      s.average += (value - s.average) * a;
      s.averageOfAverage += (s.average - s.averageOfAverage) * a;
    }
    const w = this.#width;
    s.ring[s.at] = value - (2 * s.average - s.averageOfAverage);
    s.at = (s.at + 1) % w;
    if (n < w) return false;
    let sum = 0;
    for (let i = 0; i < w; i++) sum += s.ring[i]!;
    const smooth = sum / w;
    const fast = s.ring[(s.at + (w - 1) / 2) % w]! - smooth;
    const a = Math.max(this.#spreadAlpha, 1 / (n - w + 1));
    s.slowSquare += (smooth * smooth - s.slowSquare) * a;
    s.fastSquare += (fast * fast - s.fastSquare) * a;
    if (n < this.#warmup || !(s.slowSquare > this.#gate2 * (1 + (YOUTH * w) / (n - w + 1)) * s.fastSquare)) {
      s.armed = false;
      return false;
    }
    const h = HYSTERESIS * Math.sqrt(s.slowSquare);
    if (smooth < -h) s.armed = true;
    else if (s.armed && smooth > h) {
      s.armed = false;
      if (s.lastBreathMs === null || tMs - s.lastBreathMs >= REFRACTORY_MS) {
        s.lastBreathMs = tMs;
        return true;
      }
    }
    return false;
  }

  /** A batch (the shape the streams stage hands over); returns the times of the samples that completed a breath. */
  pushBatch(times: ArrayLike<number>, values: ArrayLike<number>): number[] {
    if (times.length !== values.length) throw new TypeError(`times and values differ in length: ${times.length} and ${values.length}`);
    const out: number[] = [];
    for (let i = 0; i < times.length; i++) if (this.push(times[i]!, values[i]!)) out.push(times[i]!);
    return out;
  }

  /** The signal stopped: the next sample starts detection afresh. */
  gap(): void {
    Object.assign(this.#s, this.#fresh());
  }

  state(): BreathCounterState {
    return { ...this.#s, ring: this.#s.ring.slice() };
  }

  #fresh(): Omit<BreathCounterState, 'rateHz' | 'lastMs' | 'lastBreathMs'> {
    return { samples: 0, ring: new Array<number>(this.#width).fill(0), at: 0, average: 0, averageOfAverage: 0, slowSquare: 0, fastSquare: 0, armed: false };
  }
}

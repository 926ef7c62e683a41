/**
 * One channel resampled to the 30 Hz grid of the ActiGraph counts algorithm, aligned to the
 * absolute clock: grid point k is at k x 100/3 ms since the Unix epoch. The index k is the
 * grid's identity (an integer, never a sum of float steps), so two sensors, or one sensor before
 * and after a restart, put the same instant on the same k.
 *
 * What ActiGraph does for other rates, read in the agcounts package (actigraph/agcounts,
 * agcounts/extract.py, legacy.py and pow2.py), and what we do instead:
 * - 30 Hz: the samples are used as they are (only rounded to 1 mg). Here too: each sample is
 *   put on its nearest grid point, so 30 Hz input gives exactly ActiLife's counts.
 * - 40 to 100 Hz in steps of 10: upsample by L (zeros between samples), a first-order IIR
 *   low-pass with its corner at the input's Nyquist frequency (none at 60 and 90 Hz), keep every
 *   M-th sample (L/M = 30/rate). Its own comments call that low-pass poor and the cause of
 *   aliasing in the counts. The L/M arithmetic also needs the input times on a lattice shared
 *   with the 30 Hz grid; a hub's sample times are rebuilt from arrival times and a nominal rate
 *   and are not.
 * - 32, 64, 128, 256 Hz: upsample to 256 Hz (FIR), a one-pole low-pass, then linear
 *   interpolation to 30 Hz.
 * - any rate with `use_mne`: MNE's resampling, a proper anti-alias filter before decimating,
 *   offered as the modern alternative to the legacy filters.
 *
 * We take the general form of the last two, made causal: above 30 Hz, an anti-alias low-pass
 * (4th-order Butterworth, corner 10 Hz, by the bilinear transform with pre-warping), then linear
 * interpolation between samples at the grid times; at or below 30 Hz no low-pass (nothing to
 * alias). 10 Hz is a trade-off: it leaves what the counts' band-pass keeps (0.29 to 1.63 Hz at
 * half power, a quarter of its peak gain by 3 Hz) untouched (gain above 1 - 2e-6 below 2 Hz)
 * and takes about 36 dB or more off the 28 to 32 Hz band that decimation to 30 Hz folds onto 0 to
 * 2 Hz (46 dB at 100 Hz input). Its low-frequency group delay (40 ms at 100 Hz input) is
 * taken back by reading the filtered signal that much later than each grid time, so
 * that a 100 Hz sensor's counts fall in the same epochs, at the same instants, as a 30 Hz
 * sensor's. Counts from non-30 Hz input are therefore close to, not identical with, ActiLife's
 * for the same rate (ActiLife's include the aliasing its filter lets through).
 */

/** The grid's rate (Hz); a step is 100/3 ms, always computed from k (gridTimeMs), never summed. */
export const GRID_HZ = 30;

/** Time (ms since the Unix epoch) of grid point k. */
export function gridTimeMs(k: number): number {
  return (k * 100) / 3;
}

const CORNER_HZ = 10;

/** One second-order section: b0, b1, b2, a1, a2 (a0 = 1). */
type Section = readonly [number, number, number, number, number];

/** 4th-order Butterworth low-pass as two sections (bilinear transform, corner pre-warped). */
export function butterworthLowPass4(cornerHz: number, rateHz: number): Section[] {
  const k = Math.tan((Math.PI * cornerHz) / rateHz);
  // The analog prototype's pole pairs sit at 22.5 and 67.5 degrees from the negative real axis.
  return [Math.PI / 8, (3 * Math.PI) / 8].map((theta) => {
    const q = 1 / (2 * Math.cos(theta));
    const norm = 1 / (1 + k / q + k * k);
    const b0 = k * k * norm;
    return [b0, 2 * b0, b0, 2 * (k * k - 1) * norm, (1 - k / q + k * k) * norm] as const;
  });
}

/** Group delay at 0 Hz of a cascade, in samples: per section, sum(i b_i)/sum(b_i) - sum(i a_i)/sum(a_i). */
function dcDelaySamples(sections: readonly Section[]): number {
  return sections.reduce((d, [b0, b1, b2, a1, a2]) => d + (b1 + 2 * b2) / (b0 + b1 + b2) - (a1 + 2 * a2) / (1 + a1 + a2), 0);
}

/** A `GridResampler`'s state. */
export interface GridResamplerState {
  /** The rate it was made for: a state goes back only into a resampler for the same rate. */
  rateHz: number;
  /** False before the first sample and after a gap: the next sample starts afresh. */
  started: boolean;
  /** Time (ms) of the last accepted sample; kept across a gap so that older samples are refused. */
  lastMs: number | null;
  /** That sample's value after the anti-alias filter. */
  lastValue: number;
  /** The anti-alias filter's state, two numbers a section; empty at 30 Hz and below. */
  lowPass: number[];
  /** The first grid point not yet given out; null before the first sample. */
  nextK: number | null;
}

/**
 * Resamples one channel onto the grid, sample by sample. Grid points are given out in order of
 * k, each once; those in a gap are skipped, never filled. Not for concurrent use.
 */
export class GridResampler {
  readonly rateHz: number;
  /** The anti-alias filter's group delay that grid times are shifted by (ms; 0 without it). */
  readonly delayMs: number;
  readonly #sections: Section[];
  /** The sections' coefficients in one flat array: the per-sample loop reads no tuples. */
  readonly #coefficients: Float64Array;
  readonly #snap: boolean;
  #started = false;
  #lastMs: number | null = null;
  #lastValue = 0;
  #lowPass: number[];
  #nextK: number | null = null;

  constructor(rateHz: number, state?: GridResamplerState) {
    if (!Number.isFinite(rateHz) || rateHz <= 0) throw new TypeError(`rateHz must be a positive number, not ${rateHz}`);
    this.rateHz = rateHz;
    this.#snap = rateHz === GRID_HZ;
    this.#sections = rateHz > GRID_HZ ? butterworthLowPass4(CORNER_HZ, rateHz) : [];
    this.#coefficients = Float64Array.from(this.#sections.flat());
    this.delayMs = this.#sections.length > 0 ? (dcDelaySamples(this.#sections) * 1000) / rateHz : 0;
    this.#lowPass = new Array<number>(2 * this.#sections.length).fill(0);
    if (state) {
      if (state.rateHz !== rateHz || state.lowPass.length !== this.#lowPass.length) throw new TypeError(`GridResampler state is for ${state.rateHz} Hz, not ${rateHz} Hz`);
      this.#started = state.started;
      this.#lastMs = state.lastMs;
      this.#lastValue = state.lastValue;
      this.#lowPass = state.lowPass.slice();
      this.#nextK = state.nextK;
    }
  }

  /** Time (ms) of the last accepted sample, or null. */
  get lastMs(): number | null {
    return this.#lastMs;
  }

  /** Every grid point below this one has been given out or skipped; null before any sample. */
  get frontier(): number | null {
    return this.#nextK;
  }

  /** False before the first sample and after gap(). */
  get started(): boolean {
    return this.#started;
  }

  /**
   * One sample; `emit` is called for each grid point it completes, in order. Returns false when
   * the sample is refused: not after the last one, or (at 30 Hz) on a grid point already given.
   */
  push(tMs: number, value: number, emit: (k: number, value: number) => void): boolean {
    if (this.#lastMs !== null && tMs <= this.#lastMs) return false;
    return this.#snap ? this.#pushSnapped(tMs, value, emit) : this.#pushInterpolated(tMs, value, emit);
  }

  /** The signal stopped: the next sample starts the filter and the interpolation afresh. */
  gap(): void {
    this.#started = false;
  }

  state(): GridResamplerState {
    return { rateHz: this.rateHz, started: this.#started, lastMs: this.#lastMs, lastValue: this.#lastValue, lowPass: this.#lowPass.slice(), nextK: this.#nextK };
  }

  #pushSnapped(tMs: number, value: number, emit: (k: number, value: number) => void): boolean {
    const k = Math.round((tMs * 3) / 100);
    if (this.#nextK !== null && k < this.#nextK) return false;
    if (this.#started) {
      // Clock jitter can skip a grid point: fill it on the line between its neighbours.
      const from = this.#nextK! - 1;
      for (let j = from + 1; j < k; j++) emit(j, this.#lastValue + ((value - this.#lastValue) * (j - from)) / (k - from));
    }
    emit(k, value);
    this.#started = true;
    this.#lastMs = tMs;
    this.#lastValue = value;
    this.#nextK = k + 1;
    return true;
  }

  #pushInterpolated(tMs: number, value: number, emit: (k: number, value: number) => void): boolean {
    const fresh = !this.#started;
    if (fresh) this.#settle(value);
    const y = this.#filter(value);
    if (fresh) {
      // The first grid point at or after this sample, never one already given: none before it
      // is made up from the filter's settled state.
      let k = Math.ceil((tMs * 3) / 100);
      while (gridTimeMs(k - 1) >= tMs) k--;
      while (gridTimeMs(k) < tMs) k++;
      this.#nextK = this.#nextK === null ? k : Math.max(k, this.#nextK);
      while (gridTimeMs(this.#nextK) + this.delayMs <= tMs) emit(this.#nextK++, y);
    } else {
      const t0 = this.#lastMs!;
      const y0 = this.#lastValue;
      for (let s = gridTimeMs(this.#nextK!) + this.delayMs; s <= tMs; s = gridTimeMs(this.#nextK!) + this.delayMs) {
        emit(this.#nextK!, y0 + ((y - y0) * (s - t0)) / (tMs - t0));
        this.#nextK!++;
      }
    }
    this.#started = true;
    this.#lastMs = tMs;
    this.#lastValue = y;
    return true;
  }

  /** Puts the low-pass in the state a constant input x would hold it in (scipy's lfilter_zi x x). */
  #settle(x: number): void {
    let u = x;
    this.#sections.forEach(([b0, b1, b2, a1, a2], i) => {
      const y = (u * (b0 + b1 + b2)) / (1 + a1 + a2);
      const z1 = b2 * u - a2 * y;
      this.#lowPass[2 * i] = b1 * u - a1 * y + z1;
      this.#lowPass[2 * i + 1] = z1;
      u = y;
    });
  }

  /** Transposed direct form II, section by section. */
  #filter(x: number): number {
    let u = x;
    const z = this.#lowPass;
    const c = this.#coefficients;
    for (let i = 0, j = 0; j < c.length; i += 2, j += 5) {
      const y = c[j]! * u + z[i]!;
      z[i] = c[j + 1]! * u - c[j + 3]! * y + z[i + 1]!;
      z[i + 1] = c[j + 2]! * u - c[j + 4]! * y;
      u = y;
    }
    return u;
  }
}

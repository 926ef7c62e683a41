/**
 * ActiGraph activity counts from 30 Hz acceleration (g), as ActiGraph published the algorithm
 * (Neishabouri et al., 2022, "Quantification of acceleration as activity counts in ActiGraph
 * wearable", Sci Rep 12:11958; coefficients of its Table 1, as the agcounts package gives them):
 *
 * 1. each sample rounded to 3 decimals;
 * 2. a 7th-order IIR band-pass filter (below), started in its steady state for the first sample
 *    so that gravity on an axis at rest gives no counts;
 * 3. scaled by (3/4096) / (2.6/256) x 237.5 = 17.127404;
 * 4. rectified, below 4 set to 0, above 128 set to 128, floored;
 * 5. to 10 Hz: each group of 3 samples averaged and floored;
 * 6. summed per epoch.
 *
 * Streaming, as a hub receives samples: the filter's state, the partial group of 3 and the
 * partial epoch are kept between chunks, so counts are the same however the stream is cut. (A
 * filter restarted per chunk would ring at every chunk boundary.) Input must be at 30 Hz;
 * resampling other rates is the caller's (activity-counter.ts does it on a clock-aligned grid).
 *
 * Steps 1 to 4 are `AgCountFilter`, one count per 30 Hz sample; `AxisCounts` adds steps 5 and 6
 * counting samples from its start. Both give their state as plain JSON so that a restarted hub
 * continues exactly where it stopped.
 */

/** Input (numerator) coefficients, b. */
export const AG_B = [-0.009341062898525, -0.025470289659360, -0.004235264826105, 0.044152415456420, 0.036493718347760, -0.011893961934740, -0.022917390623150, -0.006788163862310, 0];
/** Output (denominator) coefficients, a. */
export const AG_A = [1, -3.63367395910957, 5.03689812757486, -3.09612247819666, 0.50620507633883, 0.32421701566682, -0.15685485875559, 0.0194913020589, 0];
const SCALE = ((3 / 4096) / (2.6 / 256)) * 237.5;
const MIN_COUNT = 4;
const MAX_COUNT = 128;

/** The filter state for which a constant input of 1 gives a constant output (scipy's lfilter_zi). */
export function steadyState(b: readonly number[], a: readonly number[]): number[] {
  const n = b.length - 1;
  const sumA = a.reduce((s, x) => s + x, 0);
  const y = b.reduce((s, x) => s + x, 0) / sumA;
  const z = new Array<number>(n).fill(0);
  z[n - 1] = b[n]! - a[n]! * y;
  for (let i = n - 2; i >= 0; i--) z[i] = b[i + 1]! - a[i + 1]! * y + z[i + 1]!;
  return z;
}

const ZI = steadyState(AG_B, AG_A);

/** An `AgCountFilter`'s state; `z` is null until the first sample (and after a restart). */
export interface AgCountFilterState {
  z: number[] | null;
}

/** Steps 1 to 4: one 30 Hz sample (g) in, its count (0, or 4 to 128) out. */
export class AgCountFilter {
  #z: number[] | null;

  constructor(state?: AgCountFilterState) {
    if (state !== undefined && state.z !== null && state.z.length !== ZI.length) throw new TypeError(`AgCountFilter state needs ${ZI.length} filter values, not ${state.z.length}`);
    this.#z = state?.z ? state.z.slice() : null;
  }

  count(g: number): number {
    const n = AG_B.length - 1;
    const x = Math.round(g * 1000) / 1000;
    this.#z ??= ZI.map((v) => v * x);
    const z = this.#z;
    // Transposed direct form II, as lfilter computes it.
    const y = AG_B[0]! * x + z[0]!;
    for (let i = 0; i < n - 1; i++) z[i] = AG_B[i + 1]! * x + z[i + 1]! - AG_A[i + 1]! * y;
    z[n - 1] = AG_B[n]! * x - AG_A[n]! * y;
    const c = Math.abs(y * SCALE);
    return c < MIN_COUNT ? 0 : c > MAX_COUNT ? MAX_COUNT : Math.floor(c);
  }

  /** The next sample starts the filter in its steady state again, as at the first one. */
  restart(): void {
    this.#z = null;
  }

  state(): AgCountFilterState {
    return { z: this.#z ? this.#z.slice() : null };
  }
}

/** An `AxisCounts`' state: the filter, the partial group of 3 and the partial epoch. */
export interface AxisCountsState {
  filter: AgCountFilterState;
  group: number;
  groupSum: number;
  epoch: number;
  epochSum: number;
}

/** One axis's counts, fed in chunks of 30 Hz samples; epochs come out as they complete. */
export class AxisCounts {
  readonly #samplesPerEpoch10Hz: number;
  readonly #filter: AgCountFilter;
  #group = 0;
  #groupSum = 0;
  #epoch = 0;
  #epochSum = 0;

  constructor(epochSeconds: number, state?: AxisCountsState) {
    if (!Number.isInteger(epochSeconds) || epochSeconds < 1) throw new TypeError(`epochSeconds must be a positive integer, not ${epochSeconds}`);
    this.#samplesPerEpoch10Hz = epochSeconds * 10;
    this.#filter = new AgCountFilter(state?.filter);
    if (state) {
      if (state.group >= 3 || state.epoch >= this.#samplesPerEpoch10Hz) throw new TypeError(`AxisCounts state does not fit ${epochSeconds} s epochs`);
      this.#group = state.group;
      this.#groupSum = state.groupSum;
      this.#epoch = state.epoch;
      this.#epochSum = state.epochSum;
    }
  }

  /** Pushes samples (g, 30 Hz); returns the counts of the epochs they completed. */
  push(samples: ArrayLike<number>): number[] {
    const out: number[] = [];
    for (let k = 0; k < samples.length; k++) {
      this.#groupSum += this.#filter.count(samples[k]!);
      if (++this.#group === 3) {
        this.#epochSum += Math.floor(this.#groupSum / 3);
        this.#group = 0;
        this.#groupSum = 0;
        if (++this.#epoch === this.#samplesPerEpoch10Hz) {
          out.push(this.#epochSum);
          this.#epoch = 0;
          this.#epochSum = 0;
        }
      }
    }
    return out;
  }

  state(): AxisCountsState {
    return { filter: this.#filter.state(), group: this.#group, groupSum: this.#groupSum, epoch: this.#epoch, epochSum: this.#epochSum };
  }
}

/** Vector magnitude of per-axis counts: the usual one number per epoch for three axes. */
export function vectorMagnitude(x: number, y: number, z: number): number {
  return Math.sqrt(x * x + y * y + z * z);
}

/**
 * activity.counts, streaming: ActiGraph counts (activity-counts.ts) for a tri-axial
 * accelerometer whose axes arrive as separate channels (acc_x, acc_y, acc_z in g, at the same
 * times) at any nominal rate, in epochs aligned to the clock.
 *
 * - Each axis is resampled to the absolute 30 Hz grid (resample.ts: why and how, after what
 *   agcounts does for other rates) and counted per 30 Hz sample by `AgCountFilter`.
 * - The 10 Hz groups of 3 are the grid's (k = 3g, 3g + 1, 3g + 2), not the stream's, and an
 *   epoch is the grid points from one multiple of `epochS` seconds since the Unix epoch to the
 *   next; so a restart or a gap never shifts a group or an epoch, and two hubs agree on them.
 * - An epoch is given out once all three axes have passed its end, with `coveredS`: the grid
 *   samples it was counted from over 30 (the fewest of the three axes). A full epoch has
 *   `coveredS === epochS`; the first epoch, and those around a gap, have less, and their counts
 *   are of what was there. An epoch with no sample at all is not given out. When the input
 *   ends, flush() gives out the epochs still open, and closes them.
 * - A gap (gap(), or a step of more than max(1 s, 4 sample periods) between samples of an
 *   axis) is never bridged: the partial group of 3 is averaged over the samples it has (what
 *   the nanmean of agcounts' legacy implementation gives a group whose missing samples are
 *   NaN), and the next sample restarts the anti-alias filter and the counts filter in their
 *   steady state, as at the very start, so a change of posture across the gap is not counted
 *   as movement. Shorter holes are filled on the line between their neighbours. Above 30 Hz the
 *   grid points of the last 40 ms or so before a gap or flush() (the anti-alias filter's delay)
 *   are never given out: their filtered value does not arrive.
 * - Samples not after the last one of their axis, and non-finite ones, are dropped.
 *
 * `state()` is plain JSON: `new ActivityCounter(options, JSON.parse(JSON.stringify(c.state())))`
 * continues exactly as `c` would (JSON keeps doubles exactly; it writes -0 as 0, and no output
 * depends on the sign of a zero). Not for concurrent use.
 */
import { AgCountFilter, vectorMagnitude, type AgCountFilterState } from './activity-counts.js';
import { GRID_HZ, GridResampler, type GridResamplerState } from './resample.js';

export interface ActivityCounterOptions {
  /** The accelerometer's nominal rate (Hz). */
  readonly rateHz: number;
  /** Epoch length in whole seconds (60 unless said). */
  readonly epochS?: number;
}

/** One epoch's counts, per axis and as vector magnitude. */
export interface Epoch {
  /** ms since the Unix epoch, a multiple of epochS x 1000. */
  readonly startMs: number;
  readonly endMs: number;
  readonly x: number;
  readonly y: number;
  readonly z: number;
  readonly vm: number;
  /** Seconds of the epoch the counts come from: epochS when it was fully covered. */
  readonly coveredS: number;
}

export type Axis = 0 | 1 | 2;

/** One axis's part of an `ActivityCounterState`. */
export interface ActivityAxisState {
  resampler: GridResamplerState;
  filter: AgCountFilterState;
  /** The 10 Hz group being filled (grid point / 3), or null. */
  group: number | null;
  groupSum: number;
  groupSamples: number;
}

/** An epoch some axis has counts in, not yet given out. */
export interface PendingEpochState {
  /** startMs / (epochS x 1000). */
  index: number;
  counts: number[];
  samples: number[];
}

export interface ActivityCounterState {
  /** The epoch length it was made for: a state goes back only into a counter with the same. */
  epochS: number;
  axes: ActivityAxisState[];
  epochs: PendingEpochState[];
  /** Grid points below this one belong to epochs flush() gave out; null before any flush. */
  closedBefore: number | null;
}

interface AxisParts {
  readonly resampler: GridResampler;
  readonly filter: AgCountFilter;
  readonly emit: (k: number, g: number) => void;
  group: number | null;
  groupSum: number;
  groupSamples: number;
}

export class ActivityCounter {
  readonly #epochS: number;
  /** Grid points in an epoch. */
  readonly #epochK: number;
  readonly #maxStepMs: number;
  readonly #axes: AxisParts[];
  #epochs: PendingEpochState[] = [];
  #closedBefore: number | null = null;

  constructor(options: ActivityCounterOptions, state?: ActivityCounterState) {
    const epochS = options.epochS ?? 60;
    if (!Number.isInteger(epochS) || epochS < 1) throw new TypeError(`epochS must be a positive integer, not ${epochS}`);
    if (!Number.isFinite(options.rateHz) || options.rateHz <= 0) throw new TypeError(`rateHz must be a positive number, not ${options.rateHz}`);
    if (state !== undefined && (state.axes.length !== 3 || state.epochS !== epochS)) throw new TypeError(`ActivityCounter state is for ${state.axes.length} axes and ${state.epochS} s epochs, not 3 and ${epochS}`);
    this.#epochS = epochS;
    this.#epochK = epochS * GRID_HZ;
    this.#maxStepMs = Math.max(1000, 4000 / options.rateHz);
    this.#axes = [0, 1, 2].map((a) => {
      const s = state?.axes[a];
      const parts: AxisParts = {
        resampler: new GridResampler(options.rateHz, s?.resampler),
        filter: new AgCountFilter(s?.filter),
        emit: (k, g) => this.#count(parts, a, k, g),
        group: s ? s.group : null,
        groupSum: s ? s.groupSum : 0,
        groupSamples: s ? s.groupSamples : 0,
      };
      return parts;
    });
    if (state) {
      this.#epochs = state.epochs.map((e) => ({ index: e.index, counts: e.counts.slice(), samples: e.samples.slice() }));
      this.#closedBefore = state.closedBefore ?? null;
    }
  }

  /** One sample of one axis (g); returns the epochs it completed, oldest first. */
  push(axis: Axis, tMs: number, g: number): Epoch[] {
    const parts = this.#axes[axis];
    if (parts === undefined) throw new TypeError(`axis must be 0, 1 or 2, not ${axis}`);
    if (!Number.isFinite(tMs) || !Number.isFinite(g)) return [];
    const r = parts.resampler;
    if (r.started && r.lastMs !== null && tMs - r.lastMs > this.#maxStepMs) this.#stop(parts, axis);
    if (!r.push(tMs, g, parts.emit)) return [];
    return this.#completed();
  }

  /** A batch of one axis's samples (the shape the streams stage hands over). */
  pushBatch(axis: Axis, times: ArrayLike<number>, values: ArrayLike<number>): Epoch[] {
    if (times.length !== values.length) throw new TypeError(`times and values differ in length: ${times.length} and ${values.length}`);
    const out: Epoch[] = [];
    for (let i = 0; i < times.length; i++) for (const e of this.push(axis, times[i]!, values[i]!)) out.push(e);
    return out;
  }

  /** The signal stopped, on all three axes: nothing is bridged to the next sample. */
  gap(): void {
    this.#axes.forEach((parts, a) => this.#stop(parts, a));
  }

  /**
   * The input ended, or stopped for longer than anyone will wait (the end of a file, a device
   * gone): as gap(), then every epoch that holds counts is given out now, with what it has. Those
   * epochs are closed: samples that come later for them are dropped, never given out twice.
   */
  flush(): Epoch[] {
    this.gap();
    const last = this.#epochs[this.#epochs.length - 1];
    if (last !== undefined) this.#closedBefore = Math.max(this.#closedBefore ?? -Infinity, (last.index + 1) * this.#epochK);
    return this.#giveOut(Infinity);
  }

  state(): ActivityCounterState {
    return {
      epochS: this.#epochS,
      axes: this.#axes.map((p) => ({ resampler: p.resampler.state(), filter: p.filter.state(), group: p.group, groupSum: p.groupSum, groupSamples: p.groupSamples })),
      epochs: this.#epochs.map((e) => ({ index: e.index, counts: e.counts.slice(), samples: e.samples.slice() })),
      closedBefore: this.#closedBefore,
    };
  }

  #stop(parts: AxisParts, axis: number): void {
    this.#closeGroup(parts, axis);
    parts.filter.restart();
    parts.resampler.gap();
  }

  #count(parts: AxisParts, axis: number, k: number, g: number): void {
    if (this.#closedBefore !== null && k < this.#closedBefore) return;
    const c = parts.filter.count(g);
    const group = Math.floor(k / 3);
    if (parts.group !== null && parts.group !== group) this.#closeGroup(parts, axis);
    parts.group = group;
    parts.groupSum += c;
    parts.groupSamples++;
    if (k - 3 * group === 2) this.#closeGroup(parts, axis);
  }

  /** Step 5 of the algorithm: the group's mean, floored, into its epoch. */
  #closeGroup(parts: AxisParts, axis: number): void {
    if (parts.group === null) return;
    const index = Math.floor((parts.group * 3) / this.#epochK);
    let e: PendingEpochState | undefined;
    for (let i = this.#epochs.length - 1; i >= 0 && e === undefined; i--) {
      const p = this.#epochs[i]!;
      if (p.index === index) e = p;
      else if (p.index < index) {
        e = { index, counts: [0, 0, 0], samples: [0, 0, 0] };
        this.#epochs.splice(i + 1, 0, e);
      }
    }
    if (e === undefined) {
      e = { index, counts: [0, 0, 0], samples: [0, 0, 0] };
      this.#epochs.unshift(e);
    }
    e.counts[axis]! += Math.floor(parts.groupSum / parts.groupSamples);
    e.samples[axis]! += parts.groupSamples;
    parts.group = null;
    parts.groupSum = 0;
    parts.groupSamples = 0;
  }

  #completed(): Epoch[] {
    let frontier = Infinity;
    for (const p of this.#axes) {
      const f = p.resampler.frontier;
      if (f === null) return [];
      frontier = Math.min(frontier, f);
    }
    return this.#giveOut(frontier);
  }

  /** The pending epochs that end at or before grid point `frontier`, oldest first. */
  #giveOut(frontier: number): Epoch[] {
    const out: Epoch[] = [];
    while (this.#epochs.length > 0 && (this.#epochs[0]!.index + 1) * this.#epochK <= frontier) {
      const e = this.#epochs.shift()!;
      const [x, y, z] = e.counts as [number, number, number];
      const startMs = e.index * this.#epochS * 1000;
      out.push({ startMs, endMs: startMs + this.#epochS * 1000, x, y, z, vm: vectorMagnitude(x, y, z), coveredS: Math.min(...e.samples) / GRID_HZ });
    }
    return out;
  }
}

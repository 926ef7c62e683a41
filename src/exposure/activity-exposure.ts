/**
 * activity.counts per local day: ActiGraph counts (vector magnitude of 60 s epochs, from
 * ActivityCounter) summed over the epochs that start in the day, with the time they covered.
 * Epochs are aligned to the clock and local midnights fall on whole minutes, so an epoch is
 * never split between two days.
 */
import type { Accumulator } from '../frames/codec.js';
import { ActivityCounter, type ActivityCounterState, type Axis, type Epoch } from './activity-counter.js';
import { DayLedger, type Boundaries, type DayLedgerState } from './day-ledger.js';
import { LocalDayCache } from './local-days.js';

export interface ActivityOptions {
  readonly rateHz: number;
  readonly maxGapMs: number;
}

export interface ActivityDayValues {
  covered: number;
  counts: number;
}

export interface ActivityStreamState {
  ledger: DayLedgerState<ActivityDayValues>;
  counter?: ActivityCounterState;
  /** Per axis, the time of its last sample. */
  last: Array<number | null>;
}

export const ACTIVITY_EPOCH_S = 60;

export class ActivityStream {
  readonly #o: ActivityOptions;
  readonly #s: ActivityStreamState;
  readonly #counter: ActivityCounter;
  readonly #days: LocalDayCache;
  readonly ledger: DayLedger<ActivityDayValues>;

  constructor(o: ActivityOptions, b: Boundaries, state?: ActivityStreamState) {
    if (b.periodMs % (ACTIVITY_EPOCH_S * 1000) !== 0) throw new TypeError('the report period must be a whole number of activity epochs');
    this.#o = o;
    this.#s = state ?? { ledger: { days: {}, checkpoints: [] }, last: [null, null, null] };
    this.#counter = new ActivityCounter({ rateHz: o.rateHz, epochS: ACTIVITY_EPOCH_S }, this.#s.counter);
    this.#days = new LocalDayCache(b.timeZone);
    this.ledger = new DayLedger(b, () => ({ covered: 0, counts: 0 }), this.#s.ledger);
  }

  state(): ActivityStreamState {
    return { ...this.#s, last: [...this.#s.last], counter: this.#counter.state() };
  }

  /** One sample of one axis (g); false for one at or before that axis's last. */
  push(axis: Axis, t: number, g: number): boolean {
    const last = this.#s.last[axis];
    if (last !== null && last !== undefined && t <= last) return false;
    this.#s.last[axis] = t;
    if (this.ledger.firstMs === undefined) this.ledger.advanceTo(t);
    this.#count(this.#counter.push(axis, t, g));
    return true;
  }

  #count(epochs: readonly Epoch[]): void {
    for (const e of epochs) {
      // Boundaries are whole epochs: the ones up to the epoch's start are passed before it is
      // counted, and the one at its end after.
      this.ledger.advanceTo(e.startMs);
      const day = this.ledger.day(this.#days.of(e.startMs).date);
      day.counts += e.vm;
      day.covered += e.coveredS * 1000;
      this.ledger.advanceTo(e.endMs);
    }
  }

  /** Stopped: the epochs still open are counted with what they have (their covered time says how much). */
  advance(now: number): void {
    if (this.ledger.firstMs === undefined || !this.stoppedAt(now)) return;
    this.#count(this.#counter.flush());
  }

  stoppedAt(now: number): boolean {
    const latest = Math.max(...this.#s.last.map((t) => t ?? -Infinity));
    return now - latest > this.#o.maxGapMs;
  }

  report(v: ActivityDayValues): Accumulator[] {
    return [{ code: 'activity.counts', value: v.counts, unit: '{counts}', covered_s: v.covered / 1000 }];
  }
}

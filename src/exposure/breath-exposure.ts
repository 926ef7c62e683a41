/**
 * resp.breaths per local day: the breaths BreathCounter finds in a respiration signal, each
 * counted in the day of the sample that completed it, with the time the signal covered (its
 * samples times the nominal period: durations are sample counts, never first-to-last).
 */
import type { Accumulator } from '../frames/codec.js';
import { BreathCounter, type BreathCounterState } from './breath-counter.js';
import { DayLedger, type Boundaries, type DayLedgerState } from './day-ledger.js';
import { LocalDayCache } from './local-days.js';

export interface BreathOptions {
  readonly rateHz: number;
  readonly maxGapMs: number;
}

export interface BreathDayValues {
  covered: number;
  breaths: number;
}

export interface BreathStreamState {
  ledger: DayLedgerState<BreathDayValues>;
  counter?: BreathCounterState;
  last?: number;
}

export class BreathStream {
  readonly #o: BreathOptions;
  readonly #s: BreathStreamState;
  readonly #counter: BreathCounter;
  readonly #days: LocalDayCache;
  readonly ledger: DayLedger<BreathDayValues>;

  constructor(o: BreathOptions, b: Boundaries, state?: BreathStreamState) {
    this.#o = o;
    this.#s = state ?? { ledger: { days: {}, checkpoints: [] } };
    this.#counter = new BreathCounter({ rateHz: o.rateHz }, this.#s.counter);
    this.#days = new LocalDayCache(b.timeZone);
    this.ledger = new DayLedger(b, () => ({ covered: 0, breaths: 0 }), this.#s.ledger);
  }

  state(): BreathStreamState {
    return { ...this.#s, counter: this.#counter.state() };
  }

  /** One sample of the signal; false for one at or before the last (a repeat, or late). */
  push(t: number, value: number): boolean {
    if (this.#s.last !== undefined && t <= this.#s.last) return false;
    this.#s.last = t;
    // Every breath before t is counted: the boundaries up to t are passed.
    this.ledger.advanceTo(t);
    const day = this.ledger.day(this.#days.of(t).date);
    day.covered += 1000 / this.#o.rateHz;
    if (this.#counter.push(t, value)) day.breaths++;
    return true;
  }

  stoppedAt(now: number): boolean {
    return now - (this.#s.last ?? -Infinity) > this.#o.maxGapMs;
  }

  report(v: BreathDayValues): Accumulator[] {
    return [{ code: 'resp.breaths', value: v.breaths, unit: '{breaths}', covered_s: v.covered / 1000 }];
  }
}

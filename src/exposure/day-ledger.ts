/**
 * The bookkeeping every exposure stream shares: its values per local day, and a copy of them at
 * each report boundary (every period, and each local midnight) as the stream passes it.
 *
 * Why copies: a subject's streams (light, breathing, movement) arrive at their own pace, and a
 * report for boundary B can only go out once every stream has passed B. A stream that runs
 * ahead keeps the values it had at B until the report is taken, so a report holds exactly what
 * each stream had seen at B, whichever stream came last. A stream "passes" B when nothing it
 * could still add belongs before B (see `advanceTo`).
 *
 * Everything here is plain JSON (numbers, strings, arrays, objects) so that a ledger saved with a
 * report and read back after a crash continues bit for bit as if nothing had happened.
 */
import { localDate, nextLocalDate, startOfLocalDay } from './local-days.js';

export interface Boundaries {
  readonly timeZone: string;
  /** Reports go out at every multiple of this (since the Unix epoch), and at local midnights. */
  readonly periodMs: number;
}

/** The first report boundary strictly after `t`: the next period multiple or local midnight. */
export function boundaryAfter(t: number, b: Boundaries): number {
  const period = (Math.floor(t / b.periodMs) + 1) * b.periodMs;
  const midnight = startOfLocalDay(nextLocalDate(localDate(t, b.timeZone)), b.timeZone);
  return Math.min(period, midnight);
}

export interface Checkpoint<V> {
  readonly atMs: number;
  /** The local day the values are of: the day that ends at, or contains, `atMs`. */
  readonly date: string;
  readonly values: V;
}

export interface DayLedgerState<V> {
  days: Record<string, V>;
  checkpoints: Array<Checkpoint<V>>;
  /** The next boundary not yet passed; absent before the stream's first data. */
  next?: number;
  /** The first time the stream had data: boundaries before it have nothing from this stream. */
  first?: number;
  /** The latest day whose final report was taken: nothing is added to it or before it any more. */
  closed?: string;
  /** Additions refused for a day already closed (a sample later than the day's final report). */
  refused?: number;
}

export class DayLedger<V extends object> {
  readonly #b: Boundaries;
  readonly #empty: () => V;
  readonly #s: DayLedgerState<V>;
  /** Values at a checkpoint beyond what `days` holds (the decayed doses, brought to the boundary). */
  readonly #extra: (atMs: number) => Partial<V>;

  constructor(b: Boundaries, empty: () => V, state?: DayLedgerState<V>, extra: (atMs: number) => Partial<V> = () => ({})) {
    this.#b = b;
    this.#empty = empty;
    this.#s = state ?? { days: {}, checkpoints: [] };
    this.#extra = extra;
  }

  get state(): DayLedgerState<V> {
    return this.#s;
  }

  /** When the stream's data began, if it has any. */
  get firstMs(): number | undefined {
    return this.#s.first;
  }

  /** The day's values to add to; a closed day's go nowhere (counted in `refused`). */
  day(date: string): V {
    if (this.#s.closed !== undefined && date <= this.#s.closed) {
      this.#s.refused = (this.#s.refused ?? 0) + 1;
      return this.#empty();
    }
    let v = this.#s.days[date];
    if (!v) {
      v = this.#empty();
      this.#s.days[date] = v;
    }
    return v;
  }

  /** The stream will add nothing before `t`: every boundary up to `t` is passed now. */
  advanceTo(t: number): void {
    if (this.#s.next === undefined) {
      this.#s.first = t;
      this.#s.next = boundaryAfter(t, this.#b);
      return;
    }
    while (this.#s.next <= t) {
      const at = this.#s.next;
      const date = localDate(at - 1, this.#b.timeZone);
      this.#s.checkpoints.push({ atMs: at, date, values: { ...structuredClone(this.#s.days[date] ?? this.#empty()), ...this.#extra(at) } });
      this.#s.next = boundaryAfter(at, this.#b);
    }
  }

  /** Whether the stream has passed boundary `atMs`. */
  passed(atMs: number): boolean {
    return this.#s.next !== undefined && this.#s.next > atMs;
  }

  /**
   * The values at boundary `atMs` for the report, and forgets them: the checkpoint when the
   * stream passed it, or, for a stream that has not (it has stopped, everything it has is from
   * before), what it has now for that day. A day's values go once its final report is taken.
   */
  take(atMs: number, final: boolean): V {
    const date = localDate(atMs - 1, this.#b.timeZone);
    const i = this.#s.checkpoints.findIndex((c) => c.atMs === atMs);
    let values: V;
    if (this.#s.first === undefined || this.#s.first >= atMs) {
      // The stream began after the boundary: what it holds of that day is from later.
      values = { ...this.#empty(), ...this.#extra(atMs) };
    } else if (i >= 0) {
      values = this.#s.checkpoints[i]!.values;
      this.#s.checkpoints.splice(0, i + 1);
    } else {
      values = { ...structuredClone(this.#s.days[date] ?? this.#empty()), ...this.#extra(atMs) };
    }
    if (final) {
      delete this.#s.days[date];
      this.#s.closed = date;
    }
    return values;
  }
}

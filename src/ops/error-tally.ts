import type { Clock } from './clock.js';
import type { Logger } from './log.js';

export interface ErrorTallyOptions {
  /** Fields every line carries, e.g. { device, profile }. */
  bindings: Record<string, string>;
  clock: Clock;
  /** At most one summary line per this many milliseconds while errors keep coming. */
  summaryEveryMs: number;
}

/**
 * Counts the data errors of one source (bad frames, rejected lines) by code, for metrics, and
 * keeps the log readable when a device floods garbage: the first error of each code is logged at
 * once, then at most one summary line per interval with what came since, and one line when good
 * data flows again. Never a line per bad frame; recording costs a map update and a clock read.
 */
export class ErrorTally {
  readonly #log: Logger;
  readonly #o: ErrorTallyOptions;
  readonly #total = new Map<string, number>();
  readonly #sinceSummary = new Map<string, number>();
  #lastSummaryMs = -Infinity;
  #failing = false;

  constructor(log: Logger, options: ErrorTallyOptions) {
    this.#log = log.child(options.bindings);
    this.#o = options;
  }

  /** One bad frame or line. `detail` is logged only with the first of its code. */
  record(code: string, detail?: Record<string, unknown>): void {
    const first = !this.#total.has(code);
    this.#total.set(code, (this.#total.get(code) ?? 0) + 1);
    this.#failing = true;
    const now = this.#o.clock.monoMs();
    if (first) {
      this.#log.warn({ code, ...detail }, 'bad input from device');
      // The first of a code is its own line; the summary counts what follows it.
      if (this.#lastSummaryMs === -Infinity) this.#lastSummaryMs = now;
      return;
    }
    this.#sinceSummary.set(code, (this.#sinceSummary.get(code) ?? 0) + 1);
    if (now - this.#lastSummaryMs >= this.#o.summaryEveryMs) this.#summarise(now);
  }

  /** Good input arrived: after errors, say once that the source is healthy again. */
  ok(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#summarise(this.#o.clock.monoMs());
    this.#log.info('device input is good again');
  }

  #summarise(now: number): void {
    this.#lastSummaryMs = now;
    if (this.#sinceSummary.size === 0) return;
    this.#log.warn({ errors: Object.fromEntries(this.#sinceSummary) }, 'more bad input from device');
    this.#sinceSummary.clear();
  }

  /** Errors by code since the source started, for metrics. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#total);
  }
}

/**
 * How many refused-but-signed commands the hub answers: a token bucket. A command recorded by
 * someone on the broker and published again after it went stale is signed, so its refusal could
 * be answered; the bucket keeps a flood of such copies from filling the outbox with answers.
 * Refusals past the budget are still counted.
 */
export class AnswerBudget {
  readonly #capacity: number;
  readonly #refillMs: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  /** `now` is a monotonic clock in ms. */
  constructor(capacity: number, refillMs: number, now: () => number) {
    if (!(capacity >= 1) || !(refillMs > 0)) throw new TypeError('capacity >= 1 and refillMs > 0');
    this.#capacity = capacity;
    this.#refillMs = refillMs;
    this.#now = now;
    this.#tokens = capacity;
    this.#at = now();
  }

  take(): boolean {
    const now = this.#now();
    const earned = Math.floor((now - this.#at) / this.#refillMs);
    if (earned > 0) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + earned);
      this.#at += earned * this.#refillMs;
    }
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }
}

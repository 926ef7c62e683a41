/**
 * Reconnect delays: exponential from `minMs` to `maxMs`, with "equal jitter" (half fixed, half
 * random) so that a room of hubs that lost the same broker do not all come back in step, and no
 * delay is ever near zero.
 */
export class Backoff {
  #attempt = 0;
  constructor(private readonly minMs: number, private readonly maxMs: number, private readonly random: () => number = Math.random) {}

  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}

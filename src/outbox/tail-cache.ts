import type { OutboxRecord } from './outbox.js';

/**
 * The most recent durable frames, in memory, so the publisher in the steady state never reads
 * back from disk what was just written. Records are consecutive in seq; the oldest go once the
 * cache holds more than `maxBytes` of payload (the newest always stays).
 */
export class TailCache {
  readonly #maxBytes: number;
  #records: OutboxRecord[] = [];
  /** Records before this index have left the cache. */
  #head = 0;
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Adds the next record; its seq must follow the last one's. */
  push(rec: OutboxRecord): void {
    this.#records.push(rec);
    this.#bytes += rec.payload.length;
    while (this.#bytes > this.#maxBytes && this.#head < this.#records.length - 1) {
      this.#bytes -= this.#records[this.#head++]!.payload.length;
    }
    // Compact now and then: shifting the array once per record would be quadratic.
    if (this.#head > 4096 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The seq of the oldest record held, or undefined when empty. */
  firstSeq(): number | undefined {
    return this.#records[this.#head]?.seq;
  }

  /** Appends to `out` the held records after `afterSeq` that `keep` accepts, up to `limit` in all. */
  collect(afterSeq: number, limit: number, out: OutboxRecord[], keep: (seq: number) => boolean): void {
    const first = this.firstSeq();
    if (first === undefined) return;
    for (let i = this.#head + Math.max(0, afterSeq + 1 - first); i < this.#records.length && out.length < limit; i++) {
      const rec = this.#records[i]!;
      if (keep(rec.seq)) out.push(rec);
    }
  }
}

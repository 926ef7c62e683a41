/**
 * One channel of one subject as a ring of (time, value) pairs in typed arrays: bounded memory,
 * no object per sample. Samples arrive mostly in time order; a late one (another device, a
 * burst) is appended where it arrives, and a window's slice is sorted only when it needs to be.
 *
 * When the ring is full the oldest sample gives way and is counted in `overwritten`: the ring is
 * sized for a window plus its grace, so that happens only when a device sends far more than its
 * profile's rate says.
 */
export class Timeline {
  readonly #times: Float64Array;
  readonly #values: Float32Array;
  #start = 0;
  #count = 0;
  #overwritten = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError(`capacity must be a positive integer, not ${capacity}`);
    this.#times = new Float64Array(capacity);
    this.#values = new Float32Array(capacity);
  }

  get length(): number {
    return this.#count;
  }

  get overwritten(): number {
    return this.#overwritten;
  }

  push(timeMs: number, value: number): void {
    const cap = this.#times.length;
    let at: number;
    if (this.#count < cap) {
      at = (this.#start + this.#count) % cap;
      this.#count++;
    } else {
      at = this.#start;
      this.#start = (this.#start + 1) % cap;
      this.#overwritten++;
    }
    this.#times[at] = timeMs;
    this.#values[at] = value;
  }

  /**
   * The samples with fromMs <= time < toMs, in time order, copied into new arrays (a window's
   * features run on them after the ring has moved on).
   */
  slice(fromMs: number, toMs: number): { times: Float64Array; values: Float32Array } {
    const cap = this.#times.length;
    let n = 0;
    let sorted = true;
    let last = -Infinity;
    for (let i = 0; i < this.#count; i++) {
      const t = this.#times[(this.#start + i) % cap]!;
      if (t >= fromMs && t < toMs) {
        n++;
        if (t < last) sorted = false;
        last = t;
      }
    }
    const times = new Float64Array(n);
    const values = new Float32Array(n);
    let k = 0;
    for (let i = 0; i < this.#count && k < n; i++) {
      const j = (this.#start + i) % cap;
      const t = this.#times[j]!;
      if (t >= fromMs && t < toMs) {
        times[k] = t;
        values[k] = this.#values[j]!;
        k++;
      }
    }
    if (!sorted) sortTogether(times, values);
    return { times, values };
  }

  /** Forgets the samples before `beforeMs` (a closed window's), so the ring holds only what is still wanted. */
  dropBefore(beforeMs: number): void {
    const cap = this.#times.length;
    // Only from the front: a late sample further in is dropped by the next call that reaches it.
    while (this.#count > 0 && this.#times[this.#start]! < beforeMs) {
      this.#start = (this.#start + 1) % cap;
      this.#count--;
    }
  }
}

/** Sorts `times` ascending and `values` with them (stable: equal times keep arrival order). */
function sortTogether(times: Float64Array, values: Float32Array): void {
  const order = Array.from(times.keys()).sort((a, b) => times[a]! - times[b]! || a - b);
  const t = times.slice();
  const v = values.slice();
  order.forEach((from, to) => {
    times[to] = t[from]!;
    values[to] = v[from]!;
  });
}

/**
 * The first and last seq of every segment on disk, in seq order, so a read can start at the
 * segment that holds a seq and the acknowledged segments can be cleared by key range.
 */
export class SegmentIndex {
  #first: number[] = [];
  #last: number[] = [];
  /** Segments before this index are gone from disk. */
  #head = 0;

  add(first: number, last: number): void {
    this.#first.push(first);
    this.#last.push(last);
  }

  /** The first seq of the segment holding `seq`, or of the first one after it; undefined past the end. */
  segmentOf(seq: number): number | undefined {
    let lo = this.#head;
    let hi = this.#last.length - 1;
    if (lo > hi) return undefined;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#last[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return this.#last[lo]! >= seq ? this.#first[lo] : undefined;
  }

  /** The first seq of the last segment that lies wholly at or below `mark`, if any is left. */
  lastWhollyAtOrBelow(mark: number): number | undefined {
    let end = this.#head;
    while (end < this.#last.length && this.#last[end]! <= mark) end++;
    return end === this.#head ? undefined : this.#first[end - 1];
  }

  /** Forgets the segments up to and including the one that starts at `first`. */
  dropThrough(first: number): void {
    while (this.#head < this.#first.length && this.#first[this.#head]! <= first) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#first.length) {
      this.#first = this.#first.slice(this.#head);
      this.#last = this.#last.slice(this.#head);
      this.#head = 0;
    }
  }
}

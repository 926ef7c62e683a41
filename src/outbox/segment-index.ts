/**
 * The first and last seq of every segment on disk, in seq order, so a read can start at the
 * segment that holds a seq and the acknowledged segments can be cleared by key range. Each
 * segment also keeps the wall time its frames were appended at (memory only), which gives the
 * age of the oldest unsent frame without reading it back.
 */
export class SegmentIndex {
  #first: number[] = [];
  #last: number[] = [];
  #atMs: number[] = [];
  /** Segments before this index are gone from disk. */
  #head = 0;

  add(first: number, last: number, atMs: number): void {
    this.#first.push(first);
    this.#last.push(last);
    this.#atMs.push(atMs);
  }

  /** The index of the segment holding `seq`, or of the first one after it; undefined past the end. */
  #indexOf(seq: number): number | undefined {
    let lo = this.#head;
    let hi = this.#last.length - 1;
    if (lo > hi) return undefined;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#last[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return this.#last[lo]! >= seq ? lo : undefined;
  }

  /** The first seq of the segment holding `seq`, or of the first one after it; undefined past the end. */
  segmentOf(seq: number): number | undefined {
    const i = this.#indexOf(seq);
    return i === undefined ? undefined : this.#first[i];
  }

  /** When the segment holding `seq` was appended (wall ms); undefined when no segment on disk holds it. */
  appendedAt(seq: number): number | undefined {
    const i = this.#indexOf(seq);
    return i !== undefined && this.#first[i]! <= seq ? this.#atMs[i] : undefined;
  }

  /** Whether a segment that starts at `first` is on disk. */
  has(first: number): boolean {
    const i = this.#indexOf(first);
    return i !== undefined && this.#first[i] === first;
  }

  /**
   * Puts the runs a segment was rewritten into in its place (a purge took frames out of it);
   * no runs: the segment is gone. The runs lie within the segment, in seq order.
   */
  replace(first: number, runs: ReadonlyArray<readonly [number, number]>): void {
    const i = this.#indexOf(first);
    if (i === undefined || this.#first[i] !== first) return;
    const atMs = this.#atMs[i]!;
    this.#first.splice(i, 1, ...runs.map((r) => r[0]));
    this.#last.splice(i, 1, ...runs.map((r) => r[1]));
    this.#atMs.splice(i, 1, ...runs.map(() => atMs));
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
      this.#atMs = this.#atMs.slice(this.#head);
      this.#head = 0;
    }
  }
}

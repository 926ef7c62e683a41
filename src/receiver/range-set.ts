import type { SeqRange } from '../frames/codec.js';

/** Receives each change a RangeSet makes, so that its owner can mirror it to storage. */
export interface RangeWriter {
  /** The range starting at `first` now ends at `last` (new, or grown). */
  put(first: number, last: number): void;
  /** The range that started at `first` is gone (merged into another, or dropped). */
  del(first: number): void;
}

/**
 * A set of integers kept as sorted, disjoint, non-adjacent inclusive ranges: seqs accepted out of
 * order arrive mostly in runs, so a long run behind one hole costs one range, not one entry a seq.
 * Ranges are keyed by their first value; every change is reported to the optional writer in the
 * order it must be applied.
 */
export class RangeSet {
  // Parallel arrays: both ascending, because ranges are disjoint and sorted.
  readonly #firsts: number[] = [];
  readonly #lasts: number[] = [];

  get count(): number {
    return this.#firsts.length;
  }

  lowest(): number | undefined {
    return this.#firsts[0];
  }

  /** The last value of the lowest range. */
  lowestRunEnd(): number | undefined {
    return this.#lasts[0];
  }

  highest(): number | undefined {
    return this.#lasts[this.#lasts.length - 1];
  }

  has(n: number): boolean {
    const i = lastAtOrBelow(this.#firsts, n);
    return i >= 0 && this.#lasts[i]! >= n;
  }

  /** Adds [first, last], merging with ranges it overlaps or touches. */
  add(first: number, last: number, writer?: RangeWriter): void {
    const n = this.#firsts.length;
    // The common case: the next seq after the highest run.
    if (n > 0 && first === this.#lasts[n - 1]! + 1) {
      this.#lasts[n - 1] = last;
      writer?.put(this.#firsts[n - 1]!, last);
      return;
    }
    if (n === 0 || first > this.#lasts[n - 1]! + 1) {
      this.#firsts.push(first);
      this.#lasts.push(last);
      writer?.put(first, last);
      return;
    }
    // Ranges lo..hi overlap or touch [first, last].
    const lo = firstAtOrAbove(this.#lasts, first - 1);
    const hi = lastAtOrBelow(this.#firsts, last + 1);
    if (lo > hi) {
      this.#firsts.splice(lo, 0, first);
      this.#lasts.splice(lo, 0, last);
      writer?.put(first, last);
      return;
    }
    const newFirst = Math.min(first, this.#firsts[lo]!);
    const newLast = Math.max(last, this.#lasts[hi]!);
    if (lo === hi && newFirst === this.#firsts[lo] && newLast === this.#lasts[lo]) return;
    for (let i = lo; i <= hi; i++) if (this.#firsts[i] !== newFirst) writer?.del(this.#firsts[i]!);
    writer?.put(newFirst, newLast);
    this.#firsts.splice(lo, hi - lo + 1, newFirst);
    this.#lasts.splice(lo, hi - lo + 1, newLast);
  }

  /** Forgets every value at or below `floor`; a range across it keeps its part above. */
  dropThrough(floor: number, writer?: RangeWriter): void {
    let k = 0;
    while (k < this.#firsts.length && this.#lasts[k]! <= floor) writer?.del(this.#firsts[k++]!);
    this.#firsts.splice(0, k);
    this.#lasts.splice(0, k);
    if (this.#firsts.length > 0 && this.#firsts[0]! <= floor) {
      writer?.del(this.#firsts[0]!);
      this.#firsts[0] = floor + 1;
      writer?.put(floor + 1, this.#lasts[0]!);
    }
  }

  ranges(): SeqRange[] {
    return this.#firsts.map((first, i) => ({ first, last: this.#lasts[i]! }));
  }
}

/** Index of the last element <= x in an ascending array, or -1. */
function lastAtOrBelow(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Index of the first element >= x in an ascending array, or its length. */
function firstAtOrAbove(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

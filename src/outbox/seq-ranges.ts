import type { SeqRange } from '../frames/codec.js';

/** Merges ranges into the fewest sorted, non-overlapping, non-adjacent ones. */
export function mergeRanges(ranges: readonly SeqRange[]): SeqRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  const out: SeqRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.first <= last.last + 1) last.last = Math.max(last.last, r.last);
    else out.push({ first: r.first, last: r.last });
  }
  return out;
}

/** Ranges of consecutive integers in an ascending list. */
export function rangesOf(ascending: readonly number[]): SeqRange[] {
  const out: SeqRange[] = [];
  for (const s of ascending) {
    const last = out[out.length - 1];
    if (last && s === last.last + 1) last.last = s;
    else out.push({ first: s, last: s });
  }
  return out;
}

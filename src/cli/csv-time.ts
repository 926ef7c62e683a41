import { TwinedgeError } from '../ops/errors.js';

/**
 * What the commands that run the hub's code on a CSV (features, exposure) share: reading a row's
 * time, and the spacing of the rows, which stands for the rate a profile would give.
 */

/** A row's time in ms: Unix seconds (decimals allowed) or an ISO 8601 date-time. */
export function parseRowTime(text: string, line: number, file: string): number {
  const n = Number(text);
  if (text !== '' && Number.isFinite(n)) return n * 1000;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${file}:${line}: '${text}' is neither Unix seconds nor an ISO 8601 time`);
  return ms;
}

/** The median spacing of the rows (ms), in time order whatever the file's order; undefined with fewer than two distinct times. */
export function medianIntervalMs(times: readonly number[]): number | undefined {
  const sorted = [...times].sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((t, i) => t - sorted[i]!).filter((d) => d > 0).sort((a, b) => a - b);
  return gaps[gaps.length >> 1];
}

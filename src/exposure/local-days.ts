/**
 * A subject's local days in an IANA time zone: the day a moment falls on, the clock time it
 * reads there, and the instants a local day starts and ends. Daylight-saving days are 23 or 25
 * hours long: a day is from one local midnight to the next, whatever their distance.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

interface LocalParts { year: number; month: number; day: number; hour: number; minute: number; second: number }

function parts(ms: number, timeZone: string): LocalParts {
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out as unknown as LocalParts;
}

/** The local date, 'YYYY-MM-DD', of an instant. */
export function localDate(ms: number, timeZone: string): string {
  const p = parts(ms, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** The local clock reading of an instant, in minutes after midnight (fractions kept). */
export function localClockMinutes(ms: number, timeZone: string): number {
  const p = parts(ms, timeZone);
  return p.hour * 60 + p.minute + p.second / 60 + (ms % 1000 + 1000) % 1000 / 60000;
}

/** UTC offset of the zone at an instant, in ms (local = UTC + offset). */
function offsetAt(ms: number, timeZone: string): number {
  const p = parts(ms, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (ms - ((ms % 1000) + 1000) % 1000);
}

/** The instant a local date ('YYYY-MM-DD') begins: its local midnight. */
export function startOfLocalDay(date: string, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const naive = Date.UTC(y, m - 1, d);
  // Midnight local = naive - offset; the offset is the one in force at that instant, so refine once.
  let t = naive - offsetAt(naive, timeZone);
  t = naive - offsetAt(t, timeZone);
  return t;
}

/** The local date after `date`. */
export function nextLocalDate(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** [start, end) of a local day, in ms: 23, 24 or 25 hours. */
export function localDayBounds(date: string, timeZone: string): { startMs: number; endMs: number } {
  return { startMs: startOfLocalDay(date, timeZone), endMs: startOfLocalDay(nextLocalDate(date), timeZone) };
}

/**
 * The local day of an instant and its clock reading, remembered for the day last asked about:
 * streams ask about the same day thousands of times, and the time zone rules are slow to consult.
 */
export class LocalDayCache {
  readonly #tz: string;
  #day: { date: string; startMs: number; endMs: number; offsetMs: number | undefined } | undefined;

  constructor(timeZone: string) {
    this.#tz = timeZone;
  }

  of(t: number): { readonly date: string; readonly startMs: number; readonly endMs: number } {
    const d = this.#day;
    if (d && t >= d.startMs && t < d.endMs) return d;
    const date = localDate(t, this.#tz);
    const { startMs, endMs } = localDayBounds(date, this.#tz);
    const offsetStart = offsetAt(startMs, this.#tz);
    // One offset all day (no daylight-saving change in it) lets the clock be read by arithmetic.
    this.#day = { date, startMs, endMs, offsetMs: offsetStart === offsetAt(endMs - 1, this.#tz) ? offsetStart : undefined };
    return this.#day;
  }

  /** The local clock reading at `t`, minutes after midnight. */
  clockMinutes(t: number): number {
    this.of(t);
    const d = this.#day!;
    return d.offsetMs === undefined ? localClockMinutes(t, this.#tz) : (t - d.startMs) / 60_000;
  }
}

/**
 * When an event happened: `now`, an ISO 8601 time with its offset, or Unix milliseconds. A time
 * is refused when it is too far in the future (more than the clock skew allowed between the
 * sender and the hub) or too old to be a recollection worth recording (a typo in the year, a
 * wrong unit); both limits are said in the message.
 */
import { describe, type Checked } from './event-fields.js';

export interface EventTimeLimits {
  /** How far in the past an event may lie, in ms. */
  readonly maxAgeMs: number;
  /** How far ahead of the hub's clock an event may lie, in ms: clock skew between devices. */
  readonly maxFutureMs: number;
}

export const DAY_MS = 86_400_000;
export const DEFAULT_EVENT_TIME_LIMITS: EventTimeLimits = { maxAgeMs: 28 * DAY_MS, maxFutureMs: 5 * 60_000 };

/**
 * While the hub's wall clock is not synchronised (a Pi without a real-time clock, before NTP),
 * "now" itself may be years off, so the limits above would refuse good times. Only these wide
 * bounds apply then; the frame's clock status tells the twin server the rest.
 */
const PLAUSIBLE_FROM_MS = Date.UTC(2000, 0, 1);
const PLAUSIBLE_TO_MS = Date.UTC(2100, 0, 1);
/** Below this a number is more likely Unix seconds than milliseconds (it would be before 1973-03). */
const SECONDS_LOOK_LIKE_BELOW = 1e11;

// RFC 3339's profile of ISO 8601: a full date, a time to the minute or finer, and an offset.
const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
const ISO_WITHOUT_OFFSET = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/;

export interface TimeContext {
  readonly nowMs: number;
  readonly limits: EventTimeLimits;
  /** Whether the wall clock that gave nowMs is synchronised; when false only wide bounds apply. */
  readonly clockTrusted: boolean;
}

export function checkEventTime(v: unknown, ctx: TimeContext): Checked<number> {
  if (v === undefined || v === 'now') return { ok: true, value: Math.round(ctx.nowMs) };
  let ms: number;
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) {
    ms = Number(v);
    if (!Number.isSafeInteger(ms)) return bad(`expected whole Unix milliseconds, got ${describe(v)}`);
    if (ms < SECONDS_LOOK_LIKE_BELOW) return bad(`${ms} looks like Unix seconds: give milliseconds (${ms * 1000})`);
  } else if (typeof v === 'string') {
    const parsed = parseIso(v);
    if (!parsed.ok) return parsed;
    ms = parsed.value;
  } else {
    return bad(`expected 'now', an ISO 8601 time with its offset or Unix milliseconds, got ${describe(v)}`);
  }
  return inRange(ms, ctx);
}

function inRange(ms: number, ctx: TimeContext): Checked<number> {
  const shown = new Date(ms).toISOString();
  if (!ctx.clockTrusted) {
    if (ms < PLAUSIBLE_FROM_MS || ms >= PLAUSIBLE_TO_MS) return bad(`${shown} is not a plausible time (the hub's clock is not synchronised, so only years 2000 to 2099 are checked)`);
    return { ok: true, value: ms };
  }
  const ahead = ms - ctx.nowMs;
  if (ahead > ctx.limits.maxFutureMs) {
    return bad(`${shown} is ${duration(ahead)} in the future of the hub's clock; at most ${duration(ctx.limits.maxFutureMs)} is allowed for clock skew`);
  }
  if (-ahead > ctx.limits.maxAgeMs) {
    return bad(`${shown} is ${duration(-ahead)} ago; events older than ${duration(ctx.limits.maxAgeMs)} are refused (events.max_age_days)`);
  }
  return { ok: true, value: ms };
}

function parseIso(v: string): Checked<number> {
  const m = ISO.exec(v);
  if (!m) {
    if (ISO_WITHOUT_OFFSET.test(v)) return bad(`${describe(v)} has no offset: add Z or one such as +02:00, since a local time alone is ambiguous`);
    return bad(`expected 'now', an ISO 8601 time with its offset (2026-05-01T08:30:00+02:00) or Unix milliseconds, got ${describe(v)}`);
  }
  const [, y, mo, d, h, mi, s = '0', frac = '', z, sign, oh, om] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  const offsetMin = z ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59 || Math.abs(offsetMin) > 18 * 60) {
    return bad(`${describe(v)} is not a real date and time`);
  }
  // Precision beyond the millisecond is dropped: at_ms is whole milliseconds.
  const ms = Number((frac + '000').slice(0, 3));
  return { ok: true, value: Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000 };
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function duration(ms: number): string {
  if (ms >= 2 * DAY_MS) return `${Math.floor(ms / DAY_MS)} days`;
  if (ms >= 2 * 3_600_000) return `${Math.floor(ms / 3_600_000)} h`;
  if (ms >= 2 * 60_000) return `${Math.floor(ms / 60_000)} min`;
  return `${Math.ceil(ms / 1000)} s`;
}

const bad = (problem: string): Checked<never> => ({ ok: false, problem });

/**
 * A request to record an event, as JSON (the HTTP endpoint's body, what `twinedge mark` sends):
 * checked field by field into the Event payload of an event frame and the subject it is about.
 * Every problem is reported at once, each naming its field; a request with any problem records
 * nothing.
 *
 *   { "subject_ref": "p-4f9a", "kind": "medication", "code": "ATC:N02BE01", "dose": 500,
 *     "unit": "mg", "at": "2026-05-01T08:30:00+02:00", "note": "after breakfast",
 *     "event_id": "3f0c…", "source": "cli" }
 *
 * Only subject_ref and kind are required. `unit` is the dose's unit (the frame calls it
 * dose_unit); `at` defaults to now; `event_id` to a random UUID.
 */
import { randomUUID } from 'node:crypto';
import { ID_PATTERN_SOURCE } from '../config/schema.js';
import { EventKind, type Event } from '../frames/codec.js';
import { TwinedgeError } from '../ops/errors.js';
import { checkCode, checkDose, checkEventId, checkKind, checkNote, checkUnit, describe, type Checked } from './event-fields.js';
import { checkEventTime, DEFAULT_EVENT_TIME_LIMITS, type EventTimeLimits } from './event-time.js';

export interface EventRequest {
  readonly subject_ref: string;
  readonly event: Event;
}

/** Sources a request may claim; `device:<id>` is the hub's own, for events its devices mark. */
export const REQUEST_SOURCES = ['http', 'cli'] as const;

export const REQUEST_FIELDS = ['subject_ref', 'kind', 'code', 'dose', 'unit', 'at', 'note', 'event_id', 'source'] as const;
type Field = (typeof REQUEST_FIELDS)[number];

// Keys people are likely to write for a field: named in the "unknown key" message.
const LIKELY: Readonly<Record<string, Field>> = {
  subject: 'subject_ref', dose_unit: 'unit', at_ms: 'at', time: 'at', id: 'event_id', text: 'note', comment: 'note', type: 'kind',
};

const SUBJECT = new RegExp(ID_PATTERN_SOURCE);

export interface EventRequestOptions {
  /** The hub's wall clock now, Unix ms. */
  readonly nowMs: number;
  readonly limits?: EventTimeLimits;
  /** Whether the wall clock is synchronised (default true). */
  readonly clockTrusted?: boolean;
  /** The subjects the hub serves; when given, subject_ref must be one of them. */
  readonly subjects?: readonly string[];
  /** The source when the request names none (default 'http'). */
  readonly defaultSource?: (typeof REQUEST_SOURCES)[number];
  /** Makes an event id when the request gives none (default: a random UUID). */
  readonly newId?: () => string;
}

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/**
 * The problems of one request, all of them. Its own place is the first problem's field, so
 * `toLine()` of a one-problem error reads `dose: expected a number above 0, got -5 [EVENT_INVALID]`.
 */
export class EventRequestError extends TwinedgeError {
  readonly problems: readonly FieldProblem[];

  constructor(problems: readonly FieldProblem[]) {
    if (problems.length === 0) throw new TypeError('an EventRequestError needs a problem');
    const first = problems[0]!;
    super('EVENT_INVALID', problems.length === 1 ? first.message : `${first.message} (and ${problems.length - 1} more problem(s))`, { keyPath: first.field });
    this.name = 'EventRequestError';
    this.problems = problems;
  }

  override toLine(): string {
    return this.problems.map((p) => `${p.field}: ${p.message} [EVENT_INVALID]`).join('\n');
  }
}

/** Checks a request; throws EventRequestError (EVENT_INVALID) naming every bad field. */
export function validateEventRequest(json: unknown, o: EventRequestOptions): EventRequest {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new EventRequestError([{ field: '(body)', message: `expected a JSON object with subject_ref and kind, got ${describe(json)}` }]);
  }
  const r = json as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const take = <T>(field: Field, c: Checked<T>): T | undefined => {
    if (c.ok) return c.value;
    problems.push({ field, message: c.problem });
    return undefined;
  };
  for (const key of Object.keys(r)) {
    if ((REQUEST_FIELDS as readonly string[]).includes(key)) continue;
    const hint = Object.hasOwn(LIKELY, key) ? LIKELY[key] : undefined;
    problems.push({ field: key, message: `unknown key: a typo, or not in this version${hint ? ` (did you mean '${hint}'?)` : ''}` });
  }

  const subject = take('subject_ref', checkSubject(r.subject_ref, o.subjects));
  const kind = take('kind', r.kind === undefined ? { ok: false, problem: 'required: medication, procedure, meal, sleep, device_change or note' } : checkKind(r.kind));
  // A code is checked against its kind; with the kind unknown, only its shape is, so that the
  // kind's own problem is not echoed as a second, misleading one.
  const code = r.code === undefined ? undefined : take('code', checkCode(r.code, kind ?? EventKind.UNSPECIFIED));
  const dose = r.dose === undefined ? undefined : take('dose', checkDose(r.dose));
  const unit = r.unit === undefined ? undefined : take('unit', checkUnit(r.unit));
  if (r.dose !== undefined && r.unit === undefined) problems.push({ field: 'unit', message: "a dose needs its unit (UCUM, e.g. 'mg' or '{tablet}')" });
  if (r.unit !== undefined && r.dose === undefined) problems.push({ field: 'dose', message: 'a unit was given without a dose' });
  const note = r.note === undefined ? undefined : take('note', checkNote(r.note));
  if (kind === EventKind.NOTE && r.note === undefined) problems.push({ field: 'note', message: 'an event of kind note needs its text' });
  const at = take('at', checkEventTime(r.at, { nowMs: o.nowMs, limits: o.limits ?? DEFAULT_EVENT_TIME_LIMITS, clockTrusted: o.clockTrusted ?? true }));
  const id = r.event_id === undefined ? undefined : take('event_id', checkEventId(r.event_id));
  const source = r.source === undefined ? (o.defaultSource ?? 'http') : take('source', checkSource(r.source));

  if (problems.length > 0) throw new EventRequestError(problems);
  const event: Event = {
    event_id: id ?? (o.newId ?? randomUUID)(),
    kind: kind!,
    at_ms: at!,
    source: source!,
    ...(code !== undefined ? { code } : {}),
    ...(dose !== undefined ? { dose, dose_unit: unit! } : {}),
    ...(note !== undefined ? { note } : {}),
  };
  return { subject_ref: subject!, event };
}

function checkSubject(v: unknown, subjects: readonly string[] | undefined): Checked<string> {
  if (v === undefined) return { ok: false, problem: "required: the subject's ref" };
  if (typeof v !== 'string' || !SUBJECT.test(v)) return { ok: false, problem: `expected a subject ref (1 to 64 letters, digits, '.', '_' or '-'), got ${describe(v)}` };
  if (subjects && !subjects.includes(v)) return { ok: false, problem: `'${v}' is not a subject of this hub (${subjects.join(', ')})` };
  return { ok: true, value: v };
}

function checkSource(v: unknown): Checked<string> {
  if (typeof v === 'string' && (REQUEST_SOURCES as readonly string[]).includes(v)) return { ok: true, value: v };
  return { ok: false, problem: `expected ${REQUEST_SOURCES.join(' or ')}, got ${describe(v)}` };
}

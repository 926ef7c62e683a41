/**
 * The rules for the fields of an intervention event (twin level 3), shared by everything that
 * makes one: a request to the hub (event-request.ts), and a profile's `events` rules (checked
 * when the profile is compiled). Each check returns the normal form of the value or a problem in
 * words; the caller places the problem (a request field, a profile file:line).
 */
import { EventKind } from '../frames/codec.js';

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = (problem: string): Checked<never> => ({ ok: false, problem });

/**
 * Kinds as people write them. frame.proto's enum names them with underscores; a hyphen is
 * accepted too because it is how a command line is usually typed.
 */
export const EVENT_KIND_WORDS = ['medication', 'procedure', 'meal', 'sleep', 'device_change', 'device-change', 'note'] as const;
export type EventKindWord = (typeof EVENT_KIND_WORDS)[number];

const KIND_VALUES: Readonly<Record<EventKindWord, number>> = {
  'medication': EventKind.MEDICATION,
  'procedure': EventKind.PROCEDURE,
  'meal': EventKind.MEAL,
  'sleep': EventKind.SLEEP,
  'device_change': EventKind.DEVICE_CHANGE,
  'device-change': EventKind.DEVICE_CHANGE,
  'note': EventKind.NOTE,
};

/** The kind's name as frame.proto spells it, for output. */
export function kindName(kind: number): string {
  const entry = Object.entries(KIND_VALUES).find(([, v]) => v === kind);
  return entry ? entry[0] : `unknown (${kind})`;
}

const KINDS_SAID = 'medication, procedure, meal, sleep, device_change or note';

export function checkKind(v: unknown): Checked<number> {
  if (typeof v !== 'string') return bad(`expected one of ${KINDS_SAID}, got ${describe(v)}`);
  const word = v.toLowerCase();
  // hasOwn: a request may say "__proto__", which an object lookup would find.
  return Object.hasOwn(KIND_VALUES, word) ? ok(KIND_VALUES[word as EventKindWord]) : bad(`expected one of ${KINDS_SAID}, got ${describe(v)}`);
}

/**
 * Codes, written `SYSTEM:value` as frame.proto says ("ATC:N02BE01").
 *
 * A medication takes one of the two drug vocabularies the twin server maps: the WHO ATC
 * classification or RxNorm. Anything else on a medication would reach the server as a code it
 * cannot join with its drug data, so it is refused here where the person can still fix it.
 * - ATC: the levels of the WHO Collaborating Centre's index (whocc.no/atc/structure_and_principles):
 *   1 an anatomical main group letter (A B C D G H J L M N P R S V), 2 two digits, 3 a letter,
 *   4 a letter, 5 two digits: N, N02, N02B, N02BE, N02BE01. Any level is accepted (a class of
 *   drug is sometimes all a patient knows); the shape is checked, not that the code exists.
 * - RxNorm: an RxCUI, which is a positive integer.
 * Other kinds (a procedure, a meal, a device change) may carry a code of any system, e.g. a
 * SNOMED CT concept: the system is a short word, the value has no spaces or control characters.
 * Systems are upper-cased and ATC values too (ATC is written in capitals), so that one code has
 * one spelling on the wire.
 */
const ATC = /^[ABCDGHJLMNPRSV](?:\d{2}(?:[A-Z](?:[A-Z](?:\d{2})?)?)?)?$/;
const RXCUI = /^[1-9]\d{0,9}$/;
const SYSTEM = /^[A-Za-z][A-Za-z0-9.-]{0,31}$/;
const CODE_VALUE = /^[^\s\p{C}]{1,64}$/u;

export function checkCode(v: unknown, kind: number): Checked<string> {
  if (typeof v !== 'string') return bad(`expected a code such as 'ATC:N02BE01', got ${describe(v)}`);
  const colon = v.indexOf(':');
  if (colon < 0) return bad(`expected SYSTEM:value, e.g. 'ATC:N02BE01' or 'RXNORM:161', got ${describe(v)}`);
  const system = v.slice(0, colon).toUpperCase();
  const value = v.slice(colon + 1);
  if (!SYSTEM.test(system)) return bad(`'${v.slice(0, colon)}' is not a code system: a letter, then up to 31 letters, digits, '.' or '-'`);
  if (system === 'ATC') {
    const atc = value.toUpperCase();
    if (!ATC.test(atc)) return bad(`'${value}' is not a WHO ATC code: a main group letter, then 2 digits, a letter, a letter and 2 digits (any level, e.g. N02, N02BE, N02BE01)`);
    return ok(`ATC:${atc}`);
  }
  if (system === 'RXNORM') {
    if (!RXCUI.test(value)) return bad(`'${value}' is not an RxNorm RxCUI: a positive whole number such as 161`);
    return ok(`RXNORM:${value}`);
  }
  if (kind === EventKind.MEDICATION) return bad(`a medication's code is ATC:<code> or RXNORM:<rxcui>, not ${system}`);
  if (!CODE_VALUE.test(value)) return bad(`the value after '${system}:' must be 1 to 64 characters without spaces or control characters`);
  return ok(`${system}:${value}`);
}

/**
 * Units in UCUM's case-sensitive form (mg, mL, [iU], {tablet}, ug/kg, 10*3/uL, %). The
 * characters and the balance of brackets are checked, not that UCUM's tables know the unit: a
 * full UCUM parser is more than a hub needs, and the twin server checks units anyway.
 */
const UNIT = /^[A-Za-z0-9%[\]{}().\/*^'_-]{1,32}$/;

export function checkUnit(v: unknown): Checked<string> {
  if (typeof v !== 'string') return bad(`expected a UCUM unit such as 'mg', got ${describe(v)}`);
  if (!UNIT.test(v) || !balanced(v)) return bad(`'${v}' is not a UCUM unit: 1 to 32 characters from letters, digits and %[]{}()./*^'_- with brackets paired, e.g. mg, mL, [iU] or {tablet}`);
  return ok(v);
}

function balanced(unit: string): boolean {
  const open: string[] = [];
  for (const c of unit) {
    if (c === '[' || c === '{' || c === '(') open.push(c);
    else if (c === ']' || c === '}' || c === ')') {
      const want = c === ']' ? '[' : c === '}' ? '{' : '(';
      if (open.pop() !== want) return false;
    }
  }
  return open.length === 0;
}

export function checkDose(v: unknown): Checked<number> {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return bad(`expected a number above 0, got ${describe(v)}`);
  return ok(v);
}

/**
 * A note is for people reading the twin's history: bounded so that a frame stays small, and
 * without control characters (line breaks included), which would let a note forge lines in
 * logs and JSON-lines files downstream. Counted in characters (code points), not bytes.
 */
export const NOTE_MAX_CHARS = 500;
const FORBIDDEN_IN_NOTE = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]/u;

export function checkNote(v: unknown): Checked<string> {
  if (typeof v !== 'string') return bad(`expected text, got ${describe(v)}`);
  if (v.length === 0) return bad('empty: leave it out instead');
  const chars = [...v].length;
  if (chars > NOTE_MAX_CHARS) return bad(`${chars} characters: at most ${NOTE_MAX_CHARS}`);
  const m = FORBIDDEN_IN_NOTE.exec(v);
  if (m) return bad(`a control character (U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) at character ${[...v.slice(0, m.index)].length + 1}: write the note on one line, as plain text`);
  return ok(v);
}

/**
 * An id a client gives so that a retried request is recorded once: a UUID, or an id of the
 * client's own (letters, digits and . _ : -), short enough to be a LevelDB key part and a log
 * field.
 */
const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function checkEventId(v: unknown): Checked<string> {
  if (typeof v !== 'string' || !EVENT_ID.test(v)) return bad(`expected 1 to 64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit (a UUID fits), got ${describe(v)}`);
  return ok(v);
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  // JSON quoting shows control characters escaped, so a message stays one line.
  if (typeof v === 'string') return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}…` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'a list' : 'a mapping';
}

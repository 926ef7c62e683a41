// The event request validator: what `twinedge mark` and POST /v1/events accept. Every refusal
// must name the field at fault (and only a request with no problem becomes an event).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind } from '../../src/frames/codec.js';
import { EventRequestError, validateEventRequest, type EventRequestOptions } from '../../src/events/event-request.js';
import { DAY_MS } from '../../src/events/event-time.js';
import { NOTE_MAX_CHARS } from '../../src/events/event-fields.js';
import { ERROR_CODES } from '../../src/ops/errors.js';

const NOW = Date.UTC(2026, 4, 1, 6, 30, 0);
const OPTS: EventRequestOptions = { nowMs: NOW, subjects: ['p-4f9a', 'p-77'] };
const BASE = { subject_ref: 'p-4f9a', kind: 'medication' };

/** The fields a request is refused for, in the order reported; fails if it is accepted. */
function refused(request: unknown, opts: EventRequestOptions = OPTS): Array<{ field: string; message: string }> {
  try {
    validateEventRequest(request, opts);
  } catch (e) {
    assert.ok(e instanceof EventRequestError, `an EventRequestError, got ${String(e)}`);
    assert.equal(e.code, 'EVENT_INVALID');
    assert.equal(e.place.keyPath, e.problems[0]!.field, 'the error is placed at the first field');
    return e.problems.map((p) => ({ ...p }));
  }
  assert.fail(`accepted: ${JSON.stringify(request)}`);
}

const fieldsOf = (request: unknown, opts?: EventRequestOptions) => refused(request, opts).map((p) => p.field);

test('a full request becomes the Event payload of an event frame, with its subject', () => {
  const r = validateEventRequest({
    ...BASE, code: 'atc:n02be01', dose: 500, unit: 'mg', at: '2026-05-01T08:00:00+02:00', note: 'after breakfast', event_id: 'pillbox-0501-1', source: 'cli',
  }, OPTS);
  assert.equal(r.subject_ref, 'p-4f9a');
  assert.deepEqual(r.event, {
    event_id: 'pillbox-0501-1', kind: EventKind.MEDICATION, code: 'ATC:N02BE01', dose: 500, dose_unit: 'mg',
    at_ms: Date.UTC(2026, 4, 1, 6, 0, 0), note: 'after breakfast', source: 'cli',
  });
});

test('only subject_ref and kind are required: the time is now, the id a fresh UUID, the source http', () => {
  const a = validateEventRequest({ ...BASE, kind: 'meal' }, OPTS);
  const b = validateEventRequest({ ...BASE, kind: 'meal' }, OPTS);
  assert.equal(a.event.kind, EventKind.MEAL);
  assert.equal(a.event.at_ms, NOW);
  assert.equal(a.event.source, 'http');
  assert.match(a.event.event_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a.event.event_id, b.event.event_id);
  assert.deepEqual(Object.keys(a.event).sort(), ['at_ms', 'event_id', 'kind', 'source']);
  assert.deepEqual(fieldsOf({}), ['subject_ref', 'kind']);
});

test('kinds are the six of frame.proto; device change is accepted with either spelling', () => {
  const kinds: Array<[string, number]> = [
    ['medication', EventKind.MEDICATION], ['procedure', EventKind.PROCEDURE], ['meal', EventKind.MEAL], ['sleep', EventKind.SLEEP],
    ['device_change', EventKind.DEVICE_CHANGE], ['device-change', EventKind.DEVICE_CHANGE], ['Sleep', EventKind.SLEEP],
  ];
  for (const [word, kind] of kinds) assert.equal(validateEventRequest({ ...BASE, kind: word }, OPTS).event.kind, kind, word);
  for (const bad of ['pill', 'devicechange', 'unspecified', 1, null]) assert.deepEqual(fieldsOf({ ...BASE, kind: bad }), ['kind'], String(bad));
  // Names an object lookup would find on Object.prototype are not kinds.
  for (const bad of ['__proto__', 'constructor', 'toString']) assert.deepEqual(fieldsOf({ ...BASE, kind: bad }), ['kind'], bad);
});

test('a medication code is WHO ATC (any level, shape checked) or an RxNorm RxCUI', () => {
  // ATC levels from the WHO Collaborating Centre's structure: N, N02, N02B, N02BE, N02BE01 (paracetamol).
  for (const code of ['N', 'N02', 'N02B', 'N02BE', 'N02BE01', 'C09AA05', 'A10BA02']) {
    assert.equal(validateEventRequest({ ...BASE, code: `ATC:${code}` }, OPTS).event.code, `ATC:${code}`, code);
  }
  assert.equal(validateEventRequest({ ...BASE, code: 'RXNORM:161' }, OPTS).event.code, 'RXNORM:161');
  assert.equal(validateEventRequest({ ...BASE, code: 'RxNorm:198440' }, OPTS).event.code, 'RXNORM:198440');
  for (const code of ['ATC:N02BE1', 'ATC:N2', 'ATC:X02', 'ATC:N02BE011', 'ATC:02BE01', 'ATC:', 'RXNORM:abc', 'RXNORM:0161', 'RXNORM:', 'N02BE01', 'SNOMED:387517004', ':N02', 'A TC:N02', 42]) {
    assert.deepEqual(fieldsOf({ ...BASE, code }), ['code'], String(code));
  }
  const [snomed] = refused({ ...BASE, code: 'SNOMED:387517004' });
  assert.match(snomed!.message, /ATC:<code> or RXNORM:<rxcui>, not SNOMED/);
});

test('other kinds take a code of any system, its value checked for spaces and control characters', () => {
  assert.equal(validateEventRequest({ ...BASE, kind: 'procedure', code: 'snomed:80146002' }, OPTS).event.code, 'SNOMED:80146002');
  assert.equal(validateEventRequest({ ...BASE, kind: 'device_change', code: 'ATC:N02' }, OPTS).event.code, 'ATC:N02');
  for (const code of ['SNOMED:801 46002', 'SNOMED:a\u0007', '1SYS:x', 'ATC:Q99']) assert.deepEqual(fieldsOf({ ...BASE, kind: 'procedure', code }), ['code'], code);
  // A kind that is itself wrong is reported once, not echoed by its code.
  assert.deepEqual(fieldsOf({ ...BASE, kind: 'pill', code: 'SNOMED:80146002' }), ['kind']);
});

test('a dose is a finite number above 0 and needs a UCUM-like unit; a unit needs a dose', () => {
  assert.deepEqual(validateEventRequest({ ...BASE, dose: 0.5, unit: '{tablet}' }, OPTS).event.dose_unit, '{tablet}');
  for (const unit of ['mg', 'mL', '[iU]', 'ug/kg', '10*3/uL', '%', 'mg/(kg.d)']) assert.equal(validateEventRequest({ ...BASE, dose: 1, unit }, OPTS).event.dose_unit, unit);
  for (const dose of [0, -5, '500', Number.NaN, Number.POSITIVE_INFINITY, null]) assert.deepEqual(fieldsOf({ ...BASE, dose, unit: 'mg' }), ['dose'], String(dose));
  for (const unit of ['m g', '[iU', 'mg}', '', 'a'.repeat(33), 5]) assert.deepEqual(fieldsOf({ ...BASE, dose: 1, unit }), ['unit'], String(unit));
  assert.deepEqual(fieldsOf({ ...BASE, dose: 500 }), ['unit']);
  assert.deepEqual(fieldsOf({ ...BASE, unit: 'mg' }), ['dose']);
});

test('a time is now, ISO 8601 with its offset, or Unix milliseconds', () => {
  const at = (v: unknown) => validateEventRequest({ ...BASE, at: v }, OPTS).event.at_ms;
  assert.equal(at('now'), NOW);
  assert.equal(at('2026-05-01T06:00:00Z'), Date.UTC(2026, 4, 1, 6));
  assert.equal(at('2026-05-01T01:00-05:00'), Date.UTC(2026, 4, 1, 6));
  assert.equal(at('2026-05-01T07:00:00.123456+0100'), Date.UTC(2026, 4, 1, 6, 0, 0, 123));
  assert.equal(at(NOW - 60_000), NOW - 60_000);
  assert.equal(at(String(NOW - 60_000)), NOW - 60_000);
  for (const bad of ['2026-05-01T06:00:00', '2026-05-01', '2026-02-30T06:00:00Z', '2026-05-01T24:00:00Z', 'yesterday', NOW + 0.5, {}]) {
    assert.deepEqual(fieldsOf({ ...BASE, at: bad }), ['at'], String(bad));
  }
  const [noOffset] = refused({ ...BASE, at: '2026-05-01T06:00:00' });
  assert.match(noOffset!.message, /no offset/);
  const [seconds] = refused({ ...BASE, at: Math.floor(NOW / 1000) });
  assert.match(seconds!.message, /looks like Unix seconds/);
});

test('a time too far ahead (clock skew) or too old is refused, saying which and the limit', () => {
  const limits = { maxAgeMs: 7 * DAY_MS, maxFutureMs: 120_000 };
  const opts = { ...OPTS, limits };
  assert.equal(validateEventRequest({ ...BASE, at: NOW + 120_000 }, opts).event.at_ms, NOW + 120_000);
  assert.equal(validateEventRequest({ ...BASE, at: NOW - 7 * DAY_MS }, opts).event.at_ms, NOW - 7 * DAY_MS);
  const [ahead] = refused({ ...BASE, at: NOW + 121_000 }, opts);
  assert.equal(ahead!.field, 'at');
  assert.match(ahead!.message, /in the future .*at most 2 min/);
  const [old] = refused({ ...BASE, at: NOW - 8 * DAY_MS }, opts);
  assert.equal(old!.field, 'at');
  assert.match(old!.message, /8 days ago; events older than 7 days are refused/);
  // The default allowance: a few minutes ahead, a few weeks back.
  assert.deepEqual(fieldsOf({ ...BASE, at: NOW + 10 * 60_000 }), ['at']);
  assert.deepEqual(fieldsOf({ ...BASE, at: NOW - 40 * DAY_MS }), ['at']);
  assert.equal(validateEventRequest({ ...BASE, at: NOW - 20 * DAY_MS }, OPTS).event.at_ms, NOW - 20 * DAY_MS);
});

test('while the hub clock is not synchronised, only wide bounds apply to a given time', () => {
  const unsynced = { ...OPTS, nowMs: Date.UTC(1970, 0, 1, 0, 5), clockTrusted: false };
  assert.equal(validateEventRequest({ ...BASE, at: '2026-05-01T06:00:00Z' }, unsynced).event.at_ms, Date.UTC(2026, 4, 1, 6));
  assert.deepEqual(fieldsOf({ ...BASE, at: '1999-12-31T23:59:59Z' }, unsynced), ['at']);
  assert.deepEqual(fieldsOf({ ...BASE, at: '2026-05-01T06:00:00Z' }, { ...unsynced, clockTrusted: true }), ['at']);
});

test('a note is bounded, on one line and without control characters; a note event needs one', () => {
  assert.equal(validateEventRequest({ ...BASE, note: 'é'.repeat(NOTE_MAX_CHARS) }, OPTS).event.note!.length, NOTE_MAX_CHARS);
  assert.equal(validateEventRequest({ ...BASE, kind: 'note', note: 'slept badly 😴' }, OPTS).event.note, 'slept badly 😴');
  for (const note of ['x'.repeat(NOTE_MAX_CHARS + 1), 'two\nlines', 'tab\there', 'bell\u0007', 'c1\u0085', 'ls\u2028', 'lone \ud800 surrogate', '', 7]) {
    assert.deepEqual(fieldsOf({ ...BASE, note }), ['note'], JSON.stringify(note));
  }
  assert.deepEqual(fieldsOf({ ...BASE, kind: 'note' }), ['note']);
});

test('a client event id is kept for idempotent retries; a malformed one is refused', () => {
  assert.equal(validateEventRequest({ ...BASE, event_id: '3f0c6d7e-5b1a-4c2d-9e8f-0a1b2c3d4e5f' }, OPTS).event.event_id, '3f0c6d7e-5b1a-4c2d-9e8f-0a1b2c3d4e5f');
  for (const id of ['', 'has space', '-leading', 'x'.repeat(65), 'é', 12]) assert.deepEqual(fieldsOf({ ...BASE, event_id: id }), ['event_id'], String(id));
});

test('the subject must be one the hub serves; a source other than http or cli is refused', () => {
  assert.deepEqual(fieldsOf({ ...BASE, subject_ref: 'p-unknown' }), ['subject_ref']);
  assert.deepEqual(fieldsOf({ ...BASE, subject_ref: 'a/b' }), ['subject_ref']);
  assert.equal(validateEventRequest({ ...BASE, subject_ref: 'anyone' }, { nowMs: NOW }).subject_ref, 'anyone');
  assert.deepEqual(fieldsOf({ ...BASE, source: 'device:serial:/dev/ttyUSB0' }), ['source']);
});

test('unknown keys are refused with the likely key, and every problem is reported at once', () => {
  const problems = refused({ subject: 'p-4f9a', kind: 'medication', dose: 500, dose_unit: 'mg' });
  assert.deepEqual(problems.map((p) => p.field), ['subject', 'dose_unit', 'subject_ref', 'unit']);
  assert.match(problems[0]!.message, /did you mean 'subject_ref'/);
  assert.match(problems[1]!.message, /did you mean 'unit'/);
  const proto = refused(JSON.parse('{"subject_ref": "p-4f9a", "kind": "meal", "__proto__": {}, "constructor": 1}'));
  assert.deepEqual(proto.map((p) => p.field), ['__proto__', 'constructor']);
  assert.ok(proto.every((p) => !/did you mean/.test(p.message)));
  assert.deepEqual(fieldsOf([BASE]), ['(body)']);
  assert.deepEqual(fieldsOf('medication'), ['(body)']);
});

test('EVENT_INVALID is a usage error (exit 2) and its line names the field', () => {
  assert.equal(ERROR_CODES.EVENT_INVALID.exit, 2);
  try {
    validateEventRequest({ ...BASE, dose: -1, unit: 'mg' }, OPTS);
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof EventRequestError);
    assert.equal(e.exitCode, 2);
    assert.equal(e.toLine(), 'dose: expected a number above 0, got -1 [EVENT_INVALID]');
  }
});

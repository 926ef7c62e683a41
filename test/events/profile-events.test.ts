// A profile's `events` rules are checked when the profile loads, with the rules the hub applies
// to any event; each problem names the file, the line and the key, and the profile is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind } from '../../src/frames/codec.js';
import { parseProfile } from '../../src/profiles/load.js';

const BOX = `id: test/box
version: 1.0.0
title: test box
transport: serial
serial:
  framing: { kind: lines }
channels:
  - { name: button, unit: '1', modality: device }
decode:
  lines: { kind: pattern, regex: 'BTN (?<button>[0-9]+)' }
examples:
  - { name: one, text: 'BTN 1', samples: [{ channel: button, value: 1 }] }
events:
  - channel: button
    when: 1
    kind: medication
    code: 'ATC:N02BE01'
    dose: 500
    unit: mg
    debounce_s: 1.5
`;

/** "line:key: code: message" of each problem; fails when the profile loads. */
function problemsOf(text: string): string[] {
  const r = parseProfile(text, 'box.yaml');
  assert.ok('problems' in r, 'expected the profile to be refused');
  for (const p of r.problems) assert.equal(p.place.file, 'box.yaml');
  return r.problems.map((p) => `${p.place.line}:${p.place.keyPath ?? ''}: ${p.code}: ${p.message}`);
}

test('a good rule compiles into the profile', () => {
  const r = parseProfile(BOX, 'box.yaml');
  assert.ok('profile' in r, 'problems' in r ? r.problems.map((p) => p.toLine()).join('\n') : '');
  assert.deepEqual(r.profile.events, [{ channel: 'button', when: 1, kind: EventKind.MEDICATION, code: 'ATC:N02BE01', dose: 500, doseUnit: 'mg', note: undefined, debounceMs: 1500 }]);
  const without = parseProfile(BOX.slice(0, BOX.indexOf('events:')), 'box.yaml');
  assert.ok('profile' in without);
  assert.deepEqual(without.profile.events, []);
});

test('schema problems of a rule are placed at file:line and key', () => {
  const problems = problemsOf(BOX
    .replace('kind: medication', 'kind: pill')
    .replace('    debounce_s: 1.5\n', '    debounce_s: -1\n    dosage: 2\n'));
  assert.deepEqual(problems, [
    '16:events[0].kind: PROFILE_INVALID: expected one of medication, procedure, meal, sleep, device_change, device-change, note, got "pill"',
    '20:events[0].debounce_s: PROFILE_INVALID: expected a number >= 0, got -1',
    "21:events[0].dosage: PROFILE_INVALID: unknown key 'dosage': a typo, or not in this version",
  ]);
});

test('a rule must name a channel of the profile', () => {
  assert.deepEqual(problemsOf(BOX.replace('  - channel: button', '  - channel: buton')), [
    "14:events[0].channel: PROFILE_INVALID: no channel 'buton'; channels: button",
  ]);
});

test('the event fields follow the hub\'s rules: an ATC code\'s shape, a medication\'s code system, a dose with its unit', () => {
  const [atc] = problemsOf(BOX.replace("'ATC:N02BE01'", "'ATC:N02BE1'"));
  assert.match(atc!, /^17:events\[0\]\.code: PROFILE_INVALID: 'N02BE1' is not a WHO ATC code/);
  const [system] = problemsOf(BOX.replace("'ATC:N02BE01'", "'SNOMED:387517004'"));
  assert.match(system!, /^17:events\[0\]\.code: PROFILE_INVALID: a medication's code is ATC:<code> or RXNORM:<rxcui>, not SNOMED$/);
  assert.deepEqual(problemsOf(BOX.replace('    unit: mg\n', '')), ['18:events[0].dose: PROFILE_INVALID: a dose needs its unit: add unit (UCUM, e.g. \'mg\')']);
  const [unit] = problemsOf(BOX.replace('unit: mg', "unit: 'm g'"));
  assert.match(unit!, /^19:events\[0\]\.unit: PROFILE_INVALID: 'm g' is not a UCUM unit/);
  const [note] = problemsOf(BOX.replace('    debounce_s: 1.5\n', '    note: "two\\nlines"\n'));
  assert.match(note!, /^20:events\[0\]\.note: PROFILE_INVALID: a control character \(U\+000A\)/);
});

test('a procedure may carry a code of another system; when may be a boolean', () => {
  const r = parseProfile(BOX
    .replace('kind: medication', 'kind: device-change')
    .replace("'ATC:N02BE01'", "'SNOMED:706172005'")
    .replace('    dose: 500\n    unit: mg\n', '')
    .replace('when: 1', 'when: true'), 'box.yaml');
  assert.ok('profile' in r, 'problems' in r ? r.problems.map((p) => p.toLine()).join('\n') : '');
  assert.equal(r.profile.events[0]!.kind, EventKind.DEVICE_CHANGE);
  assert.equal(r.profile.events[0]!.code, 'SNOMED:706172005');
  assert.equal(r.profile.events[0]!.when, true);
});

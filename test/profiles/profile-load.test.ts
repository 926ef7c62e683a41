// Loading device profiles: schema errors placed at file:line and field, bad files skipped while
// good ones load, duplicate ids refused naming both files, and the compile-time rules the schema
// cannot state (a channel naming a field no decoding gives, rows without a rate, ...).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadProfiles, parseProfile, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import { runExamples } from '../../src/profiles/examples.js';
import { tempDir } from '../helpers/tmp.js';

const GOOD = `id: test/light
version: 1.0.0
title: test light
transport: serial
serial:
  baud_rate: 9600
  framing: { kind: lines }
channels:
  - name: illuminance
    from: lux
    unit: lx
    modality: light
    rate_hz: 1
decode:
  lines: { kind: pattern, regex: 'Light: (?<lux>[0-9.]+) lx' }
examples:
  - { name: one, text: 'Light: 12.5 lx', samples: [{ channel: illuminance, value: 12.5 }] }
`;

/** The problems of one profile text, as "line: code: message" strings. */
function problemsOf(text: string): string[] {
  const r = parseProfile(text, 'p.yaml');
  assert.ok('problems' in r, 'expected the profile to be refused');
  return r.problems.map((p) => `${p.place.line}:${p.place.keyPath ?? ''}: ${p.code}: ${p.message}`);
}

test('every shipped profile loads, and every example in it passes', async () => {
  const loaded = await loadProfiles([SHIPPED_PROFILES_DIR]);
  assert.deepEqual(loaded.problems.map((p) => p.toLine()), []);
  const ids = [...loaded.profiles.keys()].sort();
  for (const id of ['generic/bh1750-light', 'generic/csv-template', 'generic/imu6-lcrc', 'generic/pulse-oximeter-nmea', 'generic/respiration-belt-csv']) {
    assert.ok(ids.includes(id), `${id} ships`);
  }
  let count = 0;
  for (const profile of loaded.profiles.values()) {
    assert.ok(profile.examples.length >= 3, `${profile.id} documents its format with several examples`);
    assert.ok(profile.examples.some((e) => e.rejected !== undefined), `${profile.id} shows an input it rejects`);
    for (const r of runExamples(profile)) {
      count++;
      assert.ok(r.ok, `${profile.id}: ${r.example}: ${r.problems.join('; ')}`);
    }
  }
  assert.ok(count >= 25);
});

test('a wrong expectation in an example fails, saying what was expected and what came out', () => {
  const r = parseProfile(GOOD.replace('value: 12.5', 'value: 12.6'), 'p.yaml');
  assert.ok('profile' in r);
  const [result] = runExamples(r.profile);
  assert.equal(result!.ok, false);
  assert.match(result!.problems.join('\n'), /expected illuminance = 12\.6, got illuminance = 12\.5/);

  const rejectedWrongly = parseProfile(GOOD.replace("samples: [{ channel: illuminance, value: 12.5 }]", 'rejected: LINE_NO_MATCH'), 'p.yaml');
  assert.ok('profile' in rejectedWrongly);
  const [second] = runExamples(rejectedWrongly.profile);
  assert.equal(second!.ok, false);
  assert.match(second!.problems.join('\n'), /expected rejection with LINE_NO_MATCH, got samples/);
});

test('schema errors name the line, the field and what was expected', () => {
  const problems = problemsOf(GOOD
    .replace('version: 1.0.0', 'version: one')
    .replace('    unit: lx\n', '    unit: lx\n    colour: red\n')
    .replace('modality: light', 'modality: lite'));
  assert.deepEqual(problems, [
    "2:version: PROFILE_INVALID: expected a version like 1.0.0, got \"one\"",
    "12:channels[0].colour: PROFILE_INVALID: unknown key 'colour': a typo, or not in this version",
    "13:channels[0].modality: PROFILE_INVALID: expected one of cardiac, motion, respiration, light, temperature, oximetry, environment, device, got \"lite\"",
  ]);
});

test('rules across keys: a channel must name a decoded field, examples must name channels', () => {
  const problems = problemsOf(GOOD.replace('from: lux', 'from: luxx').replace('{ channel: illuminance, value: 12.5 }', '{ channel: light, value: 12.5 }'));
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0]!, /^10:channels\[0\]\.from: PROFILE_INVALID: no decoding gives a field 'luxx'; the fields are: lux$/);
  assert.match(problems[1]!, /^17:examples\[0\]\.samples\[0\]\.channel: PROFILE_INVALID: no channel 'light'; channels: illuminance$/);
});

test('a line parser option error and a YAML error are placed too', () => {
  const [regex] = problemsOf(GOOD.replace("regex: 'Light: (?<lux>[0-9.]+) lx'", "regex: '(?<lux>[0-9]+)+'"));
  assert.match(regex!, /^15:decode\.lines: PROFILE_INVALID: pattern line: .*repeated group/);
  const [kind] = problemsOf(GOOD.replace('kind: pattern', 'kind: regex'));
  assert.match(kind!, /^15:decode\.lines\.kind: PROFILE_INVALID: expected kind: csv, key-value or pattern, got "regex"/);
  const [yaml] = problemsOf(GOOD.replace('title: test light', 'title: a: b'));
  assert.match(yaml!, /^3:: PROFILE_YAML_SYNTAX: /);
  const [both] = problemsOf(GOOD.replace("decode:\n", "decode:\n  builtin: { name: bluetooth-sig/battery-level }\n"));
  assert.match(both!, /^14:decode: PROFILE_INVALID: expected one of layout, lines or builtin, got lines and builtin$/);
  const [builtin] = problemsOf(GOOD.replace("  lines: { kind: pattern, regex: 'Light: (?<lux>[0-9.]+) lx' }", '  builtin: { name: bluetooth-sig/batery-level }'));
  assert.match(builtin!, /^15:decode\.builtin\.name: PROFILE_INVALID: no built-in decoder is named 'bluetooth-sig\/batery-level'; known: .*bluetooth-sig\/battery-level/);
});

test('a binary layout error is placed at the layout key it concerns', () => {
  const text = GOOD
    .replace('framing: { kind: lines }', 'framing: { kind: cobs }')
    .replace("  lines: { kind: pattern, regex: 'Light: (?<lux>[0-9.]+) lx' }", '  layout:\n    fields:\n      - { name: lux, type: u16 }\n      - { name: bad, type: u17 }')
    .replace("text: 'Light: 12.5 lx'", "hex: '0c00'");
  const [problem] = problemsOf(text);
  assert.match(problem!, /^18:decode\.layout\.fields\[1\]\.type: PROFILE_INVALID: expected one of u8, .*, got "u17"$/);
});

test('several samples per packet need a rate to be timed', () => {
  const text = GOOD
    .replace('framing: { kind: lines }', 'framing: { kind: cobs }')
    .replace('    rate_hz: 1\n', '')
    .replace("  lines: { kind: pattern, regex: 'Light: (?<lux>[0-9.]+) lx' }", '  layout:\n    fields:\n      - type: group\n        repeat: tail\n        fields: [{ name: lux, type: u16 }]')
    .replace("text: 'Light: 12.5 lx'", "hex: '0c00'");
  const [problem] = problemsOf(text);
  assert.match(problem!, /^9:channels\[0\]: PROFILE_INVALID: 'lux' has several samples per packet, so the channel needs rate_hz/);
});

test('a bad file is skipped with its error and the good ones load; a duplicate id names both files', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'a'));
  await writeFile(join(dir, 'a', 'good.yaml'), GOOD);
  await writeFile(join(dir, 'a', 'other.yaml'), GOOD.replace('id: test/light', 'id: test/other'));
  await writeFile(join(dir, 'bad.yaml'), GOOD.replace('id: test/light', 'id: test/bad').replace('rate_hz: 1', 'rate_hz: -1'));
  await writeFile(join(dir, 'dup1.yml'), GOOD.replace('id: test/light', 'id: test/dup'));
  await writeFile(join(dir, 'dup2.yaml'), GOOD.replace('id: test/light', 'id: test/dup'));
  await writeFile(join(dir, 'README.md'), '# not a profile\n');
  const loaded = await loadProfiles([dir], dir);
  assert.deepEqual([...loaded.profiles.keys()].sort(), ['test/light', 'test/other']);
  assert.deepEqual(loaded.problems.map((p) => p.toLine()), [
    'bad.yaml:13 channels[0].rate_hz: expected a number > 0, got -1 [PROFILE_INVALID]',
    "dup1.yml:1: profile id 'test/dup' is also declared in dup2.yaml; none of them is used [PROFILE_DUPLICATE_ID]",
    "dup2.yaml:1: profile id 'test/dup' is also declared in dup1.yml; none of them is used [PROFILE_DUPLICATE_ID]",
  ]);
  assert.equal(loaded.files.length, 5);
});

test('a FIFO named like a profile is passed over, not read (a read would wait forever); a link to a profile is read', { timeout: 10_000 }, async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { symlink } = await import('node:fs/promises');
  const dir = await tempDir(t);
  await writeFile(join(dir, 'good.yaml'), GOOD);
  execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
  await mkdir(join(dir, 'elsewhere'));
  await writeFile(join(dir, 'elsewhere', 'other.txt'), GOOD.replace('id: test/light', 'id: test/linked'));
  await symlink(join(dir, 'elsewhere', 'other.txt'), join(dir, 'linked.yaml'));
  const loaded = await loadProfiles([dir], dir);
  assert.deepEqual([...loaded.profiles.keys()].sort(), ['test/light', 'test/linked']);
  assert.deepEqual(loaded.problems, []);
});

// The profile loader under hostile files: arbitrary text, text that looks like a profile, the
// shipped profiles damaged in their data (keys deleted, values replaced, lists repeated, deep in
// layouts and line formats) and in their text (lines dropped, repeated, re-indented, cut). Each
// file gives a compiled profile or problems with PROFILE_* codes placed at lines of the file,
// never an exception; a profile that still compiles decodes arbitrary bytes and runs its own
// examples without throwing either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { loadProfiles, parseProfile, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import { runExamples } from '../../src/profiles/examples.js';
import { ProfileSchema } from '../../src/profiles/schema.js';
import { builtinDecoderNames } from '../../src/profiles/decoders/registry.js';
import type { SampleValue } from '../../src/profiles/profile.js';
import { assertClearError, assertIssue, FUZZ_TEST, fuzzTarget, schemaKeys } from './fuzz.js';
import { applyEdit, jsonEdits, jsonLike } from './json-edits.js';

const fuzz = fuzzTarget('profile-load');
const FILE = 'device-profiles/fuzz/profile.yaml';

const shipped = await loadProfiles([SHIPPED_PROFILES_DIR]);
const texts = await Promise.all(shipped.files.map((f) => readFile(f, 'utf8')));

/** Loads a text; checks the problems or, for a profile, that it decodes and runs its examples without throwing. */
function loadOrRefuse(text: string, bytes: readonly Uint8Array[]): void {
  const lines = text.split(/\r\n|\r|\n/).length;
  let r: ReturnType<typeof parseProfile>;
  try {
    r = parseProfile(text, FILE);
  } catch (e) {
    assert.fail(`parseProfile threw: ${e instanceof Error ? e.stack : String(e)}`);
  }
  if ('problems' in r) {
    assert.ok(r.problems.length > 0);
    for (const p of r.problems) {
      assertClearError(p, ['PROFILE_YAML_SYNTAX', 'PROFILE_INVALID']);
      assert.equal(p.place.file, FILE);
      assert.ok(p.place.line !== undefined && p.place.line >= 1 && p.place.line <= lines + 1, `line ${String(p.place.line)} of ${lines}: ${p.toLine()}`);
    }
    return;
  }
  const { profile } = r;
  assert.ok(r.idLine >= 1 && r.idLine <= lines);
  const units = new Map(profile.channels.map((c) => [c.name, c.unit]));
  const finite = (v: SampleValue) => typeof v === 'boolean' || (typeof v === 'number' ? Number.isFinite(v) : v.every(Number.isFinite));
  for (const source of profile.sources) {
    for (const b of bytes) {
      const out = profile.decode(b, source);
      for (const s of out.samples) assert.ok(units.get(s.channel) === s.unit && finite(s.value), JSON.stringify(s));
      for (const e of out.errors) assertIssue(e, ['DECODE', 'LINE'], b.length);
    }
  }
  for (const result of runExamples(profile)) assert.ok(result.ok || result.problems.length > 0);
}

const KEYS = [
  ...schemaKeys(ProfileSchema), 'layout', 'lines', 'builtin', 'source', 'time', 'options', 'name', 'type', 'endian', 'scale', 'offset', 'when',
  'repeat', 'expect', 'bytes', 'of', 'bits', 'as', 'fields', 'field', 'bit', 'is', 'equals', 'trailing', 'kind', 'columns', 'delimiter', 'regex',
  'required', 'optional', 'numeric', 'checksum', 'separator', 'require_encryption', 'ecg_rate_hz', 'acc_rate_hz', 'acc_factor', '__proto__', 'x',
];
const SCALARS: unknown[] = [
  null, true, false, 0, 1, -1, 2, 3, 8, 15, 16, 31, 32, 33, 64, 255, 256, 65535, 1e9, 2 ** 53, -0, 0.5, 1e-300, 1e308, '', 'x',
  'u8', 'i8', 'u16', 'i16', 'u24', 'i24', 'u32', 'i32', 'f32', 'f64', 'sfloat', 'float', 'bits', 'skip', 'group', 'uint', 'boolean', 'tail',
  'little', 'big', 'reject', 'ignore', 'set', 'clear', 'csv', 'key-value', 'pattern', 'nmea', 'crc8', 'all', 'line', 'frame', 'advert', '2a37',
  'serial', 'ble', 'ble-advert', 'lines', 'slip', 'cobs', 'length-crc', 'u16le', 'ms', 'us', 's', 'device', 'unix', 'hr', 'flags', 'acc_x',
  '(?<v>\\d+)', '(?<v>(a+)+)', '(', 'DECODE_SHORT', 'Cel', '%', 'cardiac', ...builtinDecoderNames(), [0, 3], [3, 0], [0, 64], [-1, 2], [0xaa, 0x55],
];
const jsonish = jsonLike(KEYS, SCALARS);
const edits = jsonEdits(jsonish);
const someBytes = fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 3 });
const shippedIndex = fc.nat({ max: texts.length - 1 });

test('the shipped profiles are all here to be damaged', () => {
  assert.deepEqual(shipped.problems.map((p) => p.toLine()), []);
  assert.equal(texts.length, shipped.files.length);
  assert.ok(texts.length >= 13, `${texts.length} files`);
});

test('shipped profiles with their data damaged: a compiled profile or placed problems, never a throw', FUZZ_TEST, async (t) => {
  const data = texts.map((s) => parse(s) as unknown);
  await fuzz.check(t, fc.property(shippedIndex, edits, someBytes, (i, es, bytes) => {
    loadOrRefuse(stringify(es.reduce(applyEdit, data[i])), bytes);
  }), 400);
});

test('shipped decodings and channels damaged with plausible values: a compiled profile or placed problems', FUZZ_TEST, async (t) => {
  // Edits kept inside one section, with values of the kinds found there, get past the schema far
  // more often, into the layout, line and built-in compilers and the channel binding.
  const data = texts.map((s) => parse(s) as Record<string, unknown>);
  const small = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SCALARS) }, { weight: 1, arbitrary: jsonish });
  const section = fc.constantFrom('decode', 'decode', 'decode', 'channels', 'serial', 'examples', 'ble');
  await fuzz.check(t, fc.property(shippedIndex, section, jsonEdits(small), someBytes, (i, key, es, bytes) => {
    const profile = structuredClone(data[i]!);
    if (profile[key] !== undefined) profile[key] = es.reduce(applyEdit, profile[key]);
    loadOrRefuse(stringify(profile), bytes);
  }), 600);
});

test('shipped profiles with their text damaged: a compiled profile or placed problems, never a throw', FUZZ_TEST, async (t) => {
  const op = fc.tuple(fc.nat(), fc.constantFrom('drop', 'repeat', 'indent', 'dedent', 'cut', 'swap', 'tab'));
  await fuzz.check(t, fc.property(shippedIndex, fc.array(op, { minLength: 1, maxLength: 3 }), someBytes, (i, ops, bytes) => {
    const l = texts[i]!.split('\n');
    for (const [at, o] of ops) {
      const k = at % l.length;
      if (o === 'drop') l.splice(k, 1);
      else if (o === 'repeat') l.splice(k, 0, l[k]!);
      else if (o === 'indent') l[k] = `  ${l[k]}`;
      else if (o === 'dedent') l[k] = l[k]!.replace(/^ {1,2}/, '');
      else if (o === 'cut') l[k] = l[k]!.slice(0, at % (l[k]!.length + 1));
      else if (o === 'swap' && k + 1 < l.length) [l[k], l[k + 1]] = [l[k + 1]!, l[k]!];
      else if (o === 'tab') l[k] = l[k]!.replace(/^ +/, '\t');
    }
    loadOrRefuse(l.join('\n'), bytes);
  }), 200);
});

test('arbitrary text, and mappings of the format\'s keys written as YAML: placed problems or a profile', FUZZ_TEST, async (t) => {
  const text = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.dictionary(fc.constantFrom(...KEYS), jsonish, { maxKeys: 10 }).map((o) => stringify(o)),
    fc.constantFrom(...texts).chain((s) => fc.tuple(fc.constant(s), fc.nat(), fc.string({ maxLength: 6 }))).map(([s, at, ins]) => s.slice(0, at % s.length) + ins + s.slice(at % s.length)),
  );
  await fuzz.check(t, fc.property(text, someBytes, (s, bytes) => loadOrRefuse(s, bytes)), 200);
});

// The text line parsers (CSV, key-value, pattern, with or without a checksum suffix) under hostile
// input. Options from the arbitrary to the plausible compile to a parser or are refused with the
// parser's own TypeError; compiled parsers give fields, a skipped header or a LINE_* error for
// any bytes; lines written here from arbitrary values and options (checksums computed here, bit
// by bit) read back as those values; a checksummed line with one bit flipped is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileLineParser, lineFieldNames, type LineParserOptions } from '../../src/profiles/text/line-parser.js';
import { isLineError, LINE_HEADER_SKIPPED, type LineResult } from '../../src/profiles/text/line-common.js';
import type { LineChecksumOptions } from '../../src/profiles/text/line-checksum.js';
import { CRC } from './encoders.js';
import { assertIssue, ENGINE_MESSAGE, flip, FUZZ_TEST, fuzzTarget, mutated } from './fuzz.js';

const fuzz = fuzzTarget('text-lines');


function checkResult(r: LineResult, names: readonly string[], length: number): void {
  if ('skipped' in r) {
    assert.equal(r, LINE_HEADER_SKIPPED);
    return;
  }
  if (isLineError(r)) {
    assertIssue(r, ['LINE'], length);
    return;
  }
  for (const [k, v] of Object.entries(r.fields)) {
    assert.ok(names.includes(k), `field '${k}' is not one of ${names.join(', ')}`);
    assert.ok(typeof v === 'string' || Number.isFinite(v), `${k} = ${String(v)}`);
  }
}

/** Compiles, or checks that the refusal is the parser's own TypeError naming the format. */
function compileOrRefuse(options: unknown): ReturnType<typeof compileLineParser> | undefined {
  try {
    return compileLineParser(options as LineParserOptions);
  } catch (e) {
    assert.ok(e instanceof TypeError, `not a TypeError: ${e instanceof Error ? e.stack : String(e)}`);
    assert.doesNotMatch(e.message, ENGINE_MESSAGE);
    assert.match(e.message, /^(csv line|key-value line|pattern line|line checksum|line parser)/, e.message);
    return undefined;
  }
}

// ---- Options, anything from garbage to sound ----

const NAMES = ['a', 'b', 'spo2', 'pr', 'hr', 'x_1', '_', '__proto__', 'constructor', '', ' a', 'a b', 'é', 'x'.repeat(65), 'toString'];
const name = fc.constantFrom(...NAMES);
const junk = fc.oneof(fc.constant(undefined), fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 6 }), fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }), fc.object({ maxDepth: 1 }));
const checksumOption: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.record({ kind: fc.constantFrom('nmea', 'crc8', 'crc16-ccitt', 'crc16-modbus', 'crc32', 'NMEA') }),
  fc.record({ kind: fc.constantFrom('crc8', 'crc16-ccitt', 'crc16-modbus', 'nmea'), separator: fc.oneof(fc.constantFrom('*', '#', ' ', '\t', '', '**', 'é'), junk) }),
  junk,
);
const numericOption = fc.oneof(fc.constant(undefined), fc.constant('all'), fc.constant('some'), fc.array(name, { maxLength: 4 }), junk);

const REGEX_TOKENS = [
  '(?<a>', '(?<b>', '(?<spo2>', '(?<_x>', '(?:', '(', ')', '|', '*', '+', '?', '*?', '{2}', '{1,3}', '{2,}', '{,2}', 'a', 'b', ':', ' ', ',',
  '\\d', '\\w', '\\s', '\\.', '\\(', '\\)', '[a-z]', '[^,]', '[(?<z>]', '[\\]]', '.', '\\', '\\1', '\\k<a>', '^', '$', '[', ']', '{', '}',
  '(?=', '(?!', '(?<=', '(?<!', '\\p{L}', '\\u{41}', '\\u0041', '\\cA', '\\x41', '-', '>', '<',
];
const regex = fc.array(fc.constantFrom(...REGEX_TOKENS), { minLength: 1, maxLength: 14 }).map((t) => t.join(''));

const anyOptions: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ kind: fc.constant('csv'), columns: fc.oneof(fc.array(name, { maxLength: 5 }), junk), delimiter: fc.oneof(fc.constantFrom(',', ';', '\t', ' ', '|', ''), junk), header: fc.oneof(fc.boolean(), junk), trim: fc.oneof(fc.boolean(), junk), numeric: numericOption, checksum: checksumOption }, { requiredKeys: ['kind'] }),
  fc.record({ kind: fc.constant('key-value'), required: fc.oneof(fc.array(name, { maxLength: 4 }), junk), optional: fc.oneof(fc.array(name, { maxLength: 4 }), junk), pairSeparator: fc.oneof(fc.constantFrom(' ', ',', ';', '=', '', 'ab', '\n', '=='), junk), keyValueSeparator: fc.oneof(fc.constantFrom('=', ':', ' ', ',', '', '\t'), junk), numeric: numericOption, checksum: checksumOption }, { requiredKeys: ['kind'] }),
  fc.record({ kind: fc.constant('pattern'), regex: fc.oneof(regex, junk), flags: fc.oneof(fc.constantFrom('', 'i', 's', 'u', 'is', 'iu', 'g', 'ii', 'y'), junk), optional: fc.oneof(fc.array(name, { maxLength: 2 }), junk), numeric: numericOption, checksum: checksumOption }, { requiredKeys: ['kind', 'regex'] }),
  fc.record({ kind: fc.oneof(fc.constantFrom('csv', 'key-value', 'pattern', 'json'), junk), extra: junk }),
  junk,
);

// Lines near what devices send, and anything at all. Kept short: an accepted pattern may still
// backtrack exponentially (the compile-time guard is not a proof), which this must not wait on.
const textish = fc.array(fc.constantFrom(...'0123456789abAB.,;:=*$ \t\r-+eE_()<>'.split(''), 'é', '€', '\u0000', '\u{1F600}'), { maxLength: 16 }).map((c) => Buffer.from(c.join(''), 'utf8'));
const anyLine = fc.oneof(fc.uint8Array({ maxLength: 16 }), textish);

test('any options compile or are refused with the format\'s TypeError; compiled parsers take any bytes', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(anyOptions, fc.array(anyLine, { minLength: 1, maxLength: 4 }), (options, lines) => {
    const parse = compileOrRefuse(options);
    if (!parse) return;
    const names = lineFieldNames(options as LineParserOptions);
    for (const line of lines) checkResult(parse(line), names, line.length);
  }), 3000);
});

test('an accepted pattern\'s fields are exactly the named groups JavaScript sees in it', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(regex, fc.constantFrom('', 'i', 'u', 's'), (source, flags) => {
    const parse = compileOrRefuse({ kind: 'pattern', regex: source, flags });
    if (!parse) return;
    // An empty alternative makes the expression match '', so exec always gives the groups object.
    const groups = new RegExp(`(?:${source})|`, flags).exec('')!.groups ?? {};
    assert.deepEqual([...lineFieldNames({ kind: 'pattern', regex: source, flags })].sort(), Object.keys(groups).sort(), source);
  }), 3000);
});

// ---- Round trips ----

/** NMEA's XOR, or a CRC bit by bit (the parsers use tables). */
function checksumOf(kind: LineChecksumOptions['kind'], data: Uint8Array): number {
  return kind === 'nmea' ? data.reduce((x, b) => x ^ b, 0) : CRC[kind]([...data]);
}

interface Suffix { checksum: LineChecksumOptions | undefined; dollar: boolean; upper: boolean }
const suffix: fc.Arbitrary<Suffix> = fc.record({
  checksum: fc.oneof(
    fc.constant(undefined),
    fc.constant({ kind: 'nmea' as const }),
    fc.record({ kind: fc.constantFrom('crc8' as const, 'crc16-ccitt' as const, 'crc16-modbus' as const), separator: fc.constantFrom('*', '#', '|', '~') }, { requiredKeys: ['kind'] }),
  ),
  dollar: fc.boolean(),
  upper: fc.boolean(),
});

/** The payload with its checksum suffix, as a device writes it; and where the hex digits start. */
function withChecksum(payload: string, s: Suffix): { line: string; digitsAt: number } {
  if (!s.checksum) return { line: payload, digitsAt: -1 };
  const data = Buffer.from(payload, 'utf8');
  const width = s.checksum.kind === 'nmea' || s.checksum.kind === 'crc8' ? 2 : 4;
  let hex = checksumOf(s.checksum.kind, data).toString(16).padStart(width, '0');
  hex = s.upper ? hex.toUpperCase() : hex;
  const sep = s.checksum.kind === 'nmea' ? '*' : (s.checksum.separator ?? '*');
  const head = s.checksum.kind === 'nmea' && s.dollar ? `$${payload}` : payload;
  return { line: `${head}${sep}${hex}`, digitsAt: Buffer.byteLength(`${head}${sep}`, 'utf8') };
}

const ending = fc.constantFrom('', '\n', '\r\n', '\r', '  ', ' \r\n');
const fieldName = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
/** -0 prints as "0": it reads back as 0. */
const printed = (x: number) => (x === 0 ? 0 : x);
/** Text a device might print in a field: letters, digits, punctuation, non-ASCII; no control characters. */
const cellText = (forbidden: string) => fc.array(fc.constantFrom(...'abcXYZ019.-+_/()[]#%é€漢'.split(''), ' ', '\t', ',', ';', '=', ':', '*', '$', '\u{1F600}'), { minLength: 1, maxLength: 8 })
  .map((c) => c.join(''))
  .filter((s) => ![...forbidden].some((f) => s.includes(f)) && s.trim() === s);

interface Built { bytes: Buffer; want: LineResult | 'skipped'; options: LineParserOptions; digitsAt: number }

const csvCase: fc.Arbitrary<Built> = fc.record({
  columns: fc.uniqueArray(fieldName, { minLength: 1, maxLength: 5 }),
  ignored: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  delimiter: fc.constantFrom<',' | ';' | '\t' | ' '>(',', ';', '\t', ' '),
  numericAll: fc.boolean(),
  numericPick: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  trim: fc.boolean(),
  header: fc.boolean(),
  writeHeader: fc.boolean(),
  numbers: fc.array(finite, { minLength: 5, maxLength: 5 }),
  texts: fc.array(cellText(',;\t $*#|~ '), { minLength: 5, maxLength: 5 }),
  suffix,
  end: ending,
}).map((c) => {
  const names = c.columns.map((n, i) => (c.ignored[i] && c.columns.length > 1 && i > 0 ? '_' : n));
  const declared = names.filter((n) => n !== '_');
  const numericNames = declared.filter((_, i) => c.numericPick[i]);
  const numeric = c.numericAll ? 'all' as const : numericNames.length > 0 ? numericNames : undefined;
  const isNumeric = (n: string) => numeric === 'all' || (numeric?.includes(n) ?? false);
  const cells = names.map((n, i) => (c.writeHeader ? n : n === '_' ? c.texts[i]! : isNumeric(n) ? String(c.numbers[i]) : c.texts[i]!));
  const { line, digitsAt } = withChecksum(cells.join(c.delimiter), c.suffix);
  const options: LineParserOptions = {
    kind: 'csv', columns: names, delimiter: c.delimiter, trim: c.trim, header: c.header,
    ...(numeric !== undefined ? { numeric } : {}), ...(c.suffix.checksum ? { checksum: c.suffix.checksum } : {}),
  };
  let want: Built['want'];
  if (c.header && names.every((n, i) => n === '_' || cells[i] === n)) want = 'skipped';
  else if (c.writeHeader && declared.some(isNumeric)) want = { code: 'LINE_BAD_NUMBER', message: '' };
  else want = { fields: Object.fromEntries(names.map((n, i) => [n, cells[i]!] as const).filter(([n]) => n !== '_').map(([n, v]) => [n, isNumeric(n) ? printed(Number(v)) : v])) };
  return { bytes: Buffer.from(line + c.end, 'utf8'), want, options, digitsAt };
});

const SEPARATORS: ReadonlyArray<readonly [string, string]> = [[' ', '='], [',', ':'], [';', '='], ['&', '='], [', ', ': '], [' | ', '=>']];
const keyValueCase: fc.Arbitrary<Built> = fc.record({
  keys: fc.uniqueArray(fieldName, { minLength: 1, maxLength: 5 }),
  required: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  present: fc.array(fc.constantFrom('value', 'value', 'absent', 'empty'), { minLength: 5, maxLength: 5 }),
  seps: fc.constantFrom(...SEPARATORS),
  numericAll: fc.boolean(),
  numbers: fc.array(finite, { minLength: 5, maxLength: 5 }),
  texts: fc.array(cellText(',;:=&|> \t*#~$'), { minLength: 5, maxLength: 5 }),
  stale: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  unknown: fc.array(fc.tuple(fc.stringMatching(/^Z[a-z0-9]{0,4}$/), cellText(',;:=&|> \t*#~$')), { maxLength: 3 }),
  order: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
  suffix,
  end: ending,
}).map((c) => {
  const [pairSep, kvSep] = c.seps;
  const required = c.keys.filter((_, i) => c.required[i]);
  const optional = c.keys.filter((_, i) => !c.required[i]);
  const value = (i: number) => (c.numericAll ? String(c.numbers[i]) : c.texts[i]!);
  const pairs: string[] = [];
  c.keys.forEach((k, i) => {
    // A key given twice: the last one counts, so an earlier copy may hold anything.
    if (c.stale[i] && c.present[i] === 'value') pairs.push(`${k}${kvSep}${c.texts[(i + 1) % 5]}`);
    if (c.present[i] === 'value') pairs.push(`${k}${kvSep}${value(i)}`);
    if (c.present[i] === 'empty') pairs.push(`${k}${kvSep}`);
  });
  // Unknown keys (capitalised: no declared name is) may go anywhere.
  for (const [k, v] of c.unknown) pairs.splice(c.order[pairs.length % c.order.length]! % (pairs.length + 1), 0, `${k}${kvSep}${v}`);
  const { line, digitsAt } = withChecksum(pairs.join(pairSep), c.suffix);
  const options: LineParserOptions = {
    kind: 'key-value', required, optional, pairSeparator: pairSep, keyValueSeparator: kvSep,
    ...(c.numericAll ? { numeric: 'all' as const } : {}), ...(c.suffix.checksum ? { checksum: c.suffix.checksum } : {}),
  };
  const missing = c.keys.find((_, i) => c.required[i] && c.present[i] !== 'value');
  const want: Built['want'] = missing !== undefined
    ? { code: 'LINE_MISSING_FIELD', message: '', field: missing }
    : { fields: Object.fromEntries(c.keys.flatMap((k, i) => (c.present[i] === 'value' ? [[k, c.numericAll ? printed(c.numbers[i]!) : value(i)]] : []))) };
  return { bytes: Buffer.from(line + c.end, 'utf8'), want, options, digitsAt };
});

const patternCase: fc.Arbitrary<Built> = fc.record({
  names: fc.uniqueArray(fieldName, { minLength: 1, maxLength: 4 }),
  optional: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  empty: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  texts: fc.array(cellText(';*#|~$'), { minLength: 4, maxLength: 4 }),
  prefix: fc.constantFrom('', 'V:', 'SpO2='),
  ignoreCase: fc.boolean(),
  suffix,
  end: ending,
}).map((c) => {
  const source = c.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + c.names.map((n) => `(?<${n}>[^;]*)`).join(';');
  const values = c.names.map((_, i) => (c.empty[i] ? '' : c.texts[i]!));
  const { line, digitsAt } = withChecksum(`${c.ignoreCase ? c.prefix.toUpperCase() : c.prefix}${values.join(';')}`, c.suffix);
  const optional = c.names.filter((_, i) => c.optional[i]);
  const options: LineParserOptions = {
    kind: 'pattern', regex: source,
    ...(optional.length ? { optional } : {}), ...(c.ignoreCase ? { flags: 'i' } : {}), ...(c.suffix.checksum ? { checksum: c.suffix.checksum } : {}),
  };
  const missing = c.names.find((_, i) => c.empty[i] && !c.optional[i]);
  const want: Built['want'] = missing !== undefined
    ? { code: 'LINE_MISSING_FIELD', message: '', field: missing }
    : { fields: Object.fromEntries(c.names.flatMap((n, i) => (c.empty[i] ? [] : [[n, values[i]!]]))) };
  return { bytes: Buffer.from(line + c.end, 'utf8'), want, options, digitsAt };
});

/** Parses a built line and compares with what it was built to give. */
function checkBuilt(b: Built): void {
  const parse = compileLineParser(b.options);
  const r = parse(b.bytes);
  if (b.want === 'skipped') assert.equal(r, LINE_HEADER_SKIPPED);
  else if ('code' in b.want) {
    assert.ok(isLineError(r), `expected ${b.want.code}, got ${JSON.stringify(r)}`);
    assert.equal(r.code, b.want.code, r.message);
    if (b.want.field !== undefined) assert.equal(r.field, b.want.field);
  } else assert.deepEqual(r, b.want, `${JSON.stringify(b.bytes.toString('utf8'))} with ${JSON.stringify(b.options)}`);
}

test('CSV round trip: any columns, delimiter, numbers and text, with or without a checksum, read back as written', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(csvCase, checkBuilt), 2500);
});

test('key-value round trip: any keys, separators, order, repeats and unknown pairs read back as written', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(keyValueCase, checkBuilt), 2500);
});

test('pattern round trip: named groups read back as written; an empty one is absent when optional, missing otherwise', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(patternCase, checkBuilt), 2500);
});

test('a checksummed line with any one bit flipped is refused (a hex letter changing case excepted)', FUZZ_TEST, async (t) => {
  const built = fc.oneof(csvCase, keyValueCase, patternCase).filter((b) => b.options.checksum !== undefined && b.want !== 'skipped' && !('code' in b.want));
  await fuzz.check(t, fc.property(built, fc.nat(), (b, bitSeed) => {
    const body = b.bytes.toString('utf8').replace(/[\r\n ]+$/, '');
    const bytes = Buffer.from(body, 'utf8');
    const bit = bitSeed % (bytes.length * 8);
    const r = compileLineParser(b.options)(flip(bytes, bit));
    const at = bit >> 3;
    const caseFlip = at >= b.digitsAt && (bit & 7) === 5 && /[a-fA-F]/.test(String.fromCharCode(bytes[at]!));
    if (caseFlip) assert.deepEqual(r, compileLineParser(b.options)(bytes));
    else assert.ok(isLineError(r), `bit ${bit} of ${JSON.stringify(body)} flipped, and still read: ${JSON.stringify(r)}`);
  }), 2000);
});

test('mutated lines of every format give fields, a skipped header or a LINE_* error', FUZZ_TEST, async (t) => {
  const built = fc.oneof(csvCase, keyValueCase, patternCase);
  await fuzz.check(t, fc.property(built.chain((b) => mutated(fc.constant(new Uint8Array(b.bytes))).map((m) => [b, m] as const)), ([b, line]) => {
    checkResult(compileLineParser(b.options)(line), lineFieldNames(b.options), line.length);
  }), 2000);
});

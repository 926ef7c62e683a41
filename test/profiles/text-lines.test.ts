// Text-line parsers: CSV, key=value and pattern lines, with and without a suffix checksum.
//
// Expected checksums are never computed here with the functions under test: they are published
// values (an NMEA 0183 example sentence, the CRC catalogue check values over "123456789") or
// worked by hand below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileLineParser, type LineParserOptions } from '../../src/profiles/text/line-parser.js';
import {
  firstNonTextByte, isLineError, LINE_ERRORS, LINE_HEADER_SKIPPED,
  type LineError, type LineParser, type LineResult,
} from '../../src/profiles/text/line-common.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const parse = (parser: LineParser, line: string | Uint8Array) => parser(typeof line === 'string' ? bytes(line) : line);

function fieldsOf(result: LineResult): Readonly<Record<string, number | string>> {
  assert.ok('fields' in result, `expected fields, got ${JSON.stringify(result)}`);
  return result.fields;
}

function errorOf(result: LineResult): LineError {
  assert.ok(isLineError(result), `expected an error, got ${JSON.stringify(result)}`);
  return result;
}

// ---- Pattern: an ambient light sensor (BH1750 breakout sketches print one of these). ----

const luxShort = compileLineParser({ kind: 'pattern', regex: String.raw`lux: (?<illuminance>\d+(?:\.\d+)?)`, numeric: 'all' });
const luxLong = compileLineParser({ kind: 'pattern', regex: String.raw`Light: (?<illuminance>\d+(?:\.\d+)?) lx`, numeric: ['illuminance'] });

test('a BH1750 line read with a pattern gives the illuminance as a number', () => {
  assert.deepEqual(fieldsOf(parse(luxShort, 'lux: 123.5')), { illuminance: 123.5 });
  assert.deepEqual(fieldsOf(parse(luxLong, 'Light: 123.50 lx')), { illuminance: 123.5 });
  assert.deepEqual(fieldsOf(parse(luxLong, 'Light: 0 lx')), { illuminance: 0 });
});

test('the pattern must match the whole line', () => {
  assert.equal(errorOf(parse(luxShort, 'lux: 123.5 lx')).code, LINE_ERRORS.NO_MATCH);
  assert.equal(errorOf(parse(luxShort, 'Xlux: 123.5')).code, LINE_ERRORS.NO_MATCH);
  assert.equal(errorOf(parse(luxLong, 'Light: high lx')).code, LINE_ERRORS.NO_MATCH);
  // A source that is anchored already still works.
  const anchored = compileLineParser({ kind: 'pattern', regex: String.raw`^lux: (?<lux>\d+)$` });
  assert.deepEqual(fieldsOf(parse(anchored, 'lux: 12')), { lux: '12' });
});

test('pattern fields are strings unless declared numeric; optional groups may be absent', () => {
  const p = compileLineParser({
    kind: 'pattern', regex: String.raw`(?<name>[A-Z]+)=(?<value>[^ ]+)(?: (?<unit>\w+))?`, numeric: ['value'], optional: ['unit'],
  });
  assert.deepEqual(fieldsOf(parse(p, 'T=36.6 Cel')), { name: 'T', value: 36.6, unit: 'Cel' });
  assert.deepEqual(fieldsOf(parse(p, 'T=36.6')), { name: 'T', value: 36.6 });
  const bad = errorOf(parse(p, 'T=36,6'));
  assert.equal(bad.code, LINE_ERRORS.BAD_NUMBER);
  assert.equal(bad.field, 'value');
  // A group that took no part is missing unless optional.
  const strict = compileLineParser({ kind: 'pattern', regex: String.raw`(?<a>\d+)(?:,(?<b>\d+))?`, numeric: 'all' });
  assert.deepEqual(fieldsOf(parse(strict, '1,2')), { a: 1, b: 2 });
  const missing = errorOf(parse(strict, '1'));
  assert.equal(missing.code, LINE_ERRORS.MISSING_FIELD);
  assert.equal(missing.field, 'b');
});

test('a pattern with the i flag matches either case', () => {
  const p = compileLineParser({ kind: 'pattern', regex: String.raw`light: (?<lux>\d+) LX`, flags: 'i', numeric: 'all' });
  assert.deepEqual(fieldsOf(parse(p, 'LIGHT: 7 lx')), { lux: 7 });
});

// ---- CSV ----

const oxCsv = compileLineParser({ kind: 'csv', columns: ['time', 'spo2', 'pr'], numeric: 'all', header: true });

test('a CSV line gives its named columns, as numbers where declared', () => {
  assert.deepEqual(fieldsOf(parse(oxCsv, '1699999999123,98,65')), { time: 1699999999123, spo2: 98, pr: 65 });
  const mixed = compileLineParser({ kind: 'csv', columns: ['id', 'spo2'], numeric: ['spo2'] });
  assert.deepEqual(fieldsOf(parse(mixed, '007,98')), { id: '007', spo2: 98 });
});

test('a CSV header line equal to the column names is skipped; other lines are not', () => {
  assert.equal(parse(oxCsv, 'time,spo2,pr'), LINE_HEADER_SKIPPED);
  assert.equal(errorOf(parse(oxCsv, 'time,spo2,hr')).code, LINE_ERRORS.BAD_NUMBER);
  const noHeader = compileLineParser({ kind: 'csv', columns: ['time', 'spo2', 'pr'], numeric: 'all' });
  assert.equal(errorOf(parse(noHeader, 'time,spo2,pr')).code, LINE_ERRORS.BAD_NUMBER);
  // '_' columns match any header cell.
  const withIgnored = compileLineParser({ kind: 'csv', columns: ['time', '_', 'pr'], numeric: 'all', header: true });
  assert.equal(parse(withIgnored, 'time,flags,pr'), LINE_HEADER_SKIPPED);
});

test("CSV columns named '_' are ignored, even when empty or not numbers", () => {
  const p = compileLineParser({ kind: 'csv', columns: ['_', 'spo2', '_', 'pr'], numeric: 'all' });
  assert.deepEqual(fieldsOf(parse(p, 'OX1,97,ok,64')), { spo2: 97, pr: 64 });
  assert.deepEqual(fieldsOf(parse(p, ',97,,64')), { spo2: 97, pr: 64 });
});

test('CSV delimiters and trimming', () => {
  const semi = compileLineParser({ kind: 'csv', columns: ['spo2', 'pr'], delimiter: ';', trim: true, numeric: 'all' });
  assert.deepEqual(fieldsOf(parse(semi, ' 97 ; 64')), { spo2: 97, pr: 64 });
  const untrimmed = compileLineParser({ kind: 'csv', columns: ['spo2', 'pr'], delimiter: ';', numeric: 'all' });
  const bad = errorOf(parse(untrimmed, '97; 64'));
  assert.equal(bad.code, LINE_ERRORS.BAD_NUMBER);
  assert.equal(bad.column, 2);

  const tab = compileLineParser({ kind: 'csv', columns: ['spo2', 'pr'], delimiter: '\t', numeric: 'all' });
  assert.deepEqual(fieldsOf(parse(tab, '97\t64')), { spo2: 97, pr: 64 });
  // With a tab delimiter a trailing tab is an empty last column, not trailing whitespace.
  const lastEmpty = errorOf(parse(tab, '97\t'));
  assert.equal(lastEmpty.code, LINE_ERRORS.MISSING_FIELD);
  assert.equal(lastEmpty.field, 'pr');

  // A space delimiter takes runs of spaces, as aligned columns are printed.
  const space = compileLineParser({ kind: 'csv', columns: ['spo2', 'pr', 'pi'], delimiter: ' ', numeric: 'all' });
  assert.deepEqual(fieldsOf(parse(space, '  97   64  2.5')), { spo2: 97, pr: 64, pi: 2.5 });
  // Spaces before a checksum are part of the payload, and still no column.
  // "$97 64 *0C": XOR by hand of '9' 39, '7' 37 -> 0E, ' ' 20 -> 2E, '6' 36 -> 18, '4' 34 -> 2C, ' ' 20 -> 0C.
  const spaceSum = compileLineParser({ kind: 'csv', columns: ['spo2', 'pr'], delimiter: ' ', numeric: 'all', checksum: { kind: 'nmea' } });
  assert.deepEqual(fieldsOf(parse(spaceSum, '$97 64 *0C')), { spo2: 97, pr: 64 });
});

test('a CSV line with another number of columns is refused', () => {
  assert.equal(errorOf(parse(oxCsv, '1699999999123,98')).code, LINE_ERRORS.BAD_COLUMNS);
  assert.equal(errorOf(parse(oxCsv, '1699999999123,98,65,1')).code, LINE_ERRORS.BAD_COLUMNS);
  assert.equal(errorOf(parse(oxCsv, '')).code, LINE_ERRORS.BAD_COLUMNS);
});

test('a CSV number that does not parse names its field and column; an empty one is missing', () => {
  const bad = errorOf(parse(oxCsv, '1699999999123,9x,65'));
  assert.equal(bad.code, LINE_ERRORS.BAD_NUMBER);
  assert.equal(bad.field, 'spo2');
  assert.equal(bad.column, 2);
  for (const cell of ['0x10', 'Infinity', 'NaN', '1e999', '--', '1.2.3']) {
    assert.equal(errorOf(parse(oxCsv, `1,${cell},65`)).code, LINE_ERRORS.BAD_NUMBER, cell);
  }
  for (const [cell, value] of [['-1.5', -1.5], ['+2', 2], ['.5', 0.5], ['5.', 5], ['1e3', 1000]] as const) {
    assert.equal(fieldsOf(parse(oxCsv, `1,${cell},65`)).spo2, value, cell);
  }
  const empty = errorOf(parse(oxCsv, '1699999999123,,65'));
  assert.equal(empty.code, LINE_ERRORS.MISSING_FIELD);
  assert.equal(empty.field, 'spo2');
  assert.equal(empty.column, 2);
});

// ---- Key/value, with an NMEA-style checksum ----

// "$spo2=97 pr=64*70": the checksum is the XOR of the ASCII bytes between '$' and '*', worked by hand:
//   s 0x73 -> 73 | p 0x70 -> 03 | o 0x6F -> 6C | 2 0x32 -> 5E | = 0x3D -> 63 | 9 0x39 -> 5A | 7 0x37 -> 6D
//   ' ' 0x20 -> 4D | p 0x70 -> 3D | r 0x72 -> 4F | = 0x3D -> 72 | 6 0x36 -> 44 | 4 0x34 -> 70
const oxKv = compileLineParser({
  kind: 'key-value', required: ['spo2', 'pr'], optional: ['pi'], numeric: 'all', checksum: { kind: 'nmea' },
});

test('a pulse oximeter key=value line with an NMEA-style checksum', () => {
  assert.deepEqual(fieldsOf(parse(oxKv, '$spo2=97 pr=64*70')), { spo2: 97, pr: 64 });
  // Without '$' the XOR runs from the line's start; the hex may be lower case.
  const no$ = compileLineParser({ kind: 'key-value', required: ['spo2', 'pr'], numeric: 'all', checksum: { kind: 'nmea' } });
  assert.deepEqual(fieldsOf(parse(no$, 'spo2=97 pr=64*70')), { spo2: 97, pr: 64 });
  // One bit off in the text, or in the checksum, is refused.
  assert.equal(errorOf(parse(oxKv, '$spo2=98 pr=64*70')).code, LINE_ERRORS.BAD_CHECKSUM);
  assert.equal(errorOf(parse(oxKv, '$spo2=97 pr=64*71')).code, LINE_ERRORS.BAD_CHECKSUM);
  // Missing, short and non-hex checksums.
  assert.equal(errorOf(parse(oxKv, '$spo2=97 pr=64')).code, LINE_ERRORS.BAD_CHECKSUM);
  assert.equal(errorOf(parse(oxKv, '$spo2=97 pr=64*7')).code, LINE_ERRORS.BAD_CHECKSUM);
  const nonHex = errorOf(parse(oxKv, '$spo2=97 pr=64*7G'));
  assert.equal(nonHex.code, LINE_ERRORS.BAD_CHECKSUM);
  assert.equal(nonHex.byteOffset, 16);
  assert.equal(errorOf(parse(oxKv, '*')).code, LINE_ERRORS.BAD_CHECKSUM);
  assert.equal(errorOf(parse(oxKv, '')).code, LINE_ERRORS.BAD_CHECKSUM);
});

test('key-value: unknown keys ignored, optional keys may be absent, required ones may not', () => {
  const p = compileLineParser({ kind: 'key-value', required: ['spo2', 'pr'], optional: ['pi'], numeric: ['spo2', 'pr'] });
  assert.deepEqual(fieldsOf(parse(p, 'seq=12 spo2=97 pr=64 status=ok')), { spo2: 97, pr: 64 });
  assert.deepEqual(fieldsOf(parse(p, 'pr=64  spo2=97 pi=2.5')), { spo2: 97, pr: 64, pi: '2.5' });
  const missing = errorOf(parse(p, 'spo2=97 hr=64'));
  assert.equal(missing.code, LINE_ERRORS.MISSING_FIELD);
  assert.equal(missing.field, 'pr');
  assert.equal(errorOf(parse(p, 'spo2=97 pr=')).code, LINE_ERRORS.MISSING_FIELD);
  assert.equal(errorOf(parse(p, 'spo2=97 pr')).code, LINE_ERRORS.MISSING_FIELD);
  const bad = errorOf(parse(p, 'spo2=9?7 pr=64'));
  assert.equal(bad.code, LINE_ERRORS.BAD_NUMBER);
  assert.equal(bad.field, 'spo2');
  // The last of a repeated key counts.
  assert.deepEqual(fieldsOf(parse(p, 'spo2=96 pr=64 spo2=97')), { spo2: 97, pr: 64 });
});

test('key-value with other separators: "SPO2:97,PR:64"', () => {
  const p = compileLineParser({ kind: 'key-value', required: ['SPO2', 'PR'], pairSeparator: ',', keyValueSeparator: ':', numeric: 'all' });
  assert.deepEqual(fieldsOf(parse(p, 'SPO2:97,PR:64')), { SPO2: 97, PR: 64 });
  assert.deepEqual(fieldsOf(parse(p, 'SPO2: 97, PR: 64,,')), { SPO2: 97, PR: 64 });
  // Keys match exactly, case included.
  assert.equal(errorOf(parse(p, 'spo2:97,pr:64')).code, LINE_ERRORS.MISSING_FIELD);
});

// ---- NMEA sentences and CRC suffixes ----

test('a published NMEA GGA sentence passes its checksum and reads as CSV', () => {
  // The classic example sentence of NMEA 0183 guides; its checksum 0x47 is the published one.
  const gga = compileLineParser({
    kind: 'csv',
    columns: ['sentence', 'time', 'lat', 'ns', 'lon', 'ew', 'quality', 'satellites', 'hdop', 'altitude', '_', 'geoid', '_', '_', '_'],
    numeric: ['lat', 'lon', 'quality', 'satellites', 'hdop', 'altitude', 'geoid'],
    checksum: { kind: 'nmea' },
  });
  const line = '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47';
  assert.deepEqual(fieldsOf(parse(gga, line)), {
    sentence: 'GPGGA', time: '123519', lat: 4807.038, ns: 'N', lon: 1131, ew: 'E',
    quality: 1, satellites: 8, hdop: 0.9, altitude: 545.4, geoid: 46.9,
  });
  assert.equal(errorOf(parse(gga, line.replace('*47', '*46'))).code, LINE_ERRORS.BAD_CHECKSUM);
  assert.equal(errorOf(parse(gga, line.replace('545.4', '545.5'))).code, LINE_ERRORS.BAD_CHECKSUM);
  // The RMC example, with its checksum 6A written in lower case.
  const rmc = compileLineParser({ kind: 'pattern', regex: String.raw`(?<sentence>GPRMC),.*`, checksum: { kind: 'nmea' } });
  assert.deepEqual(fieldsOf(parse(rmc, '$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6a')), { sentence: 'GPRMC' });
});

test('CRC suffixes: the catalogue check values over "123456789"', () => {
  // CRC RevEng catalogue check values: CRC-8/SMBUS F4, CRC-16/IBM-3740 29B1, CRC-16/MODBUS 4B37.
  const reader = (checksum: LineParserOptions['checksum']) =>
    compileLineParser({ kind: 'pattern', regex: String.raw`(?<n>\d+)`, numeric: 'all', checksum });
  for (const [checksum, good, bad] of [
    [{ kind: 'crc8' }, '123456789*F4', '123456789*F5'],
    [{ kind: 'crc8' }, '123456789*f4', '123456788*f4'],
    [{ kind: 'crc16-ccitt' }, '123456789*29B1', '123456789*29B0'],
    [{ kind: 'crc16-modbus' }, '123456789*4b37', '123456789*374B'],
    [{ kind: 'crc16-modbus', separator: ';' }, '123456789;4B37', '123456789*4B37'],
    [{ kind: 'crc16-ccitt', separator: ' CRC=' }, '123456789 CRC=29B1', '123456789 CRC=29B1X'],
  ] as const) {
    const p = reader(checksum);
    assert.deepEqual(fieldsOf(parse(p, good)), { n: 123456789 }, good);
    assert.equal(errorOf(parse(p, bad)).code, LINE_ERRORS.BAD_CHECKSUM, bad);
  }
  // A crc16 needs four digits: two are not enough.
  assert.equal(errorOf(parse(reader({ kind: 'crc16-ccitt' }), '123456789*B1')).code, LINE_ERRORS.BAD_CHECKSUM);
});

// ---- Line ends and text ----

test('CRLF, a lone CR and trailing spaces or tabs are dropped before parsing and checking', () => {
  for (const end of ['\r', '\r\n', '  ', ' \t\r', '\t']) {
    assert.deepEqual(fieldsOf(parse(luxLong, `Light: 123.50 lx${end}`)), { illuminance: 123.5 }, JSON.stringify(end));
    assert.deepEqual(fieldsOf(parse(oxCsv, `1699999999123,98,65${end}`)), { time: 1699999999123, spo2: 98, pr: 65 }, JSON.stringify(end));
    assert.deepEqual(fieldsOf(parse(oxKv, `$spo2=97 pr=64*70${end}`)), { spo2: 97, pr: 64 }, JSON.stringify(end));
  }
  // Leading spaces are kept: the pattern sees them.
  assert.equal(errorOf(parse(luxLong, ' Light: 123.50 lx')).code, LINE_ERRORS.NO_MATCH);
});

test('bytes that are not text are refused with the offset of the first bad byte', () => {
  const cases: [number[], number][] = [
    [[0x6c, 0x75, 0x78, 0xff], 3], // 0xFF is never UTF-8
    [[0x00, 0x6c], 0], // NUL
    [[0x6c, 0x0d, 0x6c], 1], // a CR inside the line
    [[0x6c, 0x7f], 1], // DEL
    [[0xc0, 0xaf], 0], // overlong '/'
    [[0xed, 0xa0, 0x80], 0], // a UTF-16 surrogate
    [[0x41, 0xe2, 0x82], 1], // a truncated euro sign
    [[0x80], 0], // a stray continuation byte
    [[0xf4, 0x90, 0x80, 0x80], 0], // past U+10FFFF
  ];
  for (const [line, offset] of cases) {
    for (const parser of [luxLong, oxCsv, oxKv]) {
      const e = errorOf(parser(Uint8Array.from(line)));
      assert.equal(e.code, LINE_ERRORS.NOT_TEXT, JSON.stringify(line));
      assert.equal(e.byteOffset, offset, JSON.stringify(line));
    }
  }
  // Multi-byte text is fine.
  const name = compileLineParser({ kind: 'key-value', required: ['name'] });
  assert.deepEqual(fieldsOf(parse(name, 'name=Sauerstoffsättigung€😀')), { name: 'Sauerstoffsättigung€😀' });
});

// ---- Options are checked when the profile loads ----

test('bad options throw a TypeError at compile time', () => {
  const bad: unknown[] = [
    { kind: 'xml' },
    { kind: 'csv', columns: [] },
    { kind: 'csv', columns: ['a', 'a'] },
    { kind: 'csv', columns: ['_', '_'] },
    { kind: 'csv', columns: ['a'], delimiter: '|' },
    { kind: 'csv', columns: ['a'], numeric: ['b'] },
    { kind: 'csv', columns: ['__proto__'] },
    { kind: 'csv', columns: ['a'], delimeter: ';' },
    { kind: 'key-value', required: [] },
    { kind: 'key-value', required: ['a'], pairSeparator: ',', keyValueSeparator: ',' },
    { kind: 'key-value', required: ['a'], optional: ['a'] },
    { kind: 'key-value', required: ['a=b'] },
    { kind: 'pattern', regex: String.raw`lux: \d+` },
    { kind: 'pattern', regex: '(?<a>x' },
    { kind: 'pattern', regex: 'a)|(?<b>b' },
    { kind: 'pattern', regex: '(?<a>x)', flags: 'g' },
    { kind: 'pattern', regex: '(?<a>x)', optional: ['b'] },
    { kind: 'pattern', regex: String.raw`(?<a>x)\1` },
    { kind: 'pattern', regex: String.raw`(?<a>x)\k<a>` },
    { kind: 'pattern', regex: '(?<a>x)', checksum: { kind: 'crc32' } },
    { kind: 'pattern', regex: '(?<a>x)', checksum: { kind: 'nmea', separator: ';' } },
    { kind: 'pattern', regex: '(?<a>x)', checksum: { kind: 'crc8', separator: '' } },
  ];
  for (const options of bad) {
    assert.throws(() => compileLineParser(options as LineParserOptions), TypeError, JSON.stringify(options));
  }
});

test('nested quantifiers and repeated alternatives are refused; the same shapes without nesting are accepted', () => {
  // '(a|a)*b' takes time doubling with each 'a' of a line that has no 'b' (found by the fuzz suite).
  for (const regex of ['(?<a>a+)+', '(?<a>(?:(?:a+)b)+)', '(?<a>(a+)+)', String.raw`(?<a>(?:\d+,)*)`, '(?<a>(?:a|b*){2,})', '(?<a>(a?){3,5})', '(?<a>((a)+)*?)', '(?<v>(a|a)*)b', '(?<v>(?:x|y)+)', '(?<v>(?:(?:a|b)c){2,})']) {
    assert.throws(() => compileLineParser({ kind: 'pattern', regex }), TypeError, regex);
  }
  for (const regex of [
    String.raw`(?<v>\d+(?:\.\d+)?)`, // a quantified group with a quantifier inside, repeated at most once
    '(?<a>[(a+)+])', // in a class, brackets and pluses are literal
    String.raw`(?<a>\(a+\)+)`, // escaped parentheses are atoms
    '(?<a>(ab)+)', // a repeated group without a quantifier inside
    '(?<a>(a{2}){3})', // fixed counts only
    '(?<k>ON|OFF)', // alternatives in a group that is not repeated
    String.raw`(?<v>\d+)(?:,|;)(?<w>[xy]+)`, // alternatives once, and a class repeated
  ]) {
    assert.doesNotThrow(() => compileLineParser({ kind: 'pattern', regex }), regex);
  }
});

// ---- Properties ----

const KNOWN_CODES = new Set<string>(Object.values(LINE_ERRORS));

const PARSERS: readonly LineParser[] = [
  luxShort, luxLong, oxCsv, oxKv,
  compileLineParser({ kind: 'csv', columns: ['a', '_', 'b'], delimiter: '\t', trim: true, numeric: ['a'], header: true, checksum: { kind: 'crc8' } }),
  compileLineParser({ kind: 'csv', columns: ['a', 'b'], delimiter: ' ' }),
  compileLineParser({ kind: 'key-value', required: ['A'], optional: ['B'], pairSeparator: ',', keyValueSeparator: ':', numeric: 'all', checksum: { kind: 'crc16-modbus', separator: ';' } }),
  compileLineParser({ kind: 'pattern', regex: String.raw`(?<k>\w*)=(?<v>[-\d.e]*)`, numeric: ['v'], optional: ['k'], flags: 'su', checksum: { kind: 'crc16-ccitt' } }),
  compileLineParser({ kind: 'pattern', regex: '(?<all>.*)', flags: 's', optional: ['all'] }),
];

function checkResult(result: LineResult): void {
  if ('fields' in result) {
    for (const value of Object.values(result.fields)) {
      assert.ok(typeof value === 'string' || Number.isFinite(value), `field value ${String(value)}`);
    }
  } else if ('code' in result) {
    assert.ok(KNOWN_CODES.has(result.code), result.code);
    assert.equal(typeof result.message, 'string');
  } else {
    assert.equal(result, LINE_HEADER_SKIPPED);
  }
}

// Lines near what devices send: digits, separators, '$', '*', hex, spaces, CR, sometimes a bad byte.
const textish = fc
  .array(fc.constantFrom(...'0123456789abcdefABCDEF.,;:=*$ \t\r-+eE_xAB'.split(''), '\u00e4', '\u20ac', '\u0000', '\uffff'), { maxLength: 40 })
  .map((chars) => bytes(chars.join('')));
const lines = fc.oneof(fc.uint8Array({ maxLength: 120 }), textish);

test('property: no bytes make a compiled parser throw; each gives fields, the skipped header or a known error', () => {
  fc.assert(
    fc.property(lines, (line) => {
      for (const parser of PARSERS) checkResult(parser(line));
    }),
    { numRuns: 2000 },
  );
});

test('property: a line is text exactly when the fatal UTF-8 decoder takes it and it has no control character but tab', () => {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const all = PARSERS[PARSERS.length - 1]!;
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }).map(bytes)), (line) => {
      let text: string | undefined;
      try {
        text = decoder.decode(line);
      } catch {
        text = undefined;
      }
      const isText = text !== undefined && !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(text);
      assert.equal(firstNonTextByte(line, 0, line.length) < 0, isText);
      if (isText) {
        // The catch-all pattern gives the text back, less the trailing whitespace.
        assert.deepEqual(fieldsOf(all(line)).all ?? '', text!.replace(/[ \t]+$/, ''));
      }
    }),
    { numRuns: 3000 },
  );
});

test('property: CSV numbers written by the device come back as the same numbers', () => {
  const csv = compileLineParser({ kind: 'csv', columns: ['a', 'b', 'c'], delimiter: ';', numeric: 'all' });
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
  // String(-0) is "0", so -0 comes back as 0.
  const printed = (x: number) => (x === 0 ? 0 : x);
  fc.assert(
    fc.property(finite, finite, fc.integer(), (a, b, c) => {
      assert.deepEqual(fieldsOf(parse(csv, `${a};${b};${c}`)), { a: printed(a), b: printed(b), c: printed(c) });
    }),
  );
});

// IEEE 11073-20601 SFLOAT and FLOAT readers.
//
// Some public libraries get the exponent's sign wrong (they read the exponent nibble or byte as
// unsigned, so 0xF072 comes out as 114e15 instead of 11.4). Every vector below was worked by hand
// from the specification's definition: exponent and mantissa are both two's complement, value =
// mantissa * 10^exponent, special values only with exponent 0. Bluetooth carries the fields
// little-endian, so the raw 16-bit 0xF072 is the bytes 72 F0 on the wire.
//
// The reference decoders in this file are deliberately written another way than the readers
// (division and remainder for the fields, decimal string parsing for the value), so that one
// mistake cannot hide behind the same mistake in the check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  describeIeee11073, FLOAT_SHORT, IEEE11073_SPECIAL, readFloat, readSfloat, SFLOAT_SHORT,
  type Ieee11073Reading, type Ieee11073SpecialName,
} from '../../src/profiles/decoders/ieee11073-float.js';

type Expected = number | Ieee11073SpecialName;

/** SFLOAT straight from the definition: top 4 bits exponent, low 12 bits mantissa, both signed. */
function referenceSfloat(raw: number): Expected {
  const e4 = Math.floor(raw / 0x1000);
  const m12 = raw % 0x1000;
  const exponent = e4 >= 8 ? e4 - 16 : e4;
  if (exponent === 0) {
    if (m12 === 0x7ff) return 'NaN';
    if (m12 === 0x800) return 'NRes';
    if (m12 === 0x7fe) return '+INFINITY';
    if (m12 === 0x802) return '-INFINITY';
    if (m12 === 0x801) return 'RESERVED';
  }
  const mantissa = m12 >= 0x800 ? m12 - 0x1000 : m12;
  return Number(`${mantissa}e${exponent}`); // the double nearest the decimal
}

/** FLOAT straight from the definition: top 8 bits exponent, low 24 bits mantissa, both signed. */
function referenceFloat(raw: number): Expected {
  const e8 = Math.floor(raw / 0x1000000);
  const m24 = raw % 0x1000000;
  const exponent = e8 >= 128 ? e8 - 256 : e8;
  if (exponent === 0) {
    if (m24 === 0x7fffff) return 'NaN';
    if (m24 === 0x800000) return 'NRes';
    if (m24 === 0x7ffffe) return '+INFINITY';
    if (m24 === 0x800002) return '-INFINITY';
    if (m24 === 0x800001) return 'RESERVED';
  }
  const mantissa = m24 >= 0x800000 ? m24 - 0x1000000 : m24;
  return Number(`${mantissa}e${exponent}`);
}

const le16 = (raw: number) => [raw % 256, Math.floor(raw / 256)];
const le32 = (raw: number) => [raw % 256, Math.floor(raw / 256) % 256, Math.floor(raw / 65536) % 256, Math.floor(raw / 16777216)];

/** Asserts a reading is exactly the expected finite number (Object.is) or the very special object. */
function assertReading(got: Ieee11073Reading, want: Expected, what: string): void {
  if (typeof want === 'number') {
    assert.equal(typeof got, 'number', `${what}: got ${JSON.stringify(got)}, want ${want}`);
    assert.ok(Number.isFinite(got), `${what}: ${String(got)} is not finite`);
    assert.equal(got, want, what); // strict: Object.is, so 0 and -0 differ too
  } else {
    assert.equal(got, IEEE11073_SPECIAL[want], `${what}: got ${JSON.stringify(got)}, want ${want}`);
  }
}

// [raw, bytes on the wire, worked out, expected]
const SFLOAT_VECTORS: Array<[number, number[], string, number]> = [
  [0xf072, [0x72, 0xf0], 'exponent 0xF = -1, mantissa 0x072 = 114: 114e-1', 11.4],
  [0xff9c, [0x9c, 0xff], 'exponent 0xF = -1, mantissa 0xF9C = 3996 - 4096 = -100: -100e-1', -10],
  [0x2019, [0x19, 0x20], 'exponent 0x2 = +2, mantissa 0x019 = 25: 25e2', 2500],
  [0x0062, [0x62, 0x00], 'exponent 0, mantissa 0x062 = 98: 98 (an SpO2 of 98 %)', 98],
  [0xefff, [0xff, 0xef], 'exponent 0xE = -2, mantissa 0xFFF = -1: -1e-2', -0.01],
  [0xe3e3, [0xe3, 0xe3], 'exponent 0xE = -2, mantissa 0x3E3 = 995: 995e-2', 9.95],
  [0x8001, [0x01, 0x80], 'exponent 0x8 = -8 (the smallest), mantissa 1: 1e-8', 1e-8],
  [0x77fd, [0xfd, 0x77], 'exponent 0x7 = +7 (the largest), mantissa 0x7FD = 2045: 2045e7', 20_450_000_000],
  [0x1800, [0x00, 0x18], 'exponent +1, mantissa 0x800 = -2048 (NRes bits, but the exponent is not 0): -2048e1', -20480],
  [0x17ff, [0xff, 0x17], 'exponent +1, mantissa 0x7FF = 2047 (NaN bits, exponent not 0): 2047e1', 20470],
  [0xf7fe, [0xfe, 0xf7], 'exponent -1, mantissa 0x7FE = 2046 (+INFINITY bits, exponent not 0): 2046e-1', 204.6],
  [0x0000, [0x00, 0x00], 'exponent 0, mantissa 0', 0],
  [0xf000, [0x00, 0xf0], 'exponent -1, mantissa 0: 0e-1 is +0, not -0', 0],
];

// [raw, bytes on the wire, worked out, expected]
const FLOAT_VECTORS: Array<[number, number[], string, number]> = [
  [0xff00016c, [0x6c, 0x01, 0x00, 0xff], 'exponent 0xFF = -1, mantissa 0x00016C = 364: 364e-1 (36.4 Cel, health thermometer)', 36.4],
  [0xfe000e58, [0x58, 0x0e, 0x00, 0xfe], 'exponent 0xFE = -2, mantissa 0x000E58 = 3672: 3672e-2', 36.72],
  [0xff0003da, [0xda, 0x03, 0x00, 0xff], 'exponent -1, mantissa 0x0003DA = 986: 986e-1 (98.6 degF)', 98.6],
  [0xfffffe6b, [0x6b, 0xfe, 0xff, 0xff], 'exponent -1, mantissa 0xFFFE6B = 16776811 - 16777216 = -405: -405e-1', -40.5],
  [0x03000005, [0x05, 0x00, 0x00, 0x03], 'exponent +3, mantissa 5: 5e3', 5000],
  [0x007ffffd, [0xfd, 0xff, 0x7f, 0x00], 'exponent 0, mantissa 0x7FFFFD = 8388605, next to the specials', 8_388_605],
  [0x00800003, [0x03, 0x00, 0x80, 0x00], 'exponent 0, mantissa 0x800003 = 8388611 - 16777216 = -8388605', -8_388_605],
  [0x017fffff, [0xff, 0xff, 0x7f, 0x01], 'exponent +1, mantissa 0x7FFFFF = 8388607 (NaN bits, exponent not 0): 8388607e1', 83_886_070],
  [0x80000001, [0x01, 0x00, 0x00, 0x80], 'exponent 0x80 = -128 (the smallest), mantissa 1: 1e-128', 1e-128],
  [0x7f7fffff, [0xff, 0xff, 0x7f, 0x7f], 'exponent 0x7F = +127 (the largest), mantissa 8388607: 8388607e127', 8.388607e133],
  [0x80800000, [0x00, 0x00, 0x80, 0x80], 'exponent -128, mantissa 0x800000 = -8388608 (the smallest): -8388608e-128', -8.388608e-122],
  [0xe9000001, [0x01, 0x00, 0x00, 0xe9], 'exponent 0xE9 = 233 - 256 = -23 (10^23 is not a double), mantissa 1: 1e-23', 1e-23],
];

const SFLOAT_SPECIALS: Array<[number, number[], Ieee11073SpecialName]> = [
  [0x07ff, [0xff, 0x07], 'NaN'],
  [0x0800, [0x00, 0x08], 'NRes'],
  [0x07fe, [0xfe, 0x07], '+INFINITY'],
  [0x0802, [0x02, 0x08], '-INFINITY'],
  [0x0801, [0x01, 0x08], 'RESERVED'],
];

const FLOAT_SPECIALS: Array<[number, number[], Ieee11073SpecialName]> = [
  [0x007fffff, [0xff, 0xff, 0x7f, 0x00], 'NaN'],
  [0x00800000, [0x00, 0x00, 0x80, 0x00], 'NRes'],
  [0x007ffffe, [0xfe, 0xff, 0x7f, 0x00], '+INFINITY'],
  [0x00800002, [0x02, 0x00, 0x80, 0x00], '-INFINITY'],
  [0x00800001, [0x01, 0x00, 0x80, 0x00], 'RESERVED'],
];

test('SFLOAT vectors worked by hand from the definition', () => {
  for (const [raw, bytes, worked, want] of SFLOAT_VECTORS) {
    assert.deepEqual(bytes, le16(raw), `the wire bytes of 0x${raw.toString(16)} are little-endian`);
    assertReading(readSfloat(new Uint8Array(bytes), 0), want, `0x${raw.toString(16)} (${worked})`);
    assert.equal(referenceSfloat(raw), want, `the reference agrees on 0x${raw.toString(16)}`);
  }
});

test('FLOAT vectors worked by hand from the definition', () => {
  for (const [raw, bytes, worked, want] of FLOAT_VECTORS) {
    assert.deepEqual(bytes, le32(raw), `the wire bytes of 0x${raw.toString(16)} are little-endian`);
    assertReading(readFloat(new Uint8Array(bytes), 0), want, `0x${raw.toString(16)} (${worked})`);
    assert.equal(referenceFloat(raw), want, `the reference agrees on 0x${raw.toString(16)}`);
  }
});

test('a health thermometer measurement: flags 0x00 (Celsius), then FLOAT 36.4 read at offset 1', () => {
  const notification = new Uint8Array([0x00, 0x6c, 0x01, 0x00, 0xff]);
  assert.equal(readFloat(notification, 1), 36.4);
});

test('a negative exponent divides, so an exact decimal comes out as the double nearest it', () => {
  const r = readSfloat(new Uint8Array([0x72, 0xf0]), 0);
  assert.equal(r, 11.4);
  assert.equal(String(r), '11.4');
  // Vectors where multiplying by a negative power of ten rounds twice and misses the nearest double.
  assert.notEqual(3 * 0.1, 0.3); // so the next check means something
  assert.equal(readSfloat(new Uint8Array(le16(0xf003)), 0), 0.3, '0xF003: exponent -1, mantissa 3');
  assert.notEqual(35 * 0.01, 0.35);
  assert.equal(readFloat(new Uint8Array(le32(0xfe000023)), 0), 0.35, '0xFE000023: exponent -2, mantissa 0x23 = 35');
});

test('every SFLOAT special value, and only exponent 0 makes it special', () => {
  for (const [raw, bytes, name] of SFLOAT_SPECIALS) {
    assert.deepEqual(bytes, le16(raw));
    const r = readSfloat(new Uint8Array(bytes), 0);
    assert.equal(r, IEEE11073_SPECIAL[name], `0x${raw.toString(16).padStart(4, '0')} is ${name}`);
    assert.ok(typeof r !== 'number' && r.kind === 'special' && r.special === name);
    // The same mantissa bits under exponent +1 are an ordinary number.
    assert.equal(typeof readSfloat(new Uint8Array(le16(raw + 0x1000)), 0), 'number', `0x${(raw + 0x1000).toString(16)}`);
  }
});

test('every FLOAT special value, and only exponent 0 makes it special', () => {
  for (const [raw, bytes, name] of FLOAT_SPECIALS) {
    assert.deepEqual(bytes, le32(raw));
    const r = readFloat(new Uint8Array(bytes), 0);
    assert.equal(r, IEEE11073_SPECIAL[name], `0x${raw.toString(16).padStart(8, '0')} is ${name}`);
    assert.ok(typeof r !== 'number' && r.kind === 'special' && r.special === name);
    assert.equal(typeof readFloat(new Uint8Array(le32(raw + 0x01000000)), 0), 'number', `0x${(raw + 0x01000000).toString(16)}`);
    assert.equal(typeof readFloat(new Uint8Array(le32(raw + 0xff000000)), 0), 'number', `0x${(raw + 0xff000000).toString(16)}`);
  }
});

test('the same number under different encodings decodes equal (values, not bit patterns)', () => {
  // SFLOAT 10: mantissa 100 exponent -1 (0xF064), mantissa 10 exponent 0 (0x000A), mantissa 1 exponent +1 (0x1001).
  const tens = [0xf064, 0x000a, 0x1001].map((raw) => readSfloat(new Uint8Array(le16(raw)), 0));
  assert.deepEqual(tens, [10, 10, 10]);
  // 36.4 as SFLOAT 364e-1 (0xF16C), FLOAT 364e-1 (0xFF00016C) and FLOAT 3640e-2 (0xFE000E38).
  const a = readSfloat(new Uint8Array(le16(0xf16c)), 0);
  const b = readFloat(new Uint8Array(le32(0xff00016c)), 0);
  const c = readFloat(new Uint8Array(le32(0xfe000e38)), 0);
  assert.equal(a, 36.4);
  assert.equal(b, a);
  assert.equal(c, a);
  // -2500 as SFLOAT -25e2 (0x2FE7) and -250e1 (0x1F06).
  assert.equal(readSfloat(new Uint8Array(le16(0x2fe7)), 0), -2500);
  assert.equal(readSfloat(new Uint8Array(le16(0x1f06)), 0), -2500);
});

test('reading past the end is a SHORT result, never an exception', () => {
  assert.equal(readSfloat(new Uint8Array([]), 0), SFLOAT_SHORT);
  assert.equal(readSfloat(new Uint8Array([0x72]), 0), SFLOAT_SHORT);
  assert.equal(readSfloat(new Uint8Array([0x72, 0xf0]), 1), SFLOAT_SHORT);
  assert.equal(readSfloat(new Uint8Array([0x72, 0xf0]), 2), SFLOAT_SHORT);
  assert.equal(readSfloat(new Uint8Array([0x72, 0xf0]), 1000), SFLOAT_SHORT);
  assert.equal(readFloat(new Uint8Array([0x6c, 0x01, 0x00]), 0), FLOAT_SHORT);
  assert.equal(readFloat(new Uint8Array([0x00, 0x6c, 0x01, 0x00, 0xff]), 2), FLOAT_SHORT);
  assert.equal(readFloat(new Uint8Array([0x00, 0x6c, 0x01, 0x00, 0xff]), 5), FLOAT_SHORT);
  // A view ends where the view ends, not where its underlying buffer does.
  const whole = new Uint8Array([0xaa, 0x6c, 0x01, 0x00, 0xff, 0x72, 0xf0]);
  assert.equal(readFloat(whole.subarray(1, 4), 0), FLOAT_SHORT);
  assert.equal(readFloat(whole.subarray(1, 5), 0), 36.4);
  assert.equal(readSfloat(whole.subarray(5, 6), 0), SFLOAT_SHORT);
  assert.equal(readSfloat(whole.subarray(5), 0), 11.4);
});

test('a negative or fractional offset is a caller bug: a plain TypeError', () => {
  const bytes = new Uint8Array([0x72, 0xf0, 0x00, 0x00]);
  for (const offset of [-1, 0.5, Number.NaN]) {
    assert.throws(() => readSfloat(bytes, offset), TypeError, `readSfloat at ${offset}`);
    assert.throws(() => readFloat(bytes, offset), TypeError, `readFloat at ${offset}`);
  }
});

test('describeIeee11073 names each special value first, as the standard spells it, for an error message', () => {
  const texts = new Set<string>();
  for (const name of ['NaN', 'NRes', '+INFINITY', '-INFINITY', 'RESERVED'] as const) {
    const text = describeIeee11073(IEEE11073_SPECIAL[name]);
    assert.ok(text.startsWith(`${name} (`), text);
    texts.add(text);
  }
  assert.match(describeIeee11073(SFLOAT_SHORT), /^SFLOAT needs 2 bytes/);
  assert.match(describeIeee11073(FLOAT_SHORT), /^FLOAT needs 4 bytes/);
  texts.add(describeIeee11073(SFLOAT_SHORT)).add(describeIeee11073(FLOAT_SHORT));
  assert.equal(texts.size, 7, 'every non-value is told apart');
});

test('the shared non-value objects are frozen: no caller can change what another one sees', () => {
  for (const r of [...Object.values(IEEE11073_SPECIAL), SFLOAT_SHORT, FLOAT_SHORT]) assert.ok(Object.isFrozen(r), JSON.stringify(r));
  assert.ok(Object.isFrozen(IEEE11073_SPECIAL));
});

test('all 65536 SFLOAT patterns decode as the straightforward reference does', () => {
  const bytes = new Uint8Array(2);
  let specials = 0;
  for (let raw = 0; raw <= 0xffff; raw++) {
    bytes[0] = raw & 0xff;
    bytes[1] = raw >> 8;
    const got = readSfloat(bytes, 0);
    const want = referenceSfloat(raw);
    if (typeof want === 'string') specials++;
    // Cheap check first, a full assertion only on a mismatch, so the loop stays quick.
    if (typeof want === 'number' ? !Object.is(got, want) : got !== IEEE11073_SPECIAL[want]) {
      assertReading(got, want, `0x${raw.toString(16).padStart(4, '0')}`);
    }
  }
  assert.equal(specials, 5, 'the reference found the five specials');
});

test('FLOAT: every exponent from -128 to 127 with edge mantissas decodes as the reference does', () => {
  const mantissas = [0, 1, -1, 7, 114, 364, 999_999, 0x7ffffd, 0x7fffff, -0x7fffff, -0x800000];
  const bytes = new Uint8Array(4);
  for (let exponent = -128; exponent <= 127; exponent++) {
    for (const mantissa of mantissas) {
      const raw = ((exponent & 0xff) * 0x1000000) + (mantissa & 0xffffff);
      bytes.set(le32(raw));
      assertReading(readFloat(bytes, 0), referenceFloat(raw), `exponent ${exponent}, mantissa ${mantissa}`);
    }
  }
});

const SPECIAL_OBJECTS = Object.values(IEEE11073_SPECIAL);

/** The invariants of any reading at any offset: never throws, a finite number or exactly one non-value. */
function checkAnywhere(read: typeof readSfloat, short: typeof SFLOAT_SHORT, width: number, buffer: Uint8Array, offset: number): Ieee11073Reading {
  const r = read(buffer, offset);
  if (offset + width > buffer.length) {
    assert.equal(r, short, `offset ${offset} of ${buffer.length} bytes is short`);
  } else if (typeof r === 'number') {
    assert.ok(Number.isFinite(r), `${r} at offset ${offset}`);
  } else {
    assert.equal(SPECIAL_OBJECTS.filter((s) => s === r).length, 1, `${JSON.stringify(r)} at offset ${offset} is exactly one special`);
  }
  return r;
}

const buffers = { prefix: fc.uint8Array({ maxLength: 9 }), suffix: fc.uint8Array({ maxLength: 9 }) };

test('property: any SFLOAT pattern at any offset of a random buffer reads as the reference, never throws', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), buffers.prefix, buffers.suffix, (raw, prefix, suffix) => {
    const buffer = new Uint8Array([...prefix, ...le16(raw), ...suffix]);
    for (let offset = 0; offset <= buffer.length + 2; offset++) checkAnywhere(readSfloat, SFLOAT_SHORT, 2, buffer, offset);
    assertReading(readSfloat(buffer, prefix.length), referenceSfloat(raw), `0x${raw.toString(16)} at offset ${prefix.length}`);
  }), { numRuns: 1000 });
});

test('property: any FLOAT pattern at any offset of a random buffer reads as the reference, never throws', () => {
  const anyRaw = fc.integer({ min: 0, max: 0xffffffff });
  // Built from fields too, so that small exponents and the mantissas next to the specials come up often.
  const fromFields = fc.tuple(fc.integer({ min: -128, max: 127 }), fc.integer({ min: -0x800000, max: 0x7fffff }))
    .map(([e, m]) => ((e & 0xff) * 0x1000000) + (m & 0xffffff));
  const nearSpecial = fc.integer({ min: 0x7ffff0, max: 0x800010 }).chain((m) => fc.constantFrom(m, 0xff000000 + m, 0x01000000 + m));
  fc.assert(fc.property(fc.oneof(anyRaw, fromFields, nearSpecial), buffers.prefix, buffers.suffix, (raw, prefix, suffix) => {
    const buffer = new Uint8Array([...prefix, ...le32(raw), ...suffix]);
    for (let offset = 0; offset <= buffer.length + 4; offset++) checkAnywhere(readFloat, FLOAT_SHORT, 4, buffer, offset);
    assertReading(readFloat(buffer, prefix.length), referenceFloat(raw), `0x${raw.toString(16)} at offset ${prefix.length}`);
  }), { numRuns: 2000 });
});

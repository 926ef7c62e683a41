// IEEE 11073-20601 SFLOAT and FLOAT readers: any bytes at any offset give a finite number, a
// special value or "short", never anything else; fields encoded here from an arbitrary exponent
// and mantissa read back as the decimal mantissa x 10^exponent, parsed as a string (correctly
// rounded), so the readers' multiply-or-divide shortcut is checked against another method.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FLOAT_SHORT, IEEE11073_SPECIAL, readFloat, readSfloat, SFLOAT_SHORT, type Ieee11073Reading } from '../../src/profiles/decoders/ieee11073-float.js';
import { FUZZ_TEST, fuzzTarget } from './fuzz.js';

const fuzz = fuzzTarget('ieee11073-float');

const SPECIALS = new Set(Object.values(IEEE11073_SPECIAL));

function checkReading(r: Ieee11073Reading, short: unknown): void {
  if (typeof r === 'number') assert.ok(Number.isFinite(r), String(r));
  else assert.ok(SPECIALS.has(r as never) || r === short, JSON.stringify(r));
}

test('any bytes at any offset: a finite number, a special value, or short past the end', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(fc.uint8Array({ maxLength: 12 }), fc.nat({ max: 16 }), (bytes, offset) => {
    const s = readSfloat(bytes, offset);
    const f = readFloat(bytes, offset);
    checkReading(s, SFLOAT_SHORT);
    checkReading(f, FLOAT_SHORT);
    assert.equal(s === SFLOAT_SHORT, offset + 2 > bytes.length);
    assert.equal(f === FLOAT_SHORT, offset + 4 > bytes.length);
    // Only bytes inside the field matter: the same field alone reads the same.
    if (offset + 4 <= bytes.length) {
      assert.equal(readFloat(bytes.slice(offset, offset + 4), 0), f);
      assert.equal(readSfloat(bytes.slice(offset, offset + 2), 0), s);
    }
  }), 5000);
});

test('an offset that is not a non-negative integer is misuse: a TypeError, for any bytes', FUZZ_TEST, async (t) => {
  const bad = fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true }), fc.constantFrom(Number.NaN, Infinity, -Infinity));
  await fuzz.check(t, fc.property(fc.uint8Array({ maxLength: 8 }), bad, (bytes, offset) => {
    assert.throws(() => readSfloat(bytes, offset), TypeError);
    assert.throws(() => readFloat(bytes, offset), TypeError);
  }), 500);
});

const SFLOAT_SPECIAL = new Map([[0x7fe, '+INFINITY'], [0x7ff, 'NaN'], [-0x800, 'NRes'], [-0x7ff, 'RESERVED'], [-0x7fe, '-INFINITY']] as const);
const FLOAT_SPECIAL = new Map([[0x7ffffe, '+INFINITY'], [0x7fffff, 'NaN'], [-0x800000, 'NRes'], [-0x7fffff, 'RESERVED'], [-0x7ffffe, '-INFINITY']] as const);

function expectRead(r: Ieee11073Reading, exponent: number, mantissa: number, specials: ReadonlyMap<number, string>): void {
  const name = exponent === 0 ? specials.get(mantissa) : undefined;
  if (name !== undefined) {
    assert.equal(r, IEEE11073_SPECIAL[name as keyof typeof IEEE11073_SPECIAL], `${mantissa}e0 is ${name}`);
  } else {
    // Object.is: -0 would be a wrong answer too (no mantissa here is negative zero).
    assert.ok(Object.is(r, Number(`${mantissa}e${exponent}`)), `${mantissa}e${exponent} read as ${String(r)}`);
  }
}

test('SFLOAT round trip: every exponent and mantissa, at any offset, reads back as its decimal value or its special', FUZZ_TEST, async (t) => {
  const field = fc.oneof(
    fc.record({ exponent: fc.integer({ min: -8, max: 7 }), mantissa: fc.integer({ min: -2048, max: 2047 }) }),
    fc.record({ exponent: fc.integer({ min: -1, max: 1 }), mantissa: fc.constantFrom(...SFLOAT_SPECIAL.keys()) }),
  );
  await fuzz.check(t, fc.property(field, fc.uint8Array({ maxLength: 5 }), ({ exponent, mantissa }, before) => {
    const raw = ((exponent & 0xf) << 12) | (mantissa & 0xfff);
    const bytes = Uint8Array.from([...before, raw & 0xff, raw >> 8]);
    expectRead(readSfloat(bytes, before.length), exponent, mantissa, SFLOAT_SPECIAL);
  }), 5000);
});

test('FLOAT round trip: every exponent and mantissa, at any offset, reads back as its decimal value or its special', FUZZ_TEST, async (t) => {
  const field = fc.oneof(
    fc.record({ exponent: fc.integer({ min: -128, max: 127 }), mantissa: fc.integer({ min: -(2 ** 23), max: 2 ** 23 - 1 }) }),
    fc.record({ exponent: fc.integer({ min: -24, max: 24 }), mantissa: fc.integer({ min: -(2 ** 23), max: 2 ** 23 - 1 }) }),
    fc.record({ exponent: fc.integer({ min: -1, max: 1 }), mantissa: fc.constantFrom(...FLOAT_SPECIAL.keys()) }),
  );
  await fuzz.check(t, fc.property(field, fc.uint8Array({ maxLength: 5 }), ({ exponent, mantissa }, before) => {
    const m = mantissa & 0xffffff;
    const bytes = Uint8Array.from([...before, m & 0xff, (m >> 8) & 0xff, m >> 16, exponent & 0xff]);
    expectRead(readFloat(bytes, before.length), exponent, mantissa, FLOAT_SPECIAL);
  }), 5000);
});

// Embedding vectors as float32, float16 and int8 with a scale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VectorEncoding } from '../../src/frames/codec.js';
import { decodeVector, encodeVector, fromHalf, toHalf } from '../../src/embeddings/vector-encoding.js';

test('half floats: the IEEE 754 binary16 bit patterns of known values', () => {
  // From the binary16 definition: 1 = 0x3C00, -2 = 0xC000, 65504 (largest) = 0x7BFF,
  // 2^-14 (smallest normal) = 0x0400, 2^-24 (smallest subnormal) = 0x0001, 1/3 = 0x3555.
  const cases: Array<[number, number]> = [[1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -14, 0x0400], [2 ** -24, 0x0001], [1 / 3, 0x3555], [0, 0]];
  for (const [x, bits] of cases) {
    assert.equal(toHalf(x), bits, `toHalf(${x})`);
    // Exact in binary16 except 1/3, whose nearest half is 0.333251953125.
    assert.equal(fromHalf(bits), x === 1 / 3 ? 0.333251953125 : x);
  }
  assert.equal(toHalf(1e6), 0x7c00, 'too large is +Inf');
  // Ties round to even: 1 + 2^-11 lies halfway between 0x3C00 and 0x3C01 and goes to 0x3C00.
  assert.equal(toHalf(1 + 2 ** -11), 0x3c00);
  assert.equal(toHalf(1 + 3 * 2 ** -11), 0x3c02);
});

test('every half float survives fromHalf then toHalf', () => {
  for (let h = 0; h < 0x10000; h++) {
    const exp = (h >>> 10) & 0x1f;
    if (exp === 0x1f && (h & 0x3ff)) continue; // NaN payloads are not kept
    assert.equal(toHalf(fromHalf(h)), h, h.toString(16));
  }
});

test('round trips: float32 exact, float16 within half a unit in the last place, int8 within half a step', () => {
  fc.assert(fc.property(fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 64 }), (xs) => {
    const v = Float32Array.from(xs);
    assert.deepEqual(decodeVector(encodeVector(v, 'float32')), v);
    const h = decodeVector(encodeVector(v, 'float16'));
    v.forEach((x, i) => assert.ok(Math.abs(h[i]! - x) <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25), `${x} -> ${h[i]}`));
    const e = encodeVector(v, 'int8');
    assert.equal(e.encoding, VectorEncoding.INT8);
    const q = decodeVector(e);
    v.forEach((x, i) => assert.ok(Math.abs(q[i]! - x) <= e.scale! / 2 + 1e-7, `${x} -> ${q[i]}`));
  }));
  assert.deepEqual(encodeVector(new Float32Array([0, 0]), 'int8').scale, 1);
});

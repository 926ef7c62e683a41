/**
 * How an embedding travels: float32 as it came out of the encoder, or smaller to save uplink:
 * IEEE 754 half floats (2 bytes a value, about 3 significant digits), or signed bytes with one
 * scale for the vector (value = byte x scale; 1 byte a value, 1/127 of the largest magnitude).
 * frame.proto's Embedding says the same to the twin server.
 */
import { VectorEncoding, type Embedding } from '../frames/codec.js';

export type VectorEncodingName = 'float32' | 'float16' | 'int8';

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The half float nearest to `x` (round to nearest even), as its 16 bits. */
export function toHalf(x: number): number {
  F32[0] = x;
  const bits = U32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf, NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa, with its hidden bit, into place.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++; // may carry into the exponent, which is right
  return sign | half;
}

/** The value of a half float's 16 bits. */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export type EncodedVector = Pick<Embedding, 'dim' | 'encoding' | 'values' | 'packed' | 'scale'>;

export function encodeVector(v: Float32Array, encoding: VectorEncodingName): EncodedVector {
  const dim = v.length;
  if (encoding === 'float32') return { dim, encoding: VectorEncoding.FLOAT32, values: Array.from(v) };
  if (encoding === 'float16') {
    const packed = new Uint8Array(dim * 2);
    const view = new DataView(packed.buffer);
    for (let i = 0; i < dim; i++) view.setUint16(i * 2, toHalf(v[i]!), true);
    return { dim, encoding: VectorEncoding.FLOAT16, packed };
  }
  let max = 0;
  for (let i = 0; i < dim; i++) max = Math.max(max, Math.abs(v[i]!));
  // An all-zero vector still needs a scale the receiver can multiply by.
  const scale = max > 0 ? max / 127 : 1;
  const packed = new Uint8Array(dim);
  for (let i = 0; i < dim; i++) packed[i] = Math.max(-127, Math.min(127, Math.round(v[i]! / scale))) & 0xff;
  return { dim, encoding: VectorEncoding.INT8, packed, scale };
}

/** The vector's values back, as a receiver reads them. */
export function decodeVector(e: EncodedVector): Float32Array {
  if (e.encoding === VectorEncoding.FLOAT32) return Float32Array.from(e.values ?? []);
  const packed = e.packed ?? new Uint8Array(0);
  if (e.encoding === VectorEncoding.FLOAT16) {
    const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
    return Float32Array.from({ length: packed.length / 2 }, (_, i) => fromHalf(view.getUint16(i * 2, true)));
  }
  return Float32Array.from(packed, (b) => ((b << 24) >> 24) * (e.scale ?? 1));
}

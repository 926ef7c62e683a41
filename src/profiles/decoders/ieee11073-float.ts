/**
 * IEEE 11073-20601 SFLOAT-Type (16 bits) and FLOAT-Type (32 bits) readers, little-endian as the
 * Bluetooth SIG health characteristics carry them (pulse oximeter SFLOAT, health thermometer
 * FLOAT, ...).
 *
 * SFLOAT: high 4 bits a signed exponent, low 12 bits a signed mantissa (both two's complement).
 * FLOAT: high 8 bits a signed exponent, low 24 bits a signed mantissa. value = mantissa * 10^exponent.
 * Special values exist only with exponent 0 (below); with any other exponent the same mantissa
 * bits are an ordinary number. Several encodings mean the same number: compare decoded values,
 * never bit patterns.
 *
 * Result shape, and why: a reader returns a plain `number` for a value, or one of a few frozen
 * objects made once at load for a special value or for bytes that run out. Returning a number
 * allocates nothing per sample (a `{ value }` object would, on every call), and the frozen
 * constants allocate nothing either. A special can never pass for a number: it is not of type
 * `number`, so TypeScript makes the caller narrow with `typeof r === 'number'` before using it,
 * and no special is ever turned into NaN or Infinity. Every number returned is finite.
 * Bad bytes are data: nothing here throws for any byte content or for reading past the end; only
 * a negative or fractional offset (a bug in the caller) throws a TypeError.
 */

/** The special values of IEEE 11073-20601, named as the standard names them. */
export type Ieee11073SpecialName = 'NaN' | 'NRes' | '+INFINITY' | '-INFINITY' | 'RESERVED';

/** A special value: not a number, and never to be turned into one. One frozen object a name. */
export interface Ieee11073Special {
  readonly kind: 'special';
  readonly special: Ieee11073SpecialName;
}

/** The field needs more bytes than are left after the offset. */
export interface Ieee11073Short {
  readonly kind: 'short';
  /** Bytes the field needs: 2 for SFLOAT, 4 for FLOAT. */
  readonly width: 2 | 4;
}

/** What a reader returns when the bytes do not hold a number. */
export type Ieee11073NonValue = Ieee11073Special | Ieee11073Short;

/** A finite number, or why there is none. */
export type Ieee11073Reading = number | Ieee11073NonValue;

const special = (name: Ieee11073SpecialName): Ieee11073Special => Object.freeze({ kind: 'special', special: name });

/** The one object for each special value; readers return these very objects (compare by identity or by `.special`). */
export const IEEE11073_SPECIAL: Readonly<Record<Ieee11073SpecialName, Ieee11073Special>> = Object.freeze({
  NaN: special('NaN'),
  NRes: special('NRes'),
  '+INFINITY': special('+INFINITY'),
  '-INFINITY': special('-INFINITY'),
  RESERVED: special('RESERVED'),
});

/** readSfloat's result when fewer than 2 bytes are left at the offset. */
export const SFLOAT_SHORT: Ieee11073Short = Object.freeze({ kind: 'short', width: 2 });
/** readFloat's result when fewer than 4 bytes are left at the offset. */
export const FLOAT_SHORT: Ieee11073Short = Object.freeze({ kind: 'short', width: 4 });

// The specials sit in one run of raw patterns with exponent 0: mantissa 0x..7FE to 0x..802 in
// both widths. Indexed by (mantissa bits - 0x..7FE).
const SPECIAL_RUN: readonly Ieee11073Special[] = [
  IEEE11073_SPECIAL['+INFINITY'], // 0x07FE, 0x007FFFFE
  IEEE11073_SPECIAL.NaN, //          0x07FF, 0x007FFFFF
  IEEE11073_SPECIAL.NRes, //         0x0800, 0x00800000
  IEEE11073_SPECIAL.RESERVED, //     0x0801, 0x00800001
  IEEE11073_SPECIAL['-INFINITY'], // 0x0802, 0x00800002
];

// 10^0 .. 10^22 are exact doubles (10^22 = 2^22 * 5^22 and 5^22 < 2^53); 10^23 is not.
// Written as literals: the parser rounds correctly, whereas Math.pow is not required to.
const POW10 = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];
const MAX_EXACT_POW10 = 22;

/**
 * mantissa * 10^exponent as the double nearest the exact decimal. The mantissa (at most 24 bits)
 * and 10^|e| for |e| <= 22 are exact, so one IEEE multiply or divide rounds once, correctly.
 * Negative exponents divide: 114 / 10 is 11.4, while 114 * 0.1 rounds twice (0.1 is not a double).
 */
function scale(mantissa: number, exponent: number): number {
  if (exponent >= 0) {
    if (exponent <= MAX_EXACT_POW10) return mantissa * POW10[exponent]!;
  } else if (exponent >= -MAX_EXACT_POW10) {
    return mantissa / POW10[-exponent]!;
  }
  // FLOAT only, |exponent| 23..128: the power of ten is not a double, so a multiply or divide
  // would round twice. Decimal string parsing is correctly rounded (at most 8 digits here); it
  // allocates a string, but no body sensor sends such exponents, so the hot path never gets here.
  return Number(`${mantissa}e${exponent}`);
}

function checkOffset(offset: number): void {
  if (!Number.isInteger(offset) || offset < 0) throw new TypeError(`offset must be a non-negative integer, got ${offset}`);
}

/** Reads an SFLOAT (2 bytes, little-endian) at `offset`. Never throws for any bytes; SFLOAT_SHORT past the end. */
export function readSfloat(bytes: Uint8Array, offset: number): Ieee11073Reading {
  checkOffset(offset);
  if (offset + 2 > bytes.length) return SFLOAT_SHORT;
  const raw = bytes[offset]! | (bytes[offset + 1]! << 8);
  // A raw pattern in 0x07FE..0x0802 has exponent nibble 0 and one of the special mantissas.
  if (raw >= 0x07fe && raw <= 0x0802) return SPECIAL_RUN[raw - 0x07fe]!;
  const exponent = (raw << 16) >> 28; // bits 15..12, sign-extended
  const mantissa = (raw << 20) >> 20; // bits 11..0, sign-extended
  return scale(mantissa, exponent);
}

/** Reads a FLOAT (4 bytes, little-endian) at `offset`. Never throws for any bytes; FLOAT_SHORT past the end. */
export function readFloat(bytes: Uint8Array, offset: number): Ieee11073Reading {
  checkOffset(offset);
  if (offset + 4 > bytes.length) return FLOAT_SHORT;
  const bits = bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16); // mantissa bits, unsigned
  const high = bytes[offset + 3]!; // exponent bits
  if (high === 0 && bits >= 0x7ffffe && bits <= 0x800002) return SPECIAL_RUN[bits - 0x7ffffe]!;
  const exponent = (high << 24) >> 24; // sign-extended byte
  const mantissa = (bits << 8) >> 8; // sign-extended 24 bits
  return scale(mantissa, exponent);
}

const MEANING: Readonly<Record<Ieee11073SpecialName, string>> = {
  NaN: 'not a number',
  NRes: 'not at this resolution',
  '+INFINITY': 'positive infinity',
  '-INFINITY': 'negative infinity',
  RESERVED: 'reserved for future use',
};

/**
 * Names a non-value for an error message: the special's name as the standard spells it first
 * (e.g. "NRes (not at this resolution)"), or which field ran past the end of the data.
 */
export function describeIeee11073(r: Ieee11073NonValue): string {
  if (r.kind === 'special') return `${r.special} (${MEANING[r.special]})`;
  return `${r.width === 2 ? 'SFLOAT' : 'FLOAT'} needs ${r.width} bytes; fewer are left at its offset`;
}

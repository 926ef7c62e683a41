// Hostile bytes through every built-in decoder the registry holds (a decoder registered later is
// fuzzed here without a line changed), then the Bluetooth SIG characteristics in depth: packets
// encoded here from arbitrary field values, straight from the GATT Specification Supplement's
// flag layouts, must decode to those values; every proper prefix of one must be refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { builtinDecoder, builtinDecoderNames } from '../../src/profiles/decoders/registry.js';
import { decodeHeartRate, decodePlxContinuous, decodePlxSpotCheck, decodeTemperatureMeasurement } from '../../src/profiles/decoders/bluetooth-sig.js';
import { DECODE_ERRORS, isRejected, type DecodeContext, type DecodedPacket, type DecodedValue, type PacketDecoder } from '../../src/profiles/decoded.js';
import { assertIssue, FUZZ_TEST, fuzzTarget } from './fuzz.js';

const fuzz = fuzzTarget('builtin-decoders');

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
const context: fc.Arbitrary<DecodeContext | undefined> = fc.option(
  fc.record({ key: fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 33 })), address: fc.oneof(mac, fc.string({ maxLength: 20 })) }, { requiredKeys: [] }),
  { nil: undefined },
);

function checkValue(v: DecodedValue, what: string): void {
  if (typeof v === 'number') assert.ok(Number.isFinite(v), `${what} = ${v}`);
  else if (Array.isArray(v)) for (const x of v) assert.ok(typeof x === 'number' && Number.isFinite(x), `${what} holds ${String(x)}`);
  else assert.ok(typeof v === 'boolean' || typeof v === 'string', `${what} is a ${typeof v}`);
}

/** A name the decoder lists, or a repeat of one (`temperature_5`: the list stops at a few). */
function listed(name: string, names: readonly string[]): boolean {
  return names.includes(name) || names.includes(name.replace(/_\d+$/, ''));
}

/** Whatever the bytes, a well-formed packet: values and rows under listed names, finite numbers, problems with codes. */
function checkPacket(p: DecodedPacket, bytes: Uint8Array, fields: { values: readonly string[]; rows: readonly string[] }): void {
  assert.ok(p && typeof p === 'object' && Array.isArray(p.rows) && Array.isArray(p.errors), 'not a DecodedPacket');
  for (const [k, v] of Object.entries(p.values)) {
    assert.ok(listed(k, fields.values), `value '${k}' is not among the decoder's fields`);
    checkValue(v, k);
  }
  for (const row of p.rows) {
    for (const [k, v] of Object.entries(row as Record<string, DecodedValue>)) {
      assert.ok(fields.rows.includes(k), `row field '${k}' is not among the decoder's fields`);
      checkValue(v, k);
    }
  }
  for (const e of p.errors) assertIssue(e, ['DECODE'], bytes.length);
  // Memory follows the input: no format here makes more than a few rows per byte (Polar delta
  // blocks of 1-bit deltas pack 8/3 samples into a byte).
  assert.ok(p.rows.length <= 1 + bytes.length * 3, `${p.rows.length} rows from ${bytes.length} bytes`);
}

test('the registry has decoders, and each compiles without options', () => {
  assert.ok(builtinDecoderNames().length >= 7, builtinDecoderNames().join(', '));
  for (const name of builtinDecoderNames()) assert.equal(typeof builtinDecoder(name)!.compile({}), 'function', name);
});

for (const name of builtinDecoderNames()) {
  const builtin = builtinDecoder(name)!;
  test(`${name}: arbitrary bytes and contexts give a well-formed packet, the same one every time`, FUZZ_TEST, async (t) => {
    const decode = builtin.compile({});
    await fuzz.check(t, fc.property(fc.uint8Array({ maxLength: 96 }), context, fc.uint8Array({ maxLength: 40 }), (bytes, ctx, other) => {
      const first = decode(bytes, ctx);
      checkPacket(first, bytes, builtin.fields);
      // Nothing from one packet may leak into the next: decoding another in between changes nothing.
      decode(other, ctx);
      assert.deepEqual(decode(bytes, ctx), first);
    }), 600);
  });
}

// ---- Encoders written from the specification, for the round trips ----

const le = (v: number, n: number): number[] => Array.from({ length: n }, (_, i) => Math.floor(v / 256 ** i) % 256);
const sfloatBytes = (exponent: number, mantissa: number): number[] => le(((exponent & 0xf) << 12) | (mantissa & 0xfff), 2);
const floatBytes = (exponent: number, mantissa: number): number[] => [...le(mantissa & 0xffffff, 3), exponent & 0xff];

const SFLOAT_SPECIAL = new Map([[0x7fe, '+INFINITY'], [0x7ff, 'NaN'], [-0x800, 'NRes'], [-0x7ff, 'RESERVED'], [-0x7fe, '-INFINITY']]);
const FLOAT_SPECIAL = new Map([[0x7ffffe, '+INFINITY'], [0x7fffff, 'NaN'], [-0x800000, 'NRes'], [-0x7fffff, 'RESERVED'], [-0x7ffffe, '-INFINITY']]);

interface Ieee { exponent: number; mantissa: number }
/** Arbitrary SFLOAT fields, the special patterns (exponent 0) drawn often. */
const sfloat: fc.Arbitrary<Ieee> = fc.oneof(
  fc.record({ exponent: fc.integer({ min: -8, max: 7 }), mantissa: fc.integer({ min: -2048, max: 2047 }) }),
  fc.record({ exponent: fc.constant(0), mantissa: fc.constantFrom(...SFLOAT_SPECIAL.keys()) }),
);
const float: fc.Arbitrary<Ieee> = fc.oneof(
  fc.record({ exponent: fc.integer({ min: -128, max: 127 }), mantissa: fc.integer({ min: -(2 ** 23), max: 2 ** 23 - 1 }) }),
  fc.record({ exponent: fc.integer({ min: -3, max: 3 }), mantissa: fc.integer({ min: -400_000, max: 400_000 }) }),
  fc.record({ exponent: fc.constant(0), mantissa: fc.constantFrom(...FLOAT_SPECIAL.keys()) }),
);
/** The decimal value by correctly rounded string parsing; or the special's name. */
const valueOf = (f: Ieee, specials: Map<number, string>): number | string =>
  f.exponent === 0 && specials.has(f.mantissa) ? specials.get(f.mantissa)! : Number(`${f.mantissa}e${f.exponent}`);

/** An IEEE field's outcome: the value under its name, or a DECODE_SPECIAL_VALUE error naming it. */
function checkIeee(p: DecodedPacket, field: string, want: number | string, convert: (x: number) => number = (x) => x): void {
  if (typeof want === 'number') {
    assert.equal(p.values[field], convert(want), field);
  } else {
    assert.equal(p.values[field], undefined, `${field} is ${String(p.values[field])}, not dropped as ${want}`);
    const e = p.errors.find((x) => x.field === field);
    assert.ok(e && e.code === DECODE_ERRORS.SPECIAL_VALUE && e.message.includes(want), `${field}: ${JSON.stringify(p.errors)}`);
  }
}

/** Every proper prefix of a packet whose fields all have fixed sizes is refused as short. */
function prefixesRefused(decode: PacketDecoder, bytes: number[]): void {
  for (let n = 0; n < bytes.length; n++) {
    const p = decode(Uint8Array.from(bytes.slice(0, n)));
    assert.ok(isRejected(p) && p.errors[0]!.code === DECODE_ERRORS.SHORT, `prefix of ${n} byte(s): ${JSON.stringify(p)}`);
  }
}

test('heart rate: any flags and field values round-trip; contact only when supported; RR in ms', FUZZ_TEST, async (t) => {
  const packet = fc.record({
    wide: fc.boolean(), hr: fc.nat({ max: 0xffff }), supported: fc.boolean(), detected: fc.boolean(), reserved: fc.nat({ max: 7 }),
    energy: fc.option(fc.nat({ max: 0xffff }), { nil: undefined }), rr: fc.option(fc.array(fc.nat({ max: 0xffff }), { maxLength: 9 }), { nil: undefined }),
  });
  await fuzz.check(t, fc.property(packet, (x) => {
    const hr = x.wide ? x.hr : x.hr & 0xff;
    const flags = (x.wide ? 1 : 0) | (x.detected ? 2 : 0) | (x.supported ? 4 : 0) | (x.energy !== undefined ? 8 : 0) | (x.rr !== undefined ? 16 : 0) | (x.reserved << 5);
    const bytes = [flags, ...le(hr, x.wide ? 2 : 1), ...(x.energy !== undefined ? le(x.energy, 2) : []), ...(x.rr ?? []).flatMap((r) => le(r, 2))];
    const p = decodeHeartRate(Uint8Array.from(bytes));
    assert.deepEqual(p.errors, []);
    assert.equal(p.values.hr, hr);
    assert.equal(p.values.contact, x.supported ? x.detected : undefined);
    assert.equal(p.values.energy_expended, x.energy);
    if (x.rr === undefined) assert.equal(p.values.rr, undefined);
    else {
      const rr = p.values.rr as number[];
      assert.equal(rr.length, x.rr.length);
      // 1/1024 s to ms: back to the raw count exactly (1024 / 1000 undoes it within rounding).
      rr.forEach((ms, i) => assert.ok(Math.abs((ms * 1024) / 1000 - x.rr![i]!) < 1e-9, `rr[${i}] ${ms} ms from ${x.rr![i]}`));
    }
    // Without RR intervals every field has a fixed size: any prefix is short, one byte more is trailing.
    if (x.rr === undefined) {
      prefixesRefused(decodeHeartRate, bytes);
      assert.equal(decodeHeartRate(Uint8Array.from([...bytes, 0])).errors[0]?.code, DECODE_ERRORS.TRAILING);
    } else {
      assert.equal(decodeHeartRate(Uint8Array.from([...bytes, 0])).errors[0]?.code, DECODE_ERRORS.TRAILING, 'half an RR interval');
    }
  }), 1500);
});

test('PLX spot-check and continuous: SpO2, pulse rate and amplitude SFLOATs round-trip behind any optional fields', FUZZ_TEST, async (t) => {
  const packet = fc.record({
    continuous: fc.boolean(), flags: fc.nat({ max: 0xff }), spo2: sfloat, pr: sfloat, pai: sfloat,
    filler: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  });
  await fuzz.check(t, fc.property(packet, (x) => {
    const fill = (n: number, from: number) => Array.from(x.filler.subarray(from, from + n));
    const bytes = [x.flags, ...sfloatBytes(x.spo2.exponent, x.spo2.mantissa), ...sfloatBytes(x.pr.exponent, x.pr.mantissa)];
    let withPai: boolean;
    if (x.continuous) {
      if (x.flags & 1) bytes.push(...fill(4, 0));
      if (x.flags & 2) bytes.push(...fill(4, 4));
      if (x.flags & 4) bytes.push(...fill(2, 8));
      if (x.flags & 8) bytes.push(...fill(3, 10));
      withPai = (x.flags & 16) !== 0;
    } else {
      if (x.flags & 1) bytes.push(...fill(7, 0));
      if (x.flags & 2) bytes.push(...fill(2, 7));
      if (x.flags & 4) bytes.push(...fill(3, 9));
      withPai = (x.flags & 8) !== 0;
    }
    if (withPai) bytes.push(...sfloatBytes(x.pai.exponent, x.pai.mantissa));
    const decode = x.continuous ? decodePlxContinuous : decodePlxSpotCheck;
    const p = decode(Uint8Array.from(bytes));
    checkIeee(p, 'spo2', valueOf(x.spo2, SFLOAT_SPECIAL));
    checkIeee(p, 'pulse_rate', valueOf(x.pr, SFLOAT_SPECIAL));
    if (withPai) checkIeee(p, 'pulse_amplitude_index', valueOf(x.pai, SFLOAT_SPECIAL));
    else assert.equal(p.values.pulse_amplitude_index, undefined);
    assert.ok(p.errors.every((e) => e.code === DECODE_ERRORS.SPECIAL_VALUE), JSON.stringify(p.errors));
    prefixesRefused(decode, bytes);
    assert.equal(decode(Uint8Array.from([...bytes, 0x55])).errors[0]?.code, DECODE_ERRORS.TRAILING);
  }), 1500);
});

test('temperature measurement: a FLOAT in Celsius or Fahrenheit, optional time stamp and type, round-trips', FUZZ_TEST, async (t) => {
  const packet = fc.record({ flags: fc.nat({ max: 0xff }), temp: float, stamp: fc.uint8Array({ minLength: 7, maxLength: 7 }), type: fc.nat({ max: 0xff }) });
  await fuzz.check(t, fc.property(packet, (x) => {
    const bytes = [x.flags, ...floatBytes(x.temp.exponent, x.temp.mantissa), ...(x.flags & 2 ? x.stamp : []), ...(x.flags & 4 ? [x.type] : [])];
    const p = decodeTemperatureMeasurement(Uint8Array.from(bytes));
    checkIeee(p, 'temperature', valueOf(x.temp, FLOAT_SPECIAL), x.flags & 1 ? (f) => ((f - 32) * 5) / 9 : undefined);
    assert.equal(p.values.temperature_type, x.flags & 4 ? x.type : undefined);
    prefixesRefused(decodeTemperatureMeasurement, bytes);
    assert.equal(decodeTemperatureMeasurement(Uint8Array.from([...bytes, 1])).errors[0]?.code, DECODE_ERRORS.TRAILING);
  }), 1500);
});

test('battery level: one byte, 0 to 100 kept, the rest refused; any other length refused', FUZZ_TEST, async (t) => {
  const decode = builtinDecoder('bluetooth-sig/battery-level')!.compile({});
  await fuzz.check(t, fc.property(fc.uint8Array({ maxLength: 4 }), (bytes) => {
    const p = decode(bytes);
    if (bytes.length === 1 && bytes[0]! <= 100) assert.deepEqual(p, { values: { battery: bytes[0] }, rows: [], errors: [] });
    else {
      assert.ok(isRejected(p), JSON.stringify(p));
      const code = bytes.length === 0 ? DECODE_ERRORS.SHORT : bytes.length > 1 ? DECODE_ERRORS.TRAILING : DECODE_ERRORS.OUT_OF_RANGE;
      assert.equal(p.errors[0]!.code, code);
    }
  }), 300);
});

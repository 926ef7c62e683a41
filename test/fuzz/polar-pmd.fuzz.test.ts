// Polar PMD under hostile input: arbitrary data frames and control point messages never throw
// and stay within their documented shapes; ECG, raw ACC and delta-compressed ACC frames encoded
// here from arbitrary samples (the layouts of the Polar Measurement Data specification: a 10-byte
// header, then samples or a reference and bit-packed delta blocks) decode to those samples, timed
// back from the frame's timestamp at the configured rate; settings TLVs round-trip too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parsePmdControlResponse, parsePmdSettings, PMD_EPOCH_UNIX_MS, polarPmd,
} from '../../src/profiles/decoders/polar-pmd.js';
import { DECODE_ERRORS, isRejected, type DecodedPacket } from '../../src/profiles/decoded.js';
import { assertIssue, FUZZ_TEST, fuzzTarget } from './fuzz.js';

const fuzz = fuzzTarget('polar-pmd');

const rate = fc.oneof(fc.constantFrom(25, 50, 100, 130, 200), fc.double({ min: 0.5, max: 10_000, noNaN: true }));
const options = fc.record({ ecg_rate_hz: rate, acc_rate_hz: rate, acc_factor: fc.option(fc.double({ min: 1e-6, max: 10, noNaN: true }), { nil: undefined }) });
const compile = (o: { ecg_rate_hz: number; acc_rate_hz: number; acc_factor: number | undefined }) =>
  polarPmd.compile(o.acc_factor === undefined ? { ecg_rate_hz: o.ecg_rate_hz, acc_rate_hz: o.acc_rate_hz } : o);

/** ns since the PMD epoch, any uint64; as the frame carries it, little endian. */
const timestamp = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const header = (measurement: number, ns: bigint, frameType: number): number[] =>
  [measurement, ...Array.from({ length: 8 }, (_, i) => Number((ns >> BigInt(8 * i)) & 0xffn)), frameType];

/** Unix ms of a PMD timestamp, by another route than the decoder's (one BigInt division to µs). */
const unixMs = (ns: bigint): number => PMD_EPOCH_UNIX_MS + Number(ns / 1000n) / 1000;
const near = (a: number, b: number): boolean => Math.abs(a - b) <= Math.max(1e-6, Math.abs(b) * 2 ** -48);

function checkTimes(p: DecodedPacket, ns: bigint, hz: number): void {
  const last = p.rows.length - 1;
  assert.ok(near(p.values.frame_time_ms as number, unixMs(ns)), `frame time ${String(p.values.frame_time_ms)} for ${ns} ns`);
  p.rows.forEach((r, i) => assert.ok(near(r.t_ms as number, (p.values.frame_time_ms as number) - ((last - i) * 1000) / hz), `row ${i} at ${String(r.t_ms)}`));
}

test('arbitrary frames behind every header: a packet or a refusal, rows bounded by the bytes', FUZZ_TEST, async (t) => {
  const knownHeader = fc.tuple(fc.constantFrom(0x00, 0x02, 0x40, 0x82, 0x01, 0x05), timestamp, fc.constantFrom(0x00, 0x01, 0x02, 0x03, 0x80, 0x81, 0x82, 0x7f, 0xff))
    .map(([m, ns, ft]) => header(m, ns, ft));
  const frame = fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.tuple(knownHeader, fc.uint8Array({ maxLength: 120 })).map(([h, rest]) => Uint8Array.from([...h, ...rest])));
  await fuzz.check(t, fc.property(options, frame, (o, bytes) => {
    const p = compile(o)(bytes);
    for (const e of p.errors) assertIssue(e, ['DECODE'], bytes.length);
    if (p.errors.length > 0) assert.ok(isRejected(p), JSON.stringify(p).slice(0, 300));
    for (const r of p.rows) for (const [k, v] of Object.entries(r)) assert.ok(typeof v === 'number' && Number.isFinite(v), `${k} = ${String(v)}`);
    // The densest packing (1-bit delta blocks) gives 8 samples per 3 bytes, plus the reference.
    assert.ok(p.rows.length <= 1 + Math.ceil((bytes.length * 8) / 3), `${p.rows.length} rows from ${bytes.length} bytes`);
    if (p.rows.length > 0) assert.ok(Number.isFinite(p.values.frame_time_ms as number));
  }), 4000);
});

const int = (bits: number) => fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 });
/** Two's complement little endian of `size` bytes, by arithmetic rather than bit operators. */
const sle = (v: number, size: number): number[] => {
  let u = v < 0 ? v + 2 ** (8 * size) : v;
  return Array.from({ length: size }, () => { const b = u % 256; u = Math.floor(u / 256); return b; });
};

test('ECG round trip: 24-bit µV samples become mV rows, the last at the frame time', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(options, timestamp, fc.array(int(24), { minLength: 1, maxLength: 40 }), fc.nat({ max: 3 }), (o, ns, samples, high) => {
    // Bits 6-7 of byte 0 are not the measurement type ([ONLINE] 0x3F mask).
    const bytes = Uint8Array.from([...header(high << 6, ns, 0x00), ...samples.flatMap((s) => sle(s, 3))]);
    const p = compile(o)(bytes);
    assert.deepEqual(p.errors, []);
    assert.deepEqual(p.rows.map((r) => r.ecg), samples.map((s) => s / 1000));
    assert.equal(p.values.measurement, 0);
    checkTimes(p, ns, o.ecg_rate_hz);
    // A sample cut anywhere is short.
    assert.equal(compile(o)(bytes.subarray(0, bytes.length - 1)).errors[0]?.code, DECODE_ERRORS.SHORT);
  }), 1500);
});

test('ACC raw round trip: types 0, 1, 2 (8, 16, 24 bits an axis, mg) become g rows', FUZZ_TEST, async (t) => {
  const frame = fc.nat({ max: 2 }).chain((type) => fc.tuple(fc.constant(type), fc.array(fc.tuple(int(8 * (type + 1)), int(8 * (type + 1)), int(8 * (type + 1))), { minLength: 1, maxLength: 30 })));
  await fuzz.check(t, fc.property(options, timestamp, frame, (o, ns, [type, samples]) => {
    const bytes = Uint8Array.from([...header(0x02, ns, type), ...samples.flatMap((s) => s.flatMap((v) => sle(v, type + 1)))]);
    const p = compile(o)(bytes);
    assert.deepEqual(p.errors, []);
    assert.deepEqual(p.rows.map((r) => [r.acc_x, r.acc_y, r.acc_z]), samples.map((s) => s.map((v) => v / 1000)));
    checkTimes(p, ns, o.acc_rate_hz);
  }), 1500);
});

interface Block { width: number; deltas: Array<[number, number, number]> }

/** Packs a block as the specification says: each delta in `width` bits, least significant bit first, x y z per sample. */
function packBlock({ width, deltas }: Block): number[] {
  const bits: number[] = [];
  for (const sample of deltas) {
    for (const d of sample) {
      let u = d < 0 ? d + 2 ** width : d;
      for (let i = 0; i < width; i++) { bits.push(u % 2); u = Math.floor(u / 2); }
    }
  }
  const out: number[] = [];
  for (let i = 0; i < bits.length; i += 8) out.push(bits.slice(i, i + 8).reduce((acc, b, k) => acc + b * 2 ** k, 0));
  return [width, deltas.length, ...out];
}

const block: fc.Arbitrary<Block> = fc.integer({ min: 1, max: 32 }).chain((width) =>
  fc.array(fc.tuple(int(width), int(width), int(width)), { maxLength: 12 }).map((deltas) => ({ width, deltas })));

test('ACC delta round trip: a 16-bit reference and blocks of any width 1 to 32 integrate to the samples', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(options, timestamp, fc.tuple(int(16), int(16), int(16)), fc.array(block, { maxLength: 5 }), fc.boolean(),
    (o, ns, ref, blocks, scaled) => {
      const frameType = scaled ? 0x80 : 0x81;
      const bytes = Uint8Array.from([...header(0x02, ns, frameType), ...ref.flatMap((v) => sle(v, 2)), ...blocks.flatMap(packBlock)]);
      const p = compile(o)(bytes);
      if (scaled && o.acc_factor === undefined) {
        assert.ok(isRejected(p) && p.errors[0]!.code === DECODE_ERRORS.INVALID, JSON.stringify(p.errors));
        return;
      }
      assert.deepEqual(p.errors, []);
      const toG = (counts: number) => (scaled ? counts * o.acc_factor! : counts / 1000);
      const want: number[][] = [ref.map(toG)];
      let at = [...ref];
      for (const b of blocks) for (const d of b.deltas) { at = at.map((v, i) => v + d[i]!); want.push(at.map(toG)); }
      assert.deepEqual(p.rows.map((r) => [r.acc_x, r.acc_y, r.acc_z]), want);
      checkTimes(p, ns, o.acc_rate_hz);
    }), 1500);
});

test('control point messages: any bytes give a response, a stop, or an invalid message with its reason', FUZZ_TEST, async (t) => {
  const message = fc.oneof(fc.uint8Array({ maxLength: 24 }), fc.uint8Array({ maxLength: 24 }).map((b) => Uint8Array.of(0xf0, ...b)));
  await fuzz.check(t, fc.property(message, (bytes) => {
    const m = parsePmdControlResponse(bytes);
    if (m.kind === 'invalid') assert.ok(m.reason.length > 0);
    else if (m.kind === 'stopped') assert.deepEqual(m.types, Array.from(bytes.subarray(1)));
    else {
      assert.equal(m.kind, 'response');
      assert.equal(m.ok, m.status === 0);
      assert.ok(m.statusName.length > 0);
      assert.ok(m.parameters.length <= Math.max(0, bytes.length - 5));
    }
    const s = parsePmdSettings(bytes);
    if ('error' in s) assert.ok(typeof s.error === 'string' && s.error.length > 0);
    else for (const v of Object.values(s)) assert.ok(Array.isArray(v) && v.every((x) => typeof x === 'number'), JSON.stringify(s));
  }), 3000);
});

test('settings round trip: TLVs of every known type and count read back as written', FUZZ_TEST, async (t) => {
  type Tlv = { type: number; values: number[] };
  const u = (bits: number) => fc.nat({ max: 2 ** bits - 1 });
  const tlv: fc.Arbitrary<Tlv> = fc.oneof(
    fc.tuple(fc.constantFrom(0, 1, 2), fc.array(u(16), { maxLength: 6 })).map(([type, values]) => ({ type, values })),
    fc.array(u(32), { maxLength: 4 }).map((values) => ({ type: 3, values })),
    fc.array(u(8), { maxLength: 6 }).map((values) => ({ type: 4, values })),
    fc.array(fc.float({ noDefaultInfinity: true, noNaN: true }), { maxLength: 4 }).map((values) => ({ type: 5, values })),
    fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 2 }).map((keys) => ({ type: 6, values: keys.flatMap((k) => [...k]) })),
  );
  const KEYS = ['sampleRateHz', 'resolutionBits', 'rangeG', 'rangeMilliUnit', 'channels', 'factor'];
  const SIZE = [2, 2, 2, 4, 1, 4];
  await fuzz.check(t, fc.property(fc.array(tlv, { maxLength: 6 }), (tlvs) => {
    const bytes: number[] = [];
    const want: Record<string, number[]> = {};
    for (const { type, values } of tlvs) {
      if (type === 6) {
        bytes.push(6, values.length / 16, ...values);
        continue;
      }
      bytes.push(type, values.length);
      for (const v of values) {
        if (type === 5) { const f = new DataView(new ArrayBuffer(4)); f.setFloat32(0, v, true); bytes.push(...new Uint8Array(f.buffer)); }
        else bytes.push(...sle(v, SIZE[type]!));
      }
      (want[KEYS[type]!] ??= []).push(...values.map((v) => (type === 5 ? Math.fround(v) : v)));
    }
    assert.deepEqual(parsePmdSettings(Uint8Array.from(bytes)), want);
  }), 1500);
});

// Polar Measurement Data (PMD): control point commands and responses, and the `polar/pmd`
// decoder for ECG and ACC frames (raw and delta-compressed), with per-sample times.
//
// Where the expected bytes and values come from:
// - [SPEC] "Polar Measurement Data Specification for 3rd Party" (polarofficial/polar-ble-sdk,
//   technical_documentation/Polar_Measurement_Data_Specification.pdf, commit 0d58c747): its
//   sequence diagrams give H10 and Verity Sense bytes for settings, start, stop, and data frames.
// - [SDK] polar-ble-sdk Android unit tests (AccDataTest.kt, EcgDataTest.kt,
//   BlePmdClientControlPointResponseTest.kt, commit 0aabf34a of AccDataTest.kt): frames with the
//   values Polar's own parser must give.
// - [TIME] polar-ble-sdk documentation/TimeSystemExplained.md: the H10's default clock,
//   2019-01-01T00:00:00Z, is 599616000000000000 ns after the PMD epoch.
// - Everything else is worked by hand, or made by encoders written here that share no code with
//   the decoder: Node's Buffer integer writers for raw samples and timestamps, and a BigInt bit
//   stream for delta blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DECODE_ERRORS, isRejected, type DecodedPacket, type DecodedValues, type PacketDecoder } from '../../src/profiles/decoded.js';
import {
  H10_SETTINGS,
  PMD_EPOCH_UNIX_MS,
  parsePmdControlResponse,
  parsePmdSettings,
  pmdGetSettingsCommand,
  pmdStartCommand,
  pmdStopCommand,
  polarPmd,
  type PmdControlResponse,
  type PmdSettings,
} from '../../src/profiles/decoders/polar-pmd.js';
import { builtinDecoder, registerDecoder } from '../../src/profiles/decoders/registry.js';
import { parseProfile } from '../../src/profiles/load.js';
import { SampleTimer } from '../../src/profiles/timing.js';
import { h, rejectedWith } from '../helpers/decoded.js';

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 ');

const decode: PacketDecoder = polarPmd.compile({});

/** A packet that decoded without any problem. */
function clean(packet: DecodedPacket): DecodedPacket {
  assert.deepEqual(packet.errors, [], `expected no errors, got ${JSON.stringify(packet.errors)}`);
  return packet;
}


function response(bytes: Uint8Array): PmdControlResponse {
  const r = parsePmdControlResponse(bytes);
  assert.equal(r.kind, 'response', JSON.stringify(r));
  return r as PmdControlResponse;
}

function settings(parameters: Uint8Array): PmdSettings {
  const s = parsePmdSettings(parameters);
  assert.ok(!('error' in s), JSON.stringify(s));
  return s as PmdSettings;
}

/** A PMD frame: measurement type, uint64 LE timestamp in ns since 2000-01-01, frame type, content. Written with Buffer, not the decoder's reader. */
function frame(measurement: number, timestampNs: bigint, frameType: number, content: Uint8Array | readonly number[]): Uint8Array {
  const header = Buffer.alloc(10);
  header.writeUInt8(measurement, 0);
  header.writeBigUInt64LE(timestampNs, 1);
  header.writeUInt8(frameType, 9);
  return new Uint8Array(Buffer.concat([header, Buffer.from(content as Uint8Array)]));
}

/** Signed little-endian integers of `size` bytes each, by Buffer.writeIntLE. */
function ints(values: readonly number[], size: number): number[] {
  const b = Buffer.alloc(values.length * size);
  values.forEach((v, i) => b.writeIntLE(v, i * size, size));
  return [...b];
}

/** Nanoseconds since the PMD epoch for a Unix time in ms (an integer) plus extra ns. */
const pmdNs = (unixMs: number, extraNs = 0): bigint => BigInt(unixMs - Date.UTC(2000, 0, 1)) * 1_000_000n + BigInt(extraNs);

const num = (row: DecodedValues | undefined, key: string): number => {
  const v = row?.[key];
  assert.equal(typeof v, 'number', `${key} in ${JSON.stringify(row)}`);
  return v as number;
};

/**
 * Times are Unix ms in doubles: near 1.7e12 a double steps by 2^-12 ms (0.24 µs), so times are
 * compared to within 1 µs.
 */
const US = 1e-3;

function assertTimes(rows: readonly DecodedValues[], lastMs: number, periodMs: number, what: string): void {
  const n = rows.length;
  rows.forEach((row, i) => {
    const want = lastMs - (n - 1 - i) * periodMs;
    assert.ok(Math.abs(num(row, 't_ms') - want) < US, `${what}: row ${i} t_ms ${num(row, 't_ms')}, expected ${want}`);
  });
}

// ---- Control point commands ----

test('start commands are the bytes the specification documents for the H10', () => {
  // [SPEC] "Start Stream", H10: range 8 g, 200 Hz, 16 bits -> 02 02 02 01 08 00 00 01 C8 00 01 01 10 00.
  assert.equal(hexOf(pmdStartCommand('acc', { sampleRateHz: 200, resolutionBits: 16, rangeG: 8 })), '02 02 02 01 08 00 00 01 C8 00 01 01 10 00');
  // ECG: op 02, type 00, then the H10's only ECG settings exactly as its settings response lists
  // them in [SPEC] "Request Stream Settings" (F0 01 00 00 00 | 00 01 82 00 01 01 0E 00): 130 Hz, 14 bits.
  // bleakheart (fsmeraldi/bleakheart, core.py start_streaming with its H10 ECG defaults) builds the same bytes.
  assert.equal(hexOf(pmdStartCommand('ecg', { sampleRateHz: 130, resolutionBits: 14 })), '02 00 00 01 82 00 01 01 0E 00');
  // Other H10 ACC settings, by hand: 25 Hz = 0x0019, 2 g = 0x0002, both uint16 LE.
  assert.equal(hexOf(pmdStartCommand('acc', { sampleRateHz: 25, resolutionBits: 16, rangeG: 2 })), '02 02 02 01 02 00 00 01 19 00 01 01 10 00');
  assert.equal(hexOf(pmdStartCommand('acc', { sampleRateHz: 100, resolutionBits: 16, rangeG: 4 })), '02 02 02 01 04 00 00 01 64 00 01 01 10 00');
});

test('every H10 ACC setting reads back from its start command as one value per setting', () => {
  for (const rate of H10_SETTINGS.acc.sampleRateHz) {
    for (const range of H10_SETTINGS.acc.rangeG) {
      const cmd = pmdStartCommand('acc', { sampleRateHz: rate, resolutionBits: 16, rangeG: range });
      assert.deepEqual([cmd[0], cmd[1]], [0x02, 0x02]);
      assert.deepEqual(settings(cmd.subarray(2)), { sampleRateHz: [rate], resolutionBits: [16], rangeG: [range] }, `${rate} Hz ${range} g`);
    }
  }
});

test('stop and settings commands are the documented bytes', () => {
  // [SPEC] "Stop Stream": 03 02 stops ACC, 03 00 stops ECG. "Request Stream Settings": 01 02, 01 00.
  assert.equal(hexOf(pmdStopCommand('acc')), '03 02');
  assert.equal(hexOf(pmdStopCommand('ecg')), '03 00');
  assert.equal(hexOf(pmdGetSettingsCommand('acc')), '01 02');
  assert.equal(hexOf(pmdGetSettingsCommand('ecg')), '01 00');
});

test('settings an H10 does not offer are refused before anything is written', () => {
  assert.throws(() => pmdStartCommand('acc', { sampleRateHz: 52, resolutionBits: 16, rangeG: 8 }), /sampleRateHz must be one of 25, 50, 100, 200 on a Polar H10, not 52/);
  assert.throws(() => pmdStartCommand('acc', { sampleRateHz: 200, resolutionBits: 16, rangeG: 16 }), /rangeG must be one of 2, 4, 8/);
  assert.throws(() => pmdStartCommand('acc', { sampleRateHz: 200, resolutionBits: 16 }), /rangeG must be one of 2, 4, 8 on a Polar H10, not undefined/);
  assert.throws(() => pmdStartCommand('ecg', { sampleRateHz: 130, resolutionBits: 16 }), /resolutionBits must be one of 14/);
  assert.throws(() => pmdStartCommand('ecg', { sampleRateHz: 250, resolutionBits: 14 }), /sampleRateHz must be one of 130/);
  assert.throws(() => pmdStartCommand('ecg', { sampleRateHz: 130, resolutionBits: 14, rangeG: 2 }), /ECG takes no rangeG/);
  assert.throws(() => pmdStartCommand('ppg' as 'ecg', { sampleRateHz: 130, resolutionBits: 14 }), /'ecg' or 'acc', not "ppg"/);
  assert.throws(() => pmdStopCommand('gyro' as 'acc'), TypeError);
});

// ---- Control point responses ----

test('control point responses from the specification and the SDK', () => {
  // [SPEC] H10 ACC start response: F0 02 02 00 00 01 (op start, ACC, success, no more, 0x01 reserved).
  const start = response(h('F0 02 02 00 00 01'));
  assert.deepEqual({ ...start, parameters: [...start.parameters] }, {
    kind: 'response', opCode: 0x02, type: 0x02, status: 0, statusName: 'SUCCESS', ok: true, more: false, parameters: [0x01],
  });
  // [SPEC] stop: F0 03 02 00 00.
  const stop = response(h('F0 03 02 00 00'));
  assert.deepEqual([stop.opCode, stop.type, stop.status, stop.ok, stop.more, stop.parameters.length], [3, 2, 0, true, false, 0]);
  // [SDK] BlePmdClientControlPointResponseTest: F0 01 06 07 00 is a failed settings request for the
  // magnetometer, ERROR_INVALID_RESOLUTION, with no parameters.
  const failed = response(h('F0 01 06 07 00'));
  assert.deepEqual([failed.opCode, failed.type, failed.status, failed.statusName, failed.ok, failed.more, failed.parameters.length], [1, 6, 7, 'ERROR_INVALID_RESOLUTION', false, false, 0]);
  // [SDK] F0 01 02 00 00 FF FF FF: success, parameters FF FF FF.
  assert.deepEqual([...response(h('F0 01 02 00 00 FF FF FF')).parameters], [0xff, 0xff, 0xff]);
  // A "more" byte other than 0 says further indications follow.
  assert.equal(response(h('F0 01 02 00 01 00 01 C8 00')).more, true);
  // Every status of the specification's table by name; unassigned ones as RFU.
  const names = [
    'SUCCESS', 'ERROR_INVALID_OP_CODE', 'ERROR_INVALID_MEASUREMENT_TYPE', 'ERROR_NOT_SUPPORTED', 'ERROR_INVALID_LENGTH',
    'ERROR_INVALID_PARAMETER', 'ERROR_ALREADY_IN_STATE', 'ERROR_INVALID_RESOLUTION', 'ERROR_INVALID_SAMPLE_RATE',
    'ERROR_INVALID_RANGE', 'ERROR_INVALID_MTU', 'ERROR_INVALID_NUMBER_OF_CHANNELS', 'ERROR_INVALID_STATE', 'ERROR_DEVICE_IN_CHARGER',
  ];
  names.forEach((name, status) => assert.equal(response(Uint8Array.of(0xf0, 2, 2, status)).statusName, name));
  assert.equal(response(h('F0 02 02 C8')).statusName, 'RFU_200');
  // An error response carries no parameters even when bytes follow the status.
  const withTail = response(h('F0 02 02 08 01 05'));
  assert.deepEqual([withTail.ok, withTail.more, withTail.parameters.length, withTail.statusName], [false, false, 0, 'ERROR_INVALID_SAMPLE_RATE']);
});

test('settings responses read as the specification annotates them', () => {
  // [SPEC] H10 ACC settings: 25/50/100/200 Hz, 16 bits, 2/4/8 g.
  const acc = response(h('F0 01 02 00 00 00 04 19 00 32 00 64 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00'));
  assert.deepEqual(settings(acc.parameters), { sampleRateHz: [25, 50, 100, 200], resolutionBits: [16], rangeG: [2, 4, 8] });
  // [SPEC] H10 ECG settings: 130 Hz, 14 bits.
  const ecg = response(h('F0 01 00 00 00 00 01 82 00 01 01 0E 00'));
  assert.deepEqual(settings(ecg.parameters), { sampleRateHz: [130], resolutionBits: [14] });
  // [SPEC] Verity Sense ACC settings: 52 Hz, 16 bits, 8 g, 3 channels (channels is one byte).
  assert.deepEqual(settings(response(h('F0 01 02 00 00 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03')).parameters),
    { sampleRateHz: [52], resolutionBits: [16], rangeG: [8], channels: [3] });
  // [SPEC] Verity Sense start response: factor 40 DA 7F 39 = 0x397FDA40 = 0.000243999995291 (float32).
  const factor = settings(response(h('F0 02 02 00 00 05 01 40 DA 7F 39')).parameters).factor;
  assert.equal(factor?.length, 1);
  assert.ok(Math.abs(factor![0]! - 0.000243999995291) < 1e-15, String(factor));
  // Bytes that are not settings.
  assert.match((parsePmdSettings(h('07 01 00')) as { error: string }).error, /unknown setting type 0x07 at byte 0/);
  assert.match((parsePmdSettings(h('00 02 19 00 32')) as { error: string }).error, /needs 4 bytes at byte 2; 3 left/);
  assert.match((parsePmdSettings(h('01')) as { error: string }).error, /no count/);
});

test('the device stopping a stream, and bytes that are no control point message', () => {
  assert.deepEqual(parsePmdControlResponse(h('01 00 02')), { kind: 'stopped', types: [0, 2] });
  assert.equal(parsePmdControlResponse(new Uint8Array(0)).kind, 'invalid');
  // [SPEC] the feature read (0F ...) is the control point's value, not an indication answering a command.
  const feature = parsePmdControlResponse(h('0F 6E 00 00'));
  assert.equal(feature.kind, 'invalid');
  assert.match((feature as { reason: string }).reason, /byte 0 is 0x0F/);
  assert.match((parsePmdControlResponse(h('F0 02 02')) as { reason: string }).reason, /needs 4 bytes .* has 3/);
});

test('control point parsing never throws, whatever the bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
    const r = parsePmdControlResponse(bytes);
    assert.ok(['response', 'stopped', 'invalid'].includes(r.kind));
    const s = parsePmdSettings(bytes);
    assert.equal(typeof s, 'object');
  }), { numRuns: 2000 });
});

// ---- ECG ----

test('an ECG frame built by hand: 24-bit two\'s complement µV become mV, timed back from the last sample at 130 Hz', () => {
  // The PMD epoch is 2000-01-01T00:00:00Z = 946684800000 ms after the Unix epoch.
  assert.equal(Date.UTC(2000, 0, 1), 946_684_800_000);
  assert.equal(PMD_EPOCH_UNIX_MS, 946_684_800_000);
  const microvolts = [0, 1, -1, 1234, -5678, 100_000, -100_000, 8_388_607, -8_388_608];
  // Two's complement in 3 bytes, LE, by hand for three of them:
  assert.deepEqual(ints([-1], 3), [0xff, 0xff, 0xff]);
  assert.deepEqual(ints([-5678], 3), [0xd2, 0xe9, 0xff]); // 0x1000000 - 5678 = 0xFFE9D2
  assert.deepEqual(ints([8_388_607], 3), [0xff, 0xff, 0x7f]);
  const lastMs = Date.UTC(2024, 2, 15, 12, 34, 56, 789);
  const f = frame(0x00, pmdNs(lastMs, 123_456), 0x00, ints(microvolts, 3));
  const p = clean(decode(f));
  assert.equal(p.rows.length, microvolts.length);
  assert.deepEqual(p.rows.map((r) => r['ecg']), microvolts.map((uv) => uv / 1000));
  assert.deepEqual(Object.keys(p.values).sort(), ['frame_time_ms', 'frame_type', 'measurement']);
  assert.equal(p.values['measurement'], 0);
  assert.equal(p.values['frame_type'], 0);
  const frameMs = lastMs + 0.123456;
  assert.ok(Math.abs(num(p.values, 'frame_time_ms') - frameMs) < US, String(p.values['frame_time_ms']));
  // The frame timestamp is the LAST sample's ([SPEC] "last sample timestamp"; [SDK] PmdTimeStampUtils).
  assertTimes(p.rows, frameMs, 1000 / 130, 'ecg at 130 Hz');
  assert.ok(Math.abs(num(p.rows.at(-1), 't_ms') - frameMs) < US);
  // 1000 / 130 = 7.6923... ms between rows, the first row (n - 1) periods before the last.
  assert.ok(Math.abs(num(p.rows[1], 't_ms') - num(p.rows[0], 't_ms') - 7.6923077) < US);
  assert.ok(Math.abs(num(p.rows[0], 't_ms') - (frameMs - 8 * 7.6923077)) < US);
});

test('ECG frame from the SDK\'s tests: 02 80 FF = -32766 µV, 02 80 00 = 32770 µV; timestamp 2 s after the epoch', () => {
  // [SDK] EcgDataTest "process raw ecg data type 0".
  const p = clean(decode(h('00 00 94 35 77 00 00 00 00 00 02 80 FF 02 80 00')));
  assert.deepEqual(p.rows.map((r) => r['ecg']), [-32.766, 32.77]);
  // 0x77359400 = 2_000_000_000 ns.
  assert.equal(p.values['frame_time_ms'], 946_684_802_000);
  assert.equal(p.rows[1]!['t_ms'], 946_684_802_000);
  assert.ok(Math.abs(num(p.rows[0], 't_ms') - (946_684_802_000 - 1000 / 130)) < US);
});

test('the H10\'s default clock (2019-01-01, [TIME]) reads as that Unix time', () => {
  const p = clean(decode(frame(0, 599_616_000_000_000_000n, 0, ints([5], 3))));
  assert.equal(p.values['frame_time_ms'], Date.UTC(2019, 0, 1));
});

test('the ECG rate for row times comes from the options', () => {
  const at250 = clean(polarPmd.compile({ ecg_rate_hz: 250 })(frame(0, pmdNs(Date.UTC(2025, 0, 1)), 0, ints([1, 2, 3], 3))));
  assertTimes(at250.rows, Date.UTC(2025, 0, 1), 4, 'ecg at 250 Hz');
});

// ---- ACC, raw ----

test('H10 ACC frame from the specification: 45 FF = -187 mg (the diagram\'s annotation says -184), E4 FF = -28, B5 03 = 949', () => {
  // [SPEC] "Start Stream", H10: the first two samples of the frame as the diagram prints it.
  // 0xFF45 - 0x10000 = -187; the diagram's "-184 millig" is a slip (0xFF48 would be -184).
  const p = clean(decode(h('02 EA 54 A2 42 8B 45 52 08 01 45 FF E4 FF B5 03 45 FF E4 FF B8 03')));
  assert.deepEqual(p.rows.map((r) => [r['acc_x'], r['acc_y'], r['acc_z']]), [[-0.187, -0.028, 0.949], [-0.187, -0.028, 0.952]]);
  assert.deepEqual([p.values['measurement'], p.values['frame_type']], [2, 1]);
  // Timestamp 0x0852458B42A254EA = 599618164814402794 ns (the diagram's value): 2164.814402794 s
  // after the H10's default 2019-01-01 clock.
  assert.equal(0x0852458b42a254ean, 599_618_164_814_402_794n);
  const want = Date.UTC(2019, 0, 1) + 2_164_814 + 0.402794;
  assert.ok(Math.abs(num(p.values, 'frame_time_ms') - want) < US, String(p.values['frame_time_ms']));
  // Default ACC rate 200 Hz: rows 5 ms apart, the last at the frame time.
  assertTimes(p.rows, want, 5, 'acc at 200 Hz');
});

test('ACC raw type 1 from the SDK\'s tests: (-9, -1, 999) and (-8, -2, 997) mg', () => {
  // [SDK] AccDataTest "process acc raw data frame type 1": its header and first four samples.
  const p = clean(decode(h('02 00 94 35 77 00 00 00 00 01  F7 FF FF FF E7 03  F8 FF FE FF E5 03  F9 FF FF FF E5 03  FA FF FF FF E6 03')));
  assert.deepEqual(p.rows.map((r) => [r['acc_x'], r['acc_y'], r['acc_z']]), [[-0.009, -0.001, 0.999], [-0.008, -0.002, 0.997], [-0.007, -0.001, 0.997], [-0.006, -0.001, 0.998]]);
  assert.equal(p.rows.at(-1)!['t_ms'], 946_684_802_000);
});

test('ACC raw types 0, 1 and 2 round-trip any sample values (Buffer.writeIntLE encodes)', () => {
  fc.assert(fc.property(
    fc.constantFrom(0, 1, 2),
    fc.integer({ min: 1, max: 30 }),
    fc.infiniteStream(fc.integer()),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    (type, n, stream, ts) => {
      const size = type + 1;
      const lim = 2 ** (8 * size - 1);
      const it = stream[Symbol.iterator]();
      const values = Array.from({ length: n * 3 }, () => {
        const r = it.next().value as number;
        return ((r % (2 * lim)) + 2 * lim) % (2 * lim) - lim;
      });
      const p = clean(decode(frame(0x02, ts, type, ints(values, size))));
      assert.equal(p.rows.length, n);
      p.rows.forEach((row, i) => {
        assert.deepEqual([row['acc_x'], row['acc_y'], row['acc_z']], [values[3 * i]! / 1000, values[3 * i + 1]! / 1000, values[3 * i + 2]! / 1000]);
      });
      // The timestamp in ms as exact as a double holds it: ns / 1e6 computed with BigInt here.
      const wantMs = Number(ts / 1_000_000n) + 946_684_800_000 + Number(ts % 1_000_000n) / 1e6;
      assert.equal(p.values['frame_time_ms'], wantMs);
      assert.equal(p.rows.at(-1)!['t_ms'], wantMs);
    }), { numRuns: 300 });
});

test('the ACC rate for row times comes from the options, matching the start command', () => {
  const p = clean(polarPmd.compile({ acc_rate_hz: 25 })(frame(2, pmdNs(Date.UTC(2025, 5, 1)), 1, ints([1, 2, 3, 4, 5, 6, 7, 8, 9], 2))));
  assertTimes(p.rows, Date.UTC(2025, 5, 1), 40, 'acc at 25 Hz');
});

// ---- ACC, delta-compressed ----

interface Block { readonly width: number; readonly deltas: ReadonlyArray<readonly [number, number, number]> }

/**
 * A delta frame's content, built independently of the decoder: the 16-bit reference sample by
 * Buffer.writeInt16LE, then per block its width and count bytes and the deltas as one BigInt bit
 * stream (each delta's two's complement in `width` bits, the first at bit 0, x y z per sample),
 * cut into bytes least significant first and padded to a whole byte.
 */
function deltaContent(ref: readonly [number, number, number], blocks: readonly Block[]): number[] {
  const out = ints(ref, 2);
  for (const { width, deltas } of blocks) {
    out.push(width, deltas.length);
    let stream = 0n;
    let bits = 0n;
    for (const sample of deltas) {
      for (const d of sample) {
        stream |= BigInt.asUintN(width, BigInt(d)) << bits;
        bits += BigInt(width);
      }
    }
    for (let i = 0n; i * 8n < bits; i++) out.push(Number((stream >> (8n * i)) & 0xffn));
  }
  return out;
}

/** The samples a delta frame holds: the reference, then running sums. */
function integrate(ref: readonly [number, number, number], blocks: readonly Block[]): number[][] {
  const out = [[...ref]];
  for (const b of blocks) for (const d of b.deltas) out.push(out.at(-1)!.map((v, i) => v + d[i]!));
  return out;
}

const rowsMg = (p: DecodedPacket): number[][] => p.rows.map((r) => [r['acc_x'], r['acc_y'], r['acc_z']].map((v) => Math.round((v as number) * 1000)));

test('the encoder here packs bits as the specification\'s example shows', () => {
  // [SPEC] Verity Sense delta example: width 8, deltas (-4, +7, -1) are FC 07 FF.
  assert.deepEqual(deltaContent([-48, 357, 4068], [{ width: 8, deltas: [[-4, 7, -1]] }]), [...h('D0 FF 65 01 E4 0F 08 01 FC 07 FF')]);
  // [SDK] AccDataTest type 1: width 6, deltas (-5, -3, 0) are 7B 0F 08 (111011 111101 000000, LSB
  // first). The 18 bits end at bit 1 of the last byte; the SDK's 08 sets bit 3 of it, a padding
  // bit, where this encoder writes 0. The decoder ignores padding: both decode the same.
  const ours = deltaContent([-15, 20, 1008], [{ width: 6, deltas: [[-5, -3, 0]] }]);
  assert.deepEqual(ours, [...h('F1 FF 14 00 F0 03 06 01 7B 0F 00')]);
  const sdk = h('02 65 00 00 00 00 00 00 00 81  F1 FF 14 00 F0 03 06 01 7B 0F 08');
  assert.deepEqual(clean(decode(frame(2, 101n, 0x81, ours))), clean(decode(sdk)));
  assert.equal(decode(sdk).rows.length, 2);
});

test('delta frame 0x81 from the SDK\'s tests: reference (-15, 20, 1008) mg, then (-20, 17, 1008)', () => {
  // [SDK] AccDataTest "process acc compressed data type 1"; timestamp 0x65 = 101 ns.
  const p = clean(decode(h('02 65 00 00 00 00 00 00 00 81  F1 FF 14 00 F0 03 06 01 7B 0F 08')));
  assert.deepEqual(p.rows.map((r) => [r['acc_x'], r['acc_y'], r['acc_z']]), [[-0.015, 0.02, 1.008], [-0.02, 0.017, 1.008]]);
  assert.equal(p.values['frame_type'], 0x81);
  assert.equal(p.rows[1]!['t_ms'], 946_684_800_000.000101);
});

// [SDK] AccDataTest "process acc compressed data type 0" (Verity Sense, factor 2.44E-4 g): a
// reference sample and one block of 56 samples of 10-bit deltas.
const SDK_DELTA_0X80 = `71 07 F0 6A 9E 8D 0A 38 BE 5C BE BA 2F 96 B3 EE 4B E5 AD FB 42 B9 EB BE 4C FE BA 2F 92 BF EE 4B
E4 B1 FB 12 B9 EC BD 3C 3E BB 2F 8F D3 DE 4B E3 B5 F7 D2 B8 ED BD 30 7E 7B 2F 8B E3 CE 8B E2 BA F7 A2 B8 EE BC 20 BE 7B
2F 88 F3 CE CB E1 BD EF 52 F8 EF BC 18 FE 3B 2F 84 03 BF CB E0 C2 EF 32 B8 F0 BB 04 4E BC 2E 81 13 AF 0B E0 C6 EF F2 F7
F1 B9 FC 7D BC 2E 7D 27 9F 4B DF CA EB C2 F7 F2 B8 EC CD 7C 2E 7B 37 8F 4B DE CE E3 92 F7 F3 B8 E0 0D FD 2D 77 4B 7F CB
DD D2 DF 62 37 F5 B7 D4 4D BD 2D 74 5B 6F CB DC D7 D7 32 37 F6 B5 C8 8D 7D 2D 71 6B 4F 4B DC DC D3 F2 36 F7 B4 BC DD FD
2C 6F 7B 3F 4B DB E0 CF D2 36 F8 B2 B0 2D BE 2C 6C 8F 1F CB DA E3 C7 A2 76 F9`;

test('delta frame 0x80 from the SDK\'s tests: counts times the device\'s factor are g, all within its 8 g range', () => {
  const bytes = frame(0x02, 2_000_000_000n, 0x80, h(SDK_DELTA_0X80));
  assert.equal(bytes.length, 10 + 218);
  const factor = 2.44e-4;
  const p = clean(polarPmd.compile({ acc_factor: factor })(bytes));
  assert.equal(p.rows.length, 57, 'reference + 56 deltas');
  // Reference: 71 07 = 1905, F0 6A = 27376, 9E 8D = -29282; first deltas +190, -105, -85 (the SDK's worked bits).
  const counts = [[1905, 27376, -29282], [1905 + 190, 27376 - 105, -29282 - 85]];
  counts.forEach((c, i) => assert.deepEqual([p.rows[i]!['acc_x'], p.rows[i]!['acc_y'], p.rows[i]!['acc_z']], c.map((v) => v * factor)));
  for (const row of p.rows) for (const axis of ['acc_x', 'acc_y', 'acc_z']) assert.ok(Math.abs(num(row, axis)) <= 8, `${axis} ${row[axis]}`);
  // Without the factor the counts cannot become g: refused, not guessed.
  const issue = rejectedWith(decode(bytes), DECODE_ERRORS.INVALID);
  assert.equal(issue.byteOffset, 9);
  assert.match(issue.message, /0x80 .*acc_factor/);
});

test('the specification\'s Verity Sense delta frame, by hand', () => {
  // [SPEC] frame: 02 | 64 6C 76 C4 3C C6 7F 07 | 80 | D0 FF 65 01 E4 0F | 08 1D | FC 07 FF 0C 13 F2 11 F1 1A F9 EE F8 EF 0C 03 09 F2 ...
  // The diagram prints 29 (0x1D) samples' worth of block but only the first 17 bytes of it: as printed
  // (cut after 09 F2) the block is short, and it is refused at the block's first byte (16).
  const printed = h('02 64 6C 76 C4 3C C6 7F 07 80 D0 FF 65 01 E4 0F 08 1D FC 07 FF 0C 13 F2 11 F1 1A F9 EE F8 EF 0C 03 09 F2');
  const issue = rejectedWith(polarPmd.compile({ acc_factor: 1 })(printed), DECODE_ERRORS.SHORT);
  assert.equal(issue.byteOffset, 16);
  assert.match(issue.message, /29 samples x 3 axes x 8 bits\) needs 87 bytes from byte 18; the frame has 17/);
  // With the count set to the 5 whole samples printed and the rest dropped, in counts (factor 1):
  // ref (-48, 357, 4068); FC 07 FF = (-4, +7, -1) -> (-52, 364, 4067); 0C 13 F2 = (+12, +19, -14) -> (-40, 383, 4053)
  // (both as the diagram works them); 11 F1 1A = (+17, -15, +26) -> (-23, 368, 4079);
  // F9 EE F8 = (-7, -18, -8) -> (-30, 350, 4071); EF 0C 03 = (-17, +12, +3) -> (-47, 362, 4074).
  const five = h('02 64 6C 76 C4 3C C6 7F 07 80 D0 FF 65 01 E4 0F 08 05 FC 07 FF 0C 13 F2 11 F1 1A F9 EE F8 EF 0C 03');
  const p = clean(polarPmd.compile({ acc_factor: 1 })(five));
  assert.deepEqual(p.rows.map((r) => [r['acc_x'], r['acc_y'], r['acc_z']]), [
    [-48, 357, 4068], [-52, 364, 4067], [-40, 383, 4053], [-23, 368, 4079], [-30, 350, 4071], [-47, 362, 4074],
  ]);
  // Timestamp 0x077FC63CC4766C64 = 540368444604181604 ns, the diagram's "last sample timestamp".
  assert.equal(0x077fc63cc4766c64n, 540_368_444_604_181_604n);
  const lastMs = 946_684_800_000 + 540_368_444_604 + 0.181604;
  assert.ok(Math.abs(num(p.values, 'frame_time_ms') - lastMs) < US);
  assertTimes(p.rows, lastMs, 5, 'delta at 200 Hz');
});

const deltaBlock = fc.integer({ min: 1, max: 32 }).chain((width) => {
  const lim = 2 ** (width - 1);
  const d = fc.integer({ min: -lim, max: lim - 1 });
  return fc.record({ width: fc.constant(width), deltas: fc.array(fc.tuple(d, d, d), { maxLength: 12 }) });
});
const int16 = fc.integer({ min: -32768, max: 32767 });

test('delta frames 0x81 round-trip random references, bit widths 1 to 32 and deltas (BigInt encoder)', () => {
  fc.assert(fc.property(fc.tuple(int16, int16, int16), fc.array(deltaBlock, { maxLength: 5 }), (ref, blocks) => {
    const p = clean(decode(frame(0x02, 1_000_000_000_000n, 0x81, deltaContent(ref, blocks))));
    assert.deepEqual(rowsMg(p), integrate(ref, blocks));
    // Exactly mg / 1000, not mg * 0.001.
    const expected = integrate(ref, blocks);
    p.rows.forEach((row, i) => assert.equal(row['acc_z'], expected[i]![2]! / 1000));
  }), { numRuns: 500 });
});

test('a full block of 255 samples of 32-bit deltas, and 1-bit deltas (0 or -1)', () => {
  const wide: Block = { width: 32, deltas: Array.from({ length: 255 }, (_, i) => [i % 2 ? -(2 ** 31) : 2 ** 31 - 1, -i, i] as [number, number, number]) };
  const narrow: Block = { width: 1, deltas: [[-1, 0, -1], [0, -1, 0], [-1, -1, -1]] };
  const ref: [number, number, number] = [-32768, 0, 32767];
  const content = deltaContent(ref, [wide, narrow]);
  assert.equal(content.length, 6 + 2 + 255 * 12 + 2 + 2);
  const p = clean(decode(frame(2, 0n, 0x81, content)));
  assert.deepEqual(rowsMg(p), integrate(ref, [wide, narrow]));
});

// ---- Bad frames ----

test('a header cut short is DECODE_SHORT at the byte where it ends', () => {
  for (let n = 0; n < 10; n++) {
    const issue = rejectedWith(decode(new Uint8Array(n).fill(0)), DECODE_ERRORS.SHORT);
    assert.equal(issue.byteOffset, n);
    assert.match(issue.message, new RegExp(`10-byte header .* has ${n} byte`));
  }
});

test('unknown measurement types are DECODE_INVALID at byte 0, unknown frame types at byte 9', () => {
  for (const [type, name] of [[0x01, 'PPG'], [0x03, 'PPI'], [0x05, 'gyroscope'], [0x06, 'magnetometer'], [0x3f, '']] as const) {
    const issue = rejectedWith(decode(frame(type, 1n, 0, ints([1, 2, 3], 2))), DECODE_ERRORS.INVALID);
    assert.equal(issue.byteOffset, 0);
    assert.equal(issue.field, 'measurement');
    assert.ok(issue.message.includes(`0x${type.toString(16).padStart(2, '0').toUpperCase()}`) && issue.message.includes(name), issue.message);
  }
  for (const [measurement, frameType] of [[0, 0x01], [0, 0x02], [0, 0x80], [0, 0x81], [2, 0x03], [2, 0x7f], [2, 0x82], [2, 0xff]] as const) {
    const issue = rejectedWith(decode(frame(measurement, 1n, frameType, ints([1, 2, 3], 3))), DECODE_ERRORS.INVALID);
    assert.equal(issue.byteOffset, 9, issue.message);
    assert.equal(issue.field, 'frame_type');
    assert.ok(issue.message.includes(`0x${frameType.toString(16).padStart(2, '0').toUpperCase()}`), issue.message);
  }
  // The recording-type bits above 0x3F are masked off ([ONLINE] 4.2.9): 0x82 is ACC.
  assert.equal(clean(decode(frame(0x82, 1n, 1, ints([1, 2, 3], 2)))).values['measurement'], 2);
});

test('samples cut short are DECODE_SHORT at the first byte of the cut sample', () => {
  const ecg = frame(0, 1n, 0, ints([1, 2, 3], 3));
  for (let cut = 1; cut < 9; cut++) {
    if (cut % 3 === 0) continue;
    const issue = rejectedWith(decode(ecg.subarray(0, 10 + cut)), DECODE_ERRORS.SHORT);
    assert.equal(issue.byteOffset, 10 + 3 * Math.floor(cut / 3), `cut ${cut}: ${issue.message}`);
  }
  assert.equal(rejectedWith(decode(ecg.subarray(0, 10)), DECODE_ERRORS.SHORT).byteOffset, 10);
  const acc = frame(2, 1n, 1, ints([1, 2, 3, 4, 5, 6], 2));
  const issue = rejectedWith(decode(acc.subarray(0, 10 + 11)), DECODE_ERRORS.SHORT);
  assert.equal(issue.byteOffset, 16);
  assert.match(issue.message, /ACC sample 1 at byte 16 needs 6 bytes \(3 axes of 2\); the frame has 5/);
  assert.equal(rejectedWith(decode(frame(2, 1n, 2, ints([1, 2], 3))), DECODE_ERRORS.SHORT).byteOffset, 10);
});

test('delta frames: a cut reference, a cut block, a missing count, and widths 0 or over 32', () => {
  const ok = deltaContent([1, 2, 3], [{ width: 4, deltas: [[1, 2, 3], [-1, -2, -3]] }]);
  // Reference cut: SHORT at 10.
  for (let n = 0; n < 6; n++) assert.equal(rejectedWith(decode(frame(2, 1n, 0x81, ok.slice(0, n))), DECODE_ERRORS.SHORT).byteOffset, 10);
  // Width byte without count: SHORT at the count's place (17).
  assert.equal(rejectedWith(decode(frame(2, 1n, 0x81, ok.slice(0, 7))), DECODE_ERRORS.SHORT).byteOffset, 17);
  // Block data cut (2 samples x 3 x 4 bits = 3 bytes): SHORT at the block (16).
  for (const n of [8, 9, 10]) {
    const issue = rejectedWith(decode(frame(2, 1n, 0x81, ok.slice(0, n))), DECODE_ERRORS.SHORT);
    assert.equal(issue.byteOffset, 16, issue.message);
  }
  assert.equal(clean(decode(frame(2, 1n, 0x81, ok))).rows.length, 3);
  for (const width of [0, 33, 64, 255]) {
    const bad = [...ok.slice(0, 6), width, 1, 0, 0, 0, 0, 0];
    const issue = rejectedWith(decode(frame(2, 1n, 0x81, bad)), DECODE_ERRORS.INVALID);
    assert.equal(issue.byteOffset, 16);
    assert.match(issue.message, new RegExp(`bit width ${width} is outside 1 to 32`));
  }
  // A second block with a bad width after a good one: still refused, at the second block.
  const second = [...ok, 0, 3];
  assert.equal(rejectedWith(decode(frame(2, 1n, 0x81, second)), DECODE_ERRORS.INVALID).byteOffset, 10 + ok.length);
});

test('every prefix of a delta frame is either the frame up to a block boundary or DECODE_SHORT', () => {
  fc.assert(fc.property(fc.tuple(int16, int16, int16), fc.array(deltaBlock, { minLength: 1, maxLength: 4 }), fc.nat(), (ref, blocks, pick) => {
    const full = frame(2, 5n, 0x81, deltaContent(ref, blocks));
    const all = integrate(ref, blocks);
    const cut = 10 + (pick % (full.length - 10));
    const p = decode(full.subarray(0, cut));
    if (p.errors.length === 0) {
      const got = rowsMg(p);
      assert.deepEqual(got, all.slice(0, got.length));
    } else {
      rejectedWith(p, DECODE_ERRORS.SHORT);
    }
  }), { numRuns: 500 });
});

// ---- Never throws ----

function checkAnyPacket(p: DecodedPacket): void {
  if (p.errors.length > 0) {
    assert.ok(isRejected(p));
    assert.equal(p.errors.length, 1);
    assert.ok([DECODE_ERRORS.SHORT, DECODE_ERRORS.INVALID].includes(p.errors[0]!.code as 'DECODE_SHORT'), p.errors[0]!.code);
    assert.equal(typeof p.errors[0]!.byteOffset, 'number');
    return;
  }
  assert.ok(p.rows.length > 0);
  let last = -Infinity;
  for (const row of p.rows) {
    for (const [k, v] of Object.entries(row)) assert.ok(typeof v === 'number' && Number.isFinite(v), `${k}=${String(v)}`);
    assert.ok(num(row, 't_ms') > last);
    last = num(row, 't_ms');
  }
}

test('fuzz: random bytes, and random bytes behind every header this decoder knows, never throw', () => {
  const decoders = [decode, polarPmd.compile({ acc_factor: 0.001, ecg_rate_hz: 130, acc_rate_hz: 50 })];
  fc.assert(fc.property(fc.uint8Array({ maxLength: 260 }), (bytes) => {
    for (const d of decoders) checkAnyPacket(d(bytes));
  }), { numRuns: 3000 });
  fc.assert(fc.property(
    fc.constantFrom([0, 0], [0, 1], [2, 0], [2, 1], [2, 2], [2, 0x80], [2, 0x81], [2, 0x83]),
    fc.uint8Array({ minLength: 8, maxLength: 8 }),
    fc.uint8Array({ maxLength: 244 }),
    ([m, t], ts, body) => {
      const bytes = new Uint8Array([m!, ...ts, t!, ...body]);
      for (const d of decoders) checkAnyPacket(d(bytes));
    }), { numRuns: 3000 });
});

// ---- The built-in ----

test('the built-in: its name, fields and options', () => {
  assert.equal(polarPmd.name, 'polar/pmd');
  assert.deepEqual(polarPmd.fields, { values: ['measurement', 'frame_type', 'frame_time_ms'], rows: ['ecg', 'acc_x', 'acc_y', 'acc_z', 't_ms'] });
  assert.throws(() => polarPmd.compile({ acc_range_g: 8 }), /polar\/pmd: unknown option 'acc_range_g'; known: ecg_rate_hz, acc_rate_hz, acc_factor/);
  for (const bad of [0, -1, '130', Number.NaN, Number.POSITIVE_INFINITY, null]) {
    assert.throws(() => polarPmd.compile({ ecg_rate_hz: bad }), /option 'ecg_rate_hz' must be a positive number/);
    assert.throws(() => polarPmd.compile({ acc_factor: bad }), /option 'acc_factor' must be a positive number/);
  }
});

test('a profile naming polar/pmd: channels from rows, device times from t_ms, timed as Unix times', () => {
  if (!builtinDecoder('polar/pmd')) registerDecoder(polarPmd);
  const r = parseProfile(`id: t/polar-h10
version: 1.0.0
title: t
transport: ble
ble:
  subscribe: [fb005c82-02e7-f387-1cad-8acd2d8df0c8]
  write:
    - { characteristic: fb005c81-02e7-f387-1cad-8acd2d8df0c8, hex: '02 00 00 01 82 00 01 01 0E 00' }
channels:
  - { name: ecg, unit: mV, modality: cardiac, rate_hz: 130 }
  - { name: acc_x, unit: '[g]', modality: motion, rate_hz: 200 }
decode:
  source: fb005c82-02e7-f387-1cad-8acd2d8df0c8
  builtin: { name: polar/pmd }
  time: { field: t_ms, unit: ms, kind: unix }
examples:
  - name: SDK ECG frame
    hex: '00 00 94 35 77 00 00 00 00 00 02 80 FF 02 80 00'
    samples: [{ channel: ecg, value: -32.766 }, { channel: ecg, value: 32.77 }]
  - { name: unknown type, hex: '01 00 00 00 00 00 00 00 00 00 00 00 00', rejected: DECODE_INVALID }
`, 'polar.yaml');
  assert.ok('profile' in r, 'problems' in r ? r.problems.map((p) => p.toLine()).join('\n') : '');
  const profile = r.profile;
  const lastMs = Date.UTC(2025, 3, 1, 10);
  const d = profile.decode(frame(2, pmdNs(lastMs), 1, ints([100, 0, 0, -200, 0, 0], 2)));
  assert.deepEqual(d.samples.map((s) => [s.channel, s.value, s.row]), [['acc_x', 0.1, 0], ['acc_x', -0.2, 1]]);
  assert.deepEqual(d.deviceTimes, [lastMs - 5, lastMs]);
  const timed = new SampleTimer(profile).time(d, { monoMs: 5000, wallMs: lastMs + 40 });
  assert.deepEqual(timed.map((s) => s.wallMs), [lastMs - 5, lastMs]);
});

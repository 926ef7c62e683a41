/**
 * Polar Measurement Data (PMD): the Polar H10's ECG and accelerometer streams, and the control
 * point commands that start and stop them.
 *
 * Where the format comes from (read at the source; no code copied):
 * - [SPEC] "Polar Measurement Data Specification for 3rd Party", polarofficial/polar-ble-sdk,
 *   technical_documentation/Polar_Measurement_Data_Specification.pdf (commit 0d58c747, 2023):
 *   UUIDs, measurement types, control point error codes, ACC/ECG frame types, the delta frame
 *   example (Verity Sense), and sequence diagrams with H10 bytes: settings request `01 02` ->
 *   `F0 01 02 00 00 00 04 19 00 32 00 64 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00`; ECG
 *   settings `01 00` -> `F0 01 00 00 00 00 01 82 00 01 01 0E 00`; ACC start
 *   `02 02 02 01 08 00 00 01 C8 00 01 01 10 00` -> `F0 02 02 00 00 01`; stop `03 02` ->
 *   `F0 03 02 00 00`; an H10 ACC data frame whose timestamp is "last sample timestamp in
 *   nanoseconds".
 * - [ONLINE] "Polar Measurement Data", same repository, technical_documentation/
 *   online_measurement.pdf (v1.0, August 2024): the data frame layout (type byte 0, timestamp
 *   bytes 1..8, frame type byte 9, content from byte 10), the 0x80 "compressed" bit of the frame
 *   type and its 0x7F type mask, the 0x3F measurement type mask, the settings TLV sizes (types
 *   0, 1, 2 are uint16, 4 is uint8, 5 is an IEEE-754 float32), the 2000-01-01T00:00:00Z epoch
 *   in nanoseconds, and the delta compression (reference sample, then blocks of bit width,
 *   sample count and packed deltas).
 * - [SDK] polar-ble-sdk Android sources (PmdDataFrame.kt, BlePMDClient.kt parseDeltaFramesAll,
 *   AccData.kt, EcgData.kt, PmdTimeStampUtils.kt, PmdControlPointResponse.kt, PmdSetting.kt):
 *   the timestamp is little-endian, it is the time of the LAST sample of the frame and the
 *   others are spaced by 1/rate before it; deltas are read LSB first across the block, channel
 *   by channel within a sample, each block padded to a whole byte; the control point response is
 *   F0, op code, type, status, then (on success) a "more" byte and parameters.
 * - [TIME] polar-ble-sdk documentation/TimeSystemExplained.md: epoch 2000-01-01T00:00:00Z, offset
 *   to the Unix epoch 946684800000000000 ns; an H10 that was switched off restarts its clock at
 *   2019-01-01, and the SDK sets the device clock to LOCAL time, so a PMD timestamp is Unix time
 *   only when the clock was set in UTC.
 * - bleakheart (fsmeraldi/bleakheart, src/bleakheart/core.py), an independent decoder: the H10
 *   sends ACC frame type 0x01 and ECG frame type 0x00; its timestamps are those of the last sample.
 *
 * Decoding (`polar/pmd`, one decoder for the PMD data characteristic; the frame says its type):
 * - ECG (measurement 0), frame type 0: 3-byte little-endian signed samples in µV -> row `ecg` in mV.
 * - ACC (measurement 2): raw frame types 0, 1, 2 (int8, int16, int24 per axis, mg) and the
 *   delta-compressed 0x81 (16-bit reference, mg) -> rows `acc_x`, `acc_y`, `acc_z` in g.
 *   Delta-compressed 0x80 (the Verity Sense's) holds counts that only the device's conversion
 *   factor (settings type 5 in its start response) turns into g: it is decoded only when the
 *   `acc_factor` option gives that factor, and rejected otherwise.
 * - Every row has `t_ms`: its time in Unix ms, from the frame timestamp (the last row) and the
 *   nominal rate (`ecg_rate_hz`, default 130; `acc_rate_hz`, default 200), the rate not being in
 *   the frame. Per packet: `measurement` (0 or 2), `frame_type` (byte 9 as sent) and
 *   `frame_time_ms` (the last sample's time in Unix ms: a uint64 of nanoseconds is not a safe
 *   JavaScript number, its value in ms is).
 * Bad bytes are data: nothing here throws on what a device sends.
 */
import { DECODE_ERRORS, rejected, type DecodedPacket, type DecodedValues, type PacketDecoder } from '../decoded.js';
import { checkNoOptionsBut } from './decoder-options.js';
import type { BuiltinDecoder } from './registry.js';

/** [SPEC] GATT service and characteristics. */
export const PMD_SERVICE_UUID = 'fb005c80-02e7-f387-1cad-8acd2d8df0c8';
export const PMD_CONTROL_POINT_UUID = 'fb005c81-02e7-f387-1cad-8acd2d8df0c8';
export const PMD_DATA_UUID = 'fb005c82-02e7-f387-1cad-8acd2d8df0c8';

/** [SPEC] PMD measurement types this module speaks. */
export const PMD_MEASUREMENT = { ecg: 0x00, acc: 0x02 } as const;
export type PmdMeasurementName = keyof typeof PMD_MEASUREMENT;

/** [SPEC] Control point op codes (client to device). */
export const PMD_OP = { getSettings: 0x01, start: 0x02, stop: 0x03 } as const;

/** [SDK] First byte of a control point response indication. */
export const PMD_RESPONSE_CODE = 0xf0;
/** [SDK] First byte of a device-initiated indication: "online measurement stopped", then the types. */
export const PMD_DEVICE_STOPPED_CODE = 0x01;

/** Unix ms at the PMD epoch 2000-01-01T00:00:00Z ([ONLINE], [TIME]). */
export const PMD_EPOCH_UNIX_MS = 946_684_800_000;

/**
 * [SPEC] Control point error codes, by value. 14 is not in the 2021 specification (RFU there);
 * the SDK (PmdControlPointResponse.kt) names it ERROR_DISK_FULL.
 */
export const PMD_STATUS_NAMES: readonly string[] = [
  'SUCCESS',
  'ERROR_INVALID_OP_CODE',
  'ERROR_INVALID_MEASUREMENT_TYPE',
  'ERROR_NOT_SUPPORTED',
  'ERROR_INVALID_LENGTH',
  'ERROR_INVALID_PARAMETER',
  'ERROR_ALREADY_IN_STATE',
  'ERROR_INVALID_RESOLUTION',
  'ERROR_INVALID_SAMPLE_RATE',
  'ERROR_INVALID_RANGE',
  'ERROR_INVALID_MTU',
  'ERROR_INVALID_NUMBER_OF_CHANNELS',
  'ERROR_INVALID_STATE',
  'ERROR_DEVICE_IN_CHARGER',
  'ERROR_DISK_FULL',
];

/** The name of a control point status: its name in the specification, or `RFU_<n>`. */
export function pmdStatusName(status: number): string {
  return PMD_STATUS_NAMES[status] ?? `RFU_${status}`;
}

/** [SPEC] Settings types of the start command and of settings responses. */
export const PMD_SETTING = { sampleRate: 0x00, resolution: 0x01, range: 0x02, rangeMilliUnit: 0x03, channels: 0x04, factor: 0x05, security: 0x06 } as const;

/**
 * What a Polar H10 supports, from its own settings responses in the specification's sequence
 * diagrams ([SPEC] "Request Stream Settings"): ECG 130 Hz at 14 bits; ACC 25, 50, 100 or 200 Hz,
 * 16 bits, range 2, 4 or 8 g.
 */
export const H10_SETTINGS = {
  ecg: { sampleRateHz: [130], resolutionBits: [14] },
  acc: { sampleRateHz: [25, 50, 100, 200], resolutionBits: [16], rangeG: [2, 4, 8] },
} as const;

export interface PmdStartSettings {
  readonly sampleRateHz: number;
  readonly resolutionBits: number;
  /** ACC only. */
  readonly rangeG?: number;
}

function oneOf(what: string, value: unknown, allowed: readonly number[], type: PmdMeasurementName): number {
  if (typeof value !== 'number' || !allowed.includes(value)) {
    throw new TypeError(`polar/pmd ${type} start: ${what} must be one of ${allowed.join(', ')} on a Polar H10, not ${JSON.stringify(value)}`);
  }
  return value;
}

/** One setting as the start command carries it: type, array length 1, uint16 little-endian. */
const setting16 = (type: number, value: number): number[] => [type, 1, value & 0xff, value >>> 8];

/**
 * The bytes to write to the PMD control point to start a stream: op code 0x02, the measurement
 * type, then each setting as (type, count 1, uint16 LE). The settings are in the order of the
 * specification's H10 example (range, sample rate, resolution), so the ACC command for 200 Hz,
 * 16 bits, 8 g is exactly the documented `02 02 02 01 08 00 00 01 C8 00 01 01 10 00`; the device
 * reads them as a list of types, in any order ([SPEC] shows the Verity Sense's in type order).
 * Values the H10 does not support throw a TypeError (a configuration mistake, found before
 * anything is written).
 */
export function pmdStartCommand(type: PmdMeasurementName, settings: PmdStartSettings): Uint8Array {
  if (type !== 'ecg' && type !== 'acc') throw new TypeError(`polar/pmd start: the measurement is 'ecg' or 'acc', not ${JSON.stringify(type)}`);
  const supported = H10_SETTINGS[type];
  const rate = oneOf('sampleRateHz', settings.sampleRateHz, supported.sampleRateHz, type);
  const resolution = oneOf('resolutionBits', settings.resolutionBits, supported.resolutionBits, type);
  const out: number[] = [PMD_OP.start, PMD_MEASUREMENT[type]];
  if (type === 'acc') {
    out.push(...setting16(PMD_SETTING.range, oneOf('rangeG', settings.rangeG, H10_SETTINGS.acc.rangeG, type)));
  } else if (settings.rangeG !== undefined) {
    throw new TypeError('polar/pmd ecg start: ECG takes no rangeG (the H10 offers no range setting for ECG)');
  }
  out.push(...setting16(PMD_SETTING.sampleRate, rate), ...setting16(PMD_SETTING.resolution, resolution));
  return Uint8Array.from(out);
}

/** The bytes that stop a stream: op code 0x03, the measurement type ([SPEC] "Stop Stream": `03 02`). */
export function pmdStopCommand(type: PmdMeasurementName): Uint8Array {
  if (type !== 'ecg' && type !== 'acc') throw new TypeError(`polar/pmd stop: the measurement is 'ecg' or 'acc', not ${JSON.stringify(type)}`);
  return Uint8Array.of(PMD_OP.stop, PMD_MEASUREMENT[type]);
}

/** The bytes that ask which settings a stream offers: op code 0x01, the measurement type ([SPEC]: `01 02`). */
export function pmdGetSettingsCommand(type: PmdMeasurementName): Uint8Array {
  if (type !== 'ecg' && type !== 'acc') throw new TypeError(`polar/pmd settings: the measurement is 'ecg' or 'acc', not ${JSON.stringify(type)}`);
  return Uint8Array.of(PMD_OP.getSettings, PMD_MEASUREMENT[type]);
}

/** A control point response: the answer to a command. */
export interface PmdControlResponse {
  readonly kind: 'response';
  /** The op code it answers (0x01 settings, 0x02 start, 0x03 stop). */
  readonly opCode: number;
  /** The measurement type byte as the device sent it (0 ECG, 2 ACC). */
  readonly type: number;
  /** 0 = success; else an error code (see statusName). */
  readonly status: number;
  readonly statusName: string;
  readonly ok: boolean;
  /** Success only: more response indications follow with further parameters. */
  readonly more: boolean;
  /** Success only: the bytes after the "more" byte (settings TLVs for 0x01; for 0x02 maybe a factor). */
  readonly parameters: Uint8Array;
}

/** The device stopped streams on its own ([SDK] PmdControlPointCommandServiceToClient 0x01). */
export interface PmdDeviceStopped {
  readonly kind: 'stopped';
  readonly types: readonly number[];
}

/** Bytes that are not a control point message this module knows. */
export interface PmdControlInvalid {
  readonly kind: 'invalid';
  readonly reason: string;
}

export type PmdControlMessage = PmdControlResponse | PmdDeviceStopped | PmdControlInvalid;

const hex2 = (b: number): string => `0x${b.toString(16).padStart(2, '0').toUpperCase()}`;

/**
 * Reads an indication of the PMD control point: a response (F0, op code, type, status, and on
 * success a "more" byte and parameters), or the device's own "measurement stopped" message.
 * Never throws; bytes it cannot read come back as `{ kind: 'invalid', reason }`.
 */
export function parsePmdControlResponse(bytes: Uint8Array): PmdControlMessage {
  if (bytes.length === 0) return { kind: 'invalid', reason: 'an empty control point message' };
  const code = bytes[0]!;
  if (code === PMD_DEVICE_STOPPED_CODE) return { kind: 'stopped', types: Array.from(bytes.subarray(1)) };
  if (code !== PMD_RESPONSE_CODE) return { kind: 'invalid', reason: `byte 0 is ${hex2(code)}, neither a response (0xF0) nor a device stop (0x01)` };
  if (bytes.length < 4) return { kind: 'invalid', reason: `a response needs 4 bytes (F0, op code, type, status); this one has ${bytes.length}` };
  const status = bytes[3]!;
  const ok = status === 0;
  return {
    kind: 'response',
    opCode: bytes[1]!,
    type: bytes[2]!,
    status,
    statusName: pmdStatusName(status),
    ok,
    more: ok && bytes.length > 4 && bytes[4] !== 0,
    parameters: ok && bytes.length > 5 ? bytes.slice(5) : new Uint8Array(0),
  };
}

/** Settings read from response parameters: each setting type with the values offered (or chosen). */
export interface PmdSettings {
  readonly sampleRateHz?: readonly number[];
  readonly resolutionBits?: readonly number[];
  readonly rangeG?: readonly number[];
  readonly rangeMilliUnit?: readonly number[];
  readonly channels?: readonly number[];
  /** The conversion factor(s), IEEE-754 float32. */
  readonly factor?: readonly number[];
}

const SETTING_KEYS: ReadonlyArray<readonly [keyof PmdSettings | 'security', number]> = [
  ['sampleRateHz', 2], ['resolutionBits', 2], ['rangeG', 2], ['rangeMilliUnit', 4], ['channels', 1], ['factor', 4], ['security', 16],
];

/**
 * Reads settings TLVs (type, count, then count values of the type's size, little-endian), as a
 * settings response or a start response carries them ([ONLINE] table 5; [SDK] PmdSetting.kt).
 * Returns `{ error }` for bytes it cannot read; never throws.
 */
export function parsePmdSettings(parameters: Uint8Array): PmdSettings | { readonly error: string } {
  const out: Record<string, number[]> = {};
  const view = new DataView(parameters.buffer, parameters.byteOffset, parameters.byteLength);
  let at = 0;
  while (at < parameters.length) {
    const type = parameters[at]!;
    const entry = SETTING_KEYS[type];
    if (entry === undefined) return { error: `unknown setting type ${hex2(type)} at byte ${at}` };
    if (at + 1 >= parameters.length) return { error: `setting type ${hex2(type)} at byte ${at} has no count` };
    const [key, size] = entry;
    const count = parameters[at + 1]!;
    at += 2;
    if (at + count * size > parameters.length) return { error: `setting type ${hex2(type)} needs ${count * size} bytes at byte ${at}; ${parameters.length - at} left` };
    const values = (out[key] ??= []);
    for (let i = 0; i < count; i++, at += size) {
      if (key === 'security') continue;
      values.push(size === 1 ? view.getUint8(at) : size === 2 ? view.getUint16(at, true) : key === 'factor' ? view.getFloat32(at, true) : view.getUint32(at, true));
    }
  }
  delete out['security'];
  return out;
}

// ---- Data frames ----

/** [ONLINE] table 6: measurement type, 8-byte timestamp, frame type; content from byte 10. */
const HEADER_BYTES = 10;
/** [ONLINE] 4.2.9: measurement type = byte 0 AND 0x3F; frame type = byte 9 AND 0x7F; compressed = byte 9 AND 0x80. */
const MEASUREMENT_MASK = 0x3f;
const COMPRESSED_BIT = 0x80;
const FRAME_TYPE_MASK = 0x7f;
/** ACC has three channels (x, y, z). */
const AXES = 3;
/**
 * Resolution of the reference sample of a compressed ACC frame. Both compressed ACC types are
 * 16-bit: the SDK decodes 0x80 and 0x81 with resolution 16 (AccData.kt), the specification's
 * Verity Sense example is 16-bit, and the H10 offers only 16 bits.
 */
const ACC_DELTA_RESOLUTION_BITS = 16;
/** Widest delta this decoder reads; wider blocks are refused. */
const MAX_DELTA_BITS = 32;

const MEASUREMENT_NAMES: Readonly<Record<number, string>> = { 0: 'ECG', 1: 'PPG', 2: 'ACC', 3: 'PPI', 5: 'gyroscope', 6: 'magnetometer' };

export interface PolarPmdOptions {
  /** ECG sample rate (Hz) for row times; default 130, the H10's only ECG rate. */
  readonly ecgRateHz: number;
  /** ACC sample rate (Hz) for row times; default 200: it must match the start command. */
  readonly accRateHz: number;
  /** g per count for delta frames of type 0x80 (settings type 5 of the device's start response); none: such frames are rejected. */
  readonly accFactor: number | undefined;
}

export const POLAR_PMD_DEFAULTS = { ecg_rate_hz: 130, acc_rate_hz: 200 } as const;

/** A packet's samples before times: the rows' own fields, oldest first. */
type Rows = DecodedValues[];

/** Little-endian two's complement integer of `size` bytes (1 to 3) at `at`; the caller checked the length. */
function signedLe(bytes: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + bytes[at + i]!;
  const half = 2 ** (8 * size - 1);
  return v >= half ? v - 2 * half : v;
}

/** Unix ms of the frame timestamp (uint64 LE ns since 2000-01-01T00:00:00Z at bytes 1..8), exactly to the ns before rounding to a double. */
function frameTimeMs(bytes: Uint8Array): number {
  let ns = 0n;
  for (let i = 8; i >= 1; i--) ns = (ns << 8n) | BigInt(bytes[i]!);
  return Number(ns / 1_000_000n) + PMD_EPOCH_UNIX_MS + Number(ns % 1_000_000n) / 1e6;
}

function short(message: string, byteOffset: number, field?: string): DecodedPacket {
  return rejected(DECODE_ERRORS.SHORT, message, field === undefined ? { byteOffset } : { field, byteOffset });
}

function invalid(message: string, byteOffset: number, field?: string): DecodedPacket {
  return rejected(DECODE_ERRORS.INVALID, message, field === undefined ? { byteOffset } : { field, byteOffset });
}

/** ECG frame type 0 ([SPEC] "Frame types ECG": 3 B, µV): one signed 24-bit LE sample every 3 bytes. */
function ecgRaw(bytes: Uint8Array): Rows | DecodedPacket {
  const content = bytes.length - HEADER_BYTES;
  if (content === 0) return short('ECG frame has no samples: it ends at byte 10, after its header', HEADER_BYTES, 'ecg');
  const whole = Math.floor(content / 3);
  if (whole * 3 !== content) {
    const at = HEADER_BYTES + whole * 3;
    return short(`ECG sample ${whole} at byte ${at} needs 3 bytes; the frame has ${bytes.length - at}`, at, 'ecg');
  }
  const rows: Rows = new Array(whole);
  for (let i = 0; i < whole; i++) rows[i] = { ecg: signedLe(bytes, HEADER_BYTES + 3 * i, 3) / 1000 };
  return rows;
}

/** ACC raw frame types 0, 1, 2 ([SPEC] "Frame types ACC"): x, y, z signed LE of 1, 2 or 3 bytes each, in mg. */
function accRaw(bytes: Uint8Array, size: number): Rows | DecodedPacket {
  const step = AXES * size;
  const content = bytes.length - HEADER_BYTES;
  if (content === 0) return short('ACC frame has no samples: it ends at byte 10, after its header', HEADER_BYTES, 'acc_x');
  const whole = Math.floor(content / step);
  if (whole * step !== content) {
    const at = HEADER_BYTES + whole * step;
    return short(`ACC sample ${whole} at byte ${at} needs ${step} bytes (3 axes of ${size}); the frame has ${bytes.length - at}`, at, 'acc_x');
  }
  const rows: Rows = new Array(whole);
  for (let i = 0, at = HEADER_BYTES; i < whole; i++, at += step) {
    rows[i] = { acc_x: signedLe(bytes, at, size) / 1000, acc_y: signedLe(bytes, at + size, size) / 1000, acc_z: signedLe(bytes, at + 2 * size, size) / 1000 };
  }
  return rows;
}

/**
 * A delta-compressed ACC frame ([ONLINE] 4.3.2-4.3.3, [SPEC] delta frame example, [SDK]
 * parseDeltaFramesAll): a reference sample (3 axes, signed LE, 16 bits each), then blocks of
 * [bit width: u8][sample count: u8][count x 3 deltas of `width` bits, packed LSB first from the
 * block's first byte, x then y then z per sample, the block padded to a whole byte]. Each delta
 * is two's complement in `width` bits and is added to the previous sample. `toG` turns counts
 * into g.
 */
function accDelta(bytes: Uint8Array, toG: (counts: number) => number): Rows | DecodedPacket {
  const refSize = ACC_DELTA_RESOLUTION_BITS / 8;
  const refEnd = HEADER_BYTES + AXES * refSize;
  if (bytes.length < refEnd) {
    return short(`the reference sample of a delta frame needs ${AXES * refSize} bytes from byte 10; the frame has ${bytes.length - HEADER_BYTES}`, HEADER_BYTES, 'acc_x');
  }
  let x = signedLe(bytes, HEADER_BYTES, refSize);
  let y = signedLe(bytes, HEADER_BYTES + refSize, refSize);
  let z = signedLe(bytes, HEADER_BYTES + 2 * refSize, refSize);
  const rows: Rows = [{ acc_x: toG(x), acc_y: toG(y), acc_z: toG(z) }];
  let at = refEnd;
  while (at < bytes.length) {
    const width = bytes[at]!;
    if (width === 0 || width > MAX_DELTA_BITS) return invalid(`delta block at byte ${at}: bit width ${width} is outside 1 to ${MAX_DELTA_BITS}`, at, 'acc_x');
    if (at + 1 >= bytes.length) return short(`delta block at byte ${at} has no sample count (byte ${at + 1}); the frame ends there`, at + 1, 'acc_x');
    const count = bytes[at + 1]!;
    const data = at + 2;
    const blockBytes = Math.ceil((width * count * AXES) / 8);
    if (data + blockBytes > bytes.length) {
      return short(`delta block at byte ${at} (${count} samples x 3 axes x ${width} bits) needs ${blockBytes} bytes from byte ${data}; the frame has ${bytes.length - data}`, at, 'acc_x');
    }
    const full = 2 ** width;
    const half = full / 2;
    let bit = 0;
    const read = (): number => {
      // width bits, least significant first, from the bit stream that starts at `data`.
      let v = 0;
      for (let i = 0; i < width; i++, bit++) {
        if ((bytes[data + (bit >>> 3)]! >>> (bit & 7)) & 1) v += 2 ** i;
      }
      return v >= half ? v - full : v;
    };
    for (let s = 0; s < count; s++) {
      x += read();
      y += read();
      z += read();
      rows.push({ acc_x: toG(x), acc_y: toG(y), acc_z: toG(z) });
    }
    at = data + blockBytes;
  }
  return rows;
}

/** Adds each row's time: the last row at the frame time, the others one period apart before it. */
function timed(rows: Rows, lastMs: number, rateHz: number): Rows {
  const period = 1000 / rateHz;
  const last = rows.length - 1;
  for (let i = 0; i <= last; i++) rows[i]!['t_ms'] = lastMs - (last - i) * period;
  return rows;
}

const mgToG = (mg: number): number => mg / 1000;

/** The decoder, with its options read. */
export function compilePolarPmd(options: PolarPmdOptions): PacketDecoder {
  const { ecgRateHz, accRateHz, accFactor } = options;
  return (bytes) => {
    if (bytes.length < HEADER_BYTES) {
      return short(`a PMD frame has a 10-byte header (type, 8-byte timestamp, frame type); this packet has ${bytes.length} byte(s)`, bytes.length);
    }
    const measurement = bytes[0]! & MEASUREMENT_MASK;
    const frameType = bytes[9]!;
    const compressed = (frameType & COMPRESSED_BIT) !== 0;
    const type = frameType & FRAME_TYPE_MASK;
    let rows: Rows | DecodedPacket;
    let rate: number;
    if (measurement === PMD_MEASUREMENT.ecg) {
      if (compressed || type !== 0) return invalid(`ECG frame type ${hex2(frameType)} at byte 9 is not decoded; polar/pmd decodes ECG frame type 0x00 (24-bit µV)`, 9, 'frame_type');
      rows = ecgRaw(bytes);
      rate = ecgRateHz;
    } else if (measurement === PMD_MEASUREMENT.acc) {
      if (!compressed && type <= 2) {
        rows = accRaw(bytes, type + 1);
      } else if (compressed && type === 1) {
        rows = accDelta(bytes, mgToG);
      } else if (compressed && type === 0) {
        if (accFactor === undefined) {
          return invalid('ACC delta frame type 0x80 at byte 9 holds counts that only the device\'s conversion factor turns into g; set the option acc_factor', 9, 'frame_type');
        }
        rows = accDelta(bytes, (counts) => counts * accFactor);
      } else {
        return invalid(`ACC frame type ${hex2(frameType)} at byte 9 is not decoded; polar/pmd decodes 0x00, 0x01, 0x02 (raw 8, 16, 24 bits), 0x80 and 0x81 (delta)`, 9, 'frame_type');
      }
      rate = accRateHz;
    } else {
      const name = MEASUREMENT_NAMES[measurement];
      return invalid(`measurement type ${hex2(bytes[0]!)}${name ? ` (${name})` : ''} at byte 0 is not decoded; polar/pmd decodes ECG (0x00) and ACC (0x02)`, 0, 'measurement');
    }
    if (!Array.isArray(rows)) return rows as DecodedPacket;
    const frameMs = frameTimeMs(bytes);
    return { values: { measurement, frame_type: frameType, frame_time_ms: frameMs }, rows: timed(rows, frameMs, rate), errors: [] };
  };
}

function positiveOption(options: Readonly<Record<string, unknown>>, key: string, fallback: number | undefined): number | undefined {
  const v = options[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new TypeError(`polar/pmd: option '${key}' must be a positive number, not ${JSON.stringify(v)}`);
  return v;
}

export const polarPmd: BuiltinDecoder = {
  name: 'polar/pmd',
  summary: 'Polar Measurement Data (H10): ECG (µV -> mV) and ACC (mg -> g, raw and delta-compressed) frames, per-sample Unix times',
  fields: { values: ['measurement', 'frame_type', 'frame_time_ms'], rows: ['ecg', 'acc_x', 'acc_y', 'acc_z', 't_ms'] },
  compile(options) {
    checkNoOptionsBut(options, ['ecg_rate_hz', 'acc_rate_hz', 'acc_factor'], this.name);
    return compilePolarPmd({
      ecgRateHz: positiveOption(options, 'ecg_rate_hz', POLAR_PMD_DEFAULTS.ecg_rate_hz)!,
      accRateHz: positiveOption(options, 'acc_rate_hz', POLAR_PMD_DEFAULTS.acc_rate_hz)!,
      accFactor: positiveOption(options, 'acc_factor', undefined),
    });
  },
};

/**
 * Bluetooth SIG health characteristics, as the GATT Specification Supplement defines them:
 * Heart Rate Measurement (0x2A37), PLX Spot-check Measurement (0x2A5E), PLX Continuous
 * Measurement (0x2A5F) and Temperature Measurement (0x2A1C). Their fields come and go with flag
 * bits and carry IEEE-11073 SFLOAT/FLOAT values, which is why they are decoders, not layouts.
 *
 * Every multi-byte field is little-endian. A packet shorter than its flags say is rejected
 * (DECODE_SHORT), one longer too (DECODE_TRAILING), except where the specification lets a list
 * run to the end (RR intervals). An IEEE-11073 special value (NaN, NRes, +/-INFINITY, RESERVED)
 * drops that value with DECODE_SPECIAL_VALUE naming it; the others are kept.
 */
import { DECODE_ERRORS, rejected, type DecodedPacket, type DecodedValue, type DecodeIssue, type PacketDecoder } from '../decoded.js';
import { checkNoOptionsBut } from './decoder-options.js';
import { describeIeee11073, readFloat, readSfloat } from './ieee11073-float.js';
import type { BuiltinDecoder } from './registry.js';

/** Reads fields in order; the first that does not fit ends the packet with a rejection. */
class Fields {
  readonly values: Record<string, DecodedValue> = {};
  readonly errors: DecodeIssue[] = [];
  at = 0;
  short: DecodedPacket | undefined;

  constructor(readonly bytes: Uint8Array, readonly characteristic: string) {}

  #need(n: number, field: string, type: string): boolean {
    if (this.short) return false;
    if (this.at + n <= this.bytes.length) return true;
    this.short = rejected(DECODE_ERRORS.SHORT, `${this.characteristic}: field '${field}' (${type}) needs ${n} byte(s) at byte ${this.at}; the packet has ${this.bytes.length}`, { field, byteOffset: this.at });
    return false;
  }

  uint(n: 1 | 2 | 3 | 4, field: string): number | undefined {
    if (!this.#need(n, field, `uint${n * 8}`)) return undefined;
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + this.bytes[this.at + i]!;
    this.at += n;
    return v;
  }

  /** An SFLOAT or FLOAT into `values[field]`, or an error for a special value. */
  ieee(width: 2 | 4, field: string, convert: (x: number) => number = (x) => x): void {
    if (!this.#need(width, field, width === 2 ? 'SFLOAT' : 'FLOAT')) return;
    const r = width === 2 ? readSfloat(this.bytes, this.at) : readFloat(this.bytes, this.at);
    if (typeof r === 'number') this.values[field] = convert(r);
    else this.errors.push({ code: DECODE_ERRORS.SPECIAL_VALUE, message: `${this.characteristic}: field '${field}' at byte ${this.at} is ${describeIeee11073(r)}`, field, byteOffset: this.at });
    this.at += width;
  }

  skip(n: number, field: string): void {
    if (this.#need(n, field, `${n} bytes`)) this.at += n;
  }

  /** The packet as decoded: rejected if a field ran short or bytes are left over. */
  done(): DecodedPacket {
    if (this.short) return this.short;
    if (this.at < this.bytes.length) {
      return rejected(DECODE_ERRORS.TRAILING, `${this.characteristic}: ${this.bytes.length - this.at} byte(s) left after the last field its flags announce, at byte ${this.at}`, { byteOffset: this.at });
    }
    return { values: this.values, rows: [], errors: this.errors };
  }
}

function empty(characteristic: string): DecodedPacket {
  return rejected(DECODE_ERRORS.SHORT, `${characteristic}: an empty packet has no flags byte`, { field: 'flags', byteOffset: 0 });
}

/**
 * Heart Rate Measurement. Flags: bit 0 heart rate as uint16 (else uint8); bit 2 sensor contact
 * supported, bit 1 contact detected (meaningful only when supported: `contact` is absent
 * otherwise); bit 3 energy expended (uint16, kJ) present; bit 4 RR intervals present (uint16
 * each, in 1/1024 s, as many as fit: converted to ms).
 */
export const decodeHeartRate: PacketDecoder = (bytes) => {
  const name = 'Heart Rate Measurement';
  if (bytes.length === 0) return empty(name);
  const f = new Fields(bytes, name);
  const flags = f.uint(1, 'flags')!;
  const hr = f.uint(flags & 0x01 ? 2 : 1, 'hr');
  if (hr !== undefined) f.values.hr = hr;
  if (flags & 0x04) f.values.contact = (flags & 0x02) !== 0;
  if (flags & 0x08) {
    const energy = f.uint(2, 'energy_expended');
    if (energy !== undefined) f.values.energy_expended = energy;
  }
  if (flags & 0x10 && !f.short) {
    const left = bytes.length - f.at;
    if (left % 2 !== 0) return rejected(DECODE_ERRORS.TRAILING, `${name}: RR intervals are 2 bytes each; ${left} byte(s) are left at byte ${f.at}`, { field: 'rr', byteOffset: f.at });
    const rr: number[] = [];
    while (f.at < bytes.length) rr.push((f.uint(2, 'rr')! * 1000) / 1024);
    f.values.rr = rr;
  }
  return f.done();
};

/**
 * PLX Spot-check Measurement. Flags: bit 0 timestamp (7 bytes) present, bit 1 measurement status
 * (uint16) present, bit 2 device and sensor status (uint24) present, bit 3 pulse amplitude index
 * (SFLOAT) present, bit 4 device clock not set. Always: SpO2 (SFLOAT, %) and PR (SFLOAT, /min).
 */
export const decodePlxSpotCheck: PacketDecoder = (bytes) => {
  const name = 'PLX Spot-check Measurement';
  if (bytes.length === 0) return empty(name);
  const f = new Fields(bytes, name);
  const flags = f.uint(1, 'flags')!;
  f.ieee(2, 'spo2');
  f.ieee(2, 'pulse_rate');
  if (flags & 0x01) f.skip(7, 'timestamp');
  if (flags & 0x02) f.skip(2, 'measurement_status');
  if (flags & 0x04) f.skip(3, 'device_and_sensor_status');
  if (flags & 0x08) f.ieee(2, 'pulse_amplitude_index');
  return f.done();
};

/**
 * PLX Continuous Measurement. Flags: bit 0 SpO2PR-Fast present, bit 1 SpO2PR-Slow present,
 * bit 2 measurement status (uint16), bit 3 device and sensor status (uint24), bit 4 pulse
 * amplitude index (SFLOAT). Always first: SpO2PR-Normal (SpO2 and PR, SFLOAT each). The fast and
 * slow averages are read past: the normal one is the measurement.
 */
export const decodePlxContinuous: PacketDecoder = (bytes) => {
  const name = 'PLX Continuous Measurement';
  if (bytes.length === 0) return empty(name);
  const f = new Fields(bytes, name);
  const flags = f.uint(1, 'flags')!;
  f.ieee(2, 'spo2');
  f.ieee(2, 'pulse_rate');
  if (flags & 0x01) f.skip(4, 'spo2pr_fast');
  if (flags & 0x02) f.skip(4, 'spo2pr_slow');
  if (flags & 0x04) f.skip(2, 'measurement_status');
  if (flags & 0x08) f.skip(3, 'device_and_sensor_status');
  if (flags & 0x10) f.ieee(2, 'pulse_amplitude_index');
  return f.done();
};

/**
 * Temperature Measurement (Health Thermometer). Flags: bit 0 Fahrenheit (else Celsius), bit 1
 * time stamp (7 bytes) present, bit 2 temperature type (uint8: 1 armpit, 2 body, 3 ear, 4 finger,
 * 5 gastro-intestinal tract, 6 mouth, 7 rectum, 8 toe, 9 tympanum) present. The value is a FLOAT;
 * Fahrenheit is converted to Celsius, (F - 32) x 5 / 9.
 */
export const decodeTemperatureMeasurement: PacketDecoder = (bytes) => {
  const name = 'Temperature Measurement';
  if (bytes.length === 0) return empty(name);
  const f = new Fields(bytes, name);
  const flags = f.uint(1, 'flags')!;
  f.ieee(4, 'temperature', flags & 0x01 ? (fahrenheit) => ((fahrenheit - 32) * 5) / 9 : undefined);
  if (flags & 0x02) f.skip(7, 'time_stamp');
  if (flags & 0x04) {
    const type = f.uint(1, 'temperature_type');
    if (type !== undefined) f.values.temperature_type = type;
  }
  return f.done();
};

function builtin(name: string, summary: string, values: string[], decode: PacketDecoder): BuiltinDecoder {
  return {
    name, summary, fields: { values, rows: [] },
    compile(options) {
      checkNoOptionsBut(options, [], name);
      return decode;
    },
  };
}

export const SIG_DECODERS: readonly BuiltinDecoder[] = [
  builtin('bluetooth-sig/heart-rate-measurement', 'Heart Rate Measurement (0x2A37): hr, contact, energy expended, RR intervals in ms', ['hr', 'contact', 'energy_expended', 'rr'], decodeHeartRate),
  builtin('bluetooth-sig/plx-spot-check', 'PLX Spot-check Measurement (0x2A5E): SpO2, pulse rate, pulse amplitude index', ['spo2', 'pulse_rate', 'pulse_amplitude_index'], decodePlxSpotCheck),
  builtin('bluetooth-sig/plx-continuous', 'PLX Continuous Measurement (0x2A5F): SpO2, pulse rate, pulse amplitude index', ['spo2', 'pulse_rate', 'pulse_amplitude_index'], decodePlxContinuous),
  builtin('bluetooth-sig/temperature-measurement', 'Temperature Measurement (0x2A1C): temperature in Cel (Fahrenheit converted), temperature type', ['temperature', 'temperature_type'], decodeTemperatureMeasurement),
];

import { createDecipheriv } from 'node:crypto';
import { DECODE_ERRORS, rejected, type DecodeContext, type DecodedPacket, type DecodedValue, type DecodeIssue } from '../decoded.js';
import { checkNoOptionsBut } from './decoder-options.js';
import type { BuiltinDecoder } from './registry.js';

/**
 * BTHome v2: sensor data in BLE advertisements, service data of the 16-bit UUID 0xFCD2.
 * Specification: https://bthome.io/format/ and https://bthome.io/encryption/ (read 2026-04, the
 * site's source at github.com/home-assistant/bthome.io, src/format.html and src/encryption.html).
 *
 * Input: the service data after the UUID, as `twinedge decode --source advert` passes it.
 *
 *   byte 0        device information: bit 0 encrypted, bit 2 trigger based (sends irregularly,
 *                 e.g. on a button press), bits 5-7 the BTHome version (2). Bits 1, 3, 4 are
 *                 reserved in the specification; see MAC_INCLUDED for bit 1.
 *   then          objects: an object id, then a value whose size and type the id fixes (little
 *                 endian), or, for the few variable ones (text, raw, command), a length byte.
 *   encrypted:    the objects are AES-CCM ciphertext, followed by a 4-byte counter (uint32 LE)
 *                 and a 4-byte MIC. Nonce = MAC (6 bytes, as written 'aa:bb:..') + D2 FC (the
 *                 UUID, little endian) + the device information byte + the 4 counter bytes as
 *                 sent. No associated data (BTHome v1 used 0x11; v2 does not).
 *
 * Decisions (the specification's words where it has some):
 * - "A BTHome receiver will stop parsing object ids as soon as it finds an object id that isn't
 *   supported": an unknown id ends the packet; what came before is kept, with a DECODE_INVALID
 *   error naming the id and its byte.
 * - "Object ids have to be applied in numerical order": not enforced, objects are decoded in
 *   the order they come.
 * - "Multiple measurements of the same type": the first keeps its name, the next ones get
 *   `_2`, `_3`, ... in packet order (so a one-sensor and a two-sensor device both say
 *   `temperature` for their first). Objects of different ids with the same name and unit (0x02
 *   and 0x45 are both `temperature` in Cel) count together, as bthome-ble does. A value dropped
 *   for an error still takes its number, so `button_3` is always the third button.
 * - A value cut short (the packet ends inside an object) rejects the whole packet with
 *   DECODE_SHORT: a sender that miscounts bytes cannot be trusted for the bytes before either.
 * - Binary sensors must be 0 or 1 ("its value should be 1 for on, and 0 for off"); another value
 *   drops that value with DECODE_INVALID and parsing goes on (its size is known). Likewise a
 *   button or dimmer event id the specification does not list, and text that is not UTF-8.
 * - Values are exact to the specification's factor: raw * numerator / 10^n, so 0x09CA at 0.01
 *   is 25.06 (the nearest double), not 25.060000000000002.
 * - Events: `button` is the event id (0 none, 1 press, 2 double_press, 3 triple_press,
 *   4 long_press, 5 long_double_press, 6 long_triple_press, 0x80 hold_press); `dimmer` is signed
 *   steps (rotate left n = -n, rotate right n = +n, none = 0); `command` is the opcode and
 *   `command_args` its argument bytes when it has some.
 * - Encrypted packets: the counter is given as the value `counter`. Checking it against replay
 *   needs state across packets and belongs to the transport; isFreshCounter() is the rule.
 * - A device with a bind key must not be fooled by unencrypted packets (anyone can send them
 *   with its MAC): an unencrypted packet is refused when the profile says
 *   `require_encryption: true`, and also whenever the context carries a key, because a key in
 *   the context is the device's key from the config.
 */

/** The service-data UUID 0xFCD2, as its bytes go into the nonce (little endian). */
const UUID_BYTES = [0xd2, 0xfc] as const;

const ENCRYPTED = 0x01;
/**
 * Bit 1 of the device information. The specification says "reserved for future use"; the
 * bthome-ble library (the Home Assistant receiver) reads it as "the device's MAC follows, 6 bytes
 * in reverse order" and then uses that MAC in the nonce. We do the same, so such packets are not
 * misread as objects; the MAC is given as the value `mac`.
 */
const MAC_INCLUDED = 0x02;
const TRIGGER_BASED = 0x04;

const MIC_LENGTH = 4;
const COUNTER_LENGTH = 4;
const KEY_LENGTH = 16;

/** How an object's value is read. */
type ObjectKind =
  | 'uint' // unsigned little-endian integer of `size` bytes, times the factor
  | 'sint' // signed (two's complement) little-endian integer of `size` bytes, times the factor
  | 'binary' // one byte, 0 or 1: a boolean
  | 'button' // one byte: the event id
  | 'dimmer' // two bytes: event id, steps
  | 'command' // length byte (low 5 bits: argument count), opcode, arguments
  | 'text' // length byte, UTF-8 text
  | 'raw' // length byte, bytes: a lowercase hex string
  | 'version'; // `size` bytes, little endian, shown most significant first: '4.2.1.0'

export interface BthomeObject {
  readonly id: number;
  /** The value's name (before any `_2` suffix). */
  readonly name: string;
  readonly kind: ObjectKind;
  /** Bytes of the value, after the id; for the variable kinds, the fixed bytes before the data (the length byte; the command's length and opcode). */
  readonly size: number;
  /** The specification's factor as written ('0.01'); '1' for none. */
  readonly factor: string;
  /** UCUM unit ('' for counts, enums, flags and text). */
  readonly unit: string;
}

type Row = readonly [id: number, name: string, kind: ObjectKind, size: number, factor: string, unit: string];

/**
 * Every object id of the specification (bthome.io/format, "Sensor data", "Binary Sensor data",
 * "Events", "Device information", "Misc data"), with its size, sign and factor as the spec's
 * tables give them. Names follow the DESIGN channel names where they exist; where one property
 * comes in two units (mass kg/lb, distance mm/m, volume L/mL) the unit is in the name, and the
 * binary sensors whose property name is a sensor's too say what they mean (`battery_low`,
 * `power_on`, `gas_detected`, `moisture_detected`).
 */
const TABLE: readonly Row[] = [
  // Misc data
  [0x00, 'packet_id', 'uint', 1, '1', ''],
  // Sensor data
  [0x01, 'battery', 'uint', 1, '1', '%'],
  [0x02, 'temperature', 'sint', 2, '0.01', 'Cel'],
  [0x03, 'humidity', 'uint', 2, '0.01', '%'],
  [0x04, 'pressure', 'uint', 3, '0.01', 'hPa'],
  [0x05, 'illuminance', 'uint', 3, '0.01', 'lx'],
  [0x06, 'mass_kg', 'uint', 2, '0.01', 'kg'],
  [0x07, 'mass_lb', 'uint', 2, '0.01', '[lb_av]'],
  [0x08, 'dewpoint', 'sint', 2, '0.01', 'Cel'],
  [0x09, 'count', 'uint', 1, '1', ''],
  [0x0a, 'energy', 'uint', 3, '0.001', 'kW.h'],
  [0x0b, 'power', 'uint', 3, '0.01', 'W'],
  [0x0c, 'voltage', 'uint', 2, '0.001', 'V'],
  [0x0d, 'pm2_5', 'uint', 2, '1', 'ug/m3'],
  [0x0e, 'pm10', 'uint', 2, '1', 'ug/m3'],
  // Binary sensor data
  [0x0f, 'generic', 'binary', 1, '1', ''],
  [0x10, 'power_on', 'binary', 1, '1', ''],
  [0x11, 'opening', 'binary', 1, '1', ''],
  // Sensor data
  [0x12, 'co2', 'uint', 2, '1', '[ppm]'],
  [0x13, 'tvoc', 'uint', 2, '1', 'ug/m3'],
  [0x14, 'moisture', 'uint', 2, '0.01', '%'],
  // Binary sensor data
  [0x15, 'battery_low', 'binary', 1, '1', ''],
  [0x16, 'battery_charging', 'binary', 1, '1', ''],
  [0x17, 'carbon_monoxide', 'binary', 1, '1', ''],
  [0x18, 'cold', 'binary', 1, '1', ''],
  [0x19, 'connectivity', 'binary', 1, '1', ''],
  [0x1a, 'door', 'binary', 1, '1', ''],
  [0x1b, 'garage_door', 'binary', 1, '1', ''],
  [0x1c, 'gas_detected', 'binary', 1, '1', ''],
  [0x1d, 'heat', 'binary', 1, '1', ''],
  [0x1e, 'light', 'binary', 1, '1', ''],
  [0x1f, 'lock', 'binary', 1, '1', ''],
  [0x20, 'moisture_detected', 'binary', 1, '1', ''],
  [0x21, 'motion', 'binary', 1, '1', ''],
  [0x22, 'moving', 'binary', 1, '1', ''],
  [0x23, 'occupancy', 'binary', 1, '1', ''],
  [0x24, 'plug', 'binary', 1, '1', ''],
  [0x25, 'presence', 'binary', 1, '1', ''],
  [0x26, 'problem', 'binary', 1, '1', ''],
  [0x27, 'running', 'binary', 1, '1', ''],
  [0x28, 'safety', 'binary', 1, '1', ''],
  [0x29, 'smoke', 'binary', 1, '1', ''],
  [0x2a, 'sound', 'binary', 1, '1', ''],
  [0x2b, 'tamper', 'binary', 1, '1', ''],
  [0x2c, 'vibration', 'binary', 1, '1', ''],
  [0x2d, 'window', 'binary', 1, '1', ''],
  // Sensor data
  [0x2e, 'humidity', 'uint', 1, '1', '%'],
  [0x2f, 'moisture', 'uint', 1, '1', '%'],
  // Events
  [0x3a, 'button', 'button', 1, '1', ''],
  [0x3b, 'command', 'command', 2, '1', ''],
  [0x3c, 'dimmer', 'dimmer', 2, '1', ''],
  // Sensor data
  [0x3d, 'count', 'uint', 2, '1', ''],
  [0x3e, 'count', 'uint', 4, '1', ''],
  [0x3f, 'rotation', 'sint', 2, '0.1', 'deg'],
  [0x40, 'distance_mm', 'uint', 2, '1', 'mm'],
  [0x41, 'distance_m', 'uint', 2, '0.1', 'm'],
  [0x42, 'duration', 'uint', 3, '0.001', 's'],
  [0x43, 'current', 'uint', 2, '0.001', 'A'],
  [0x44, 'speed', 'uint', 2, '0.01', 'm/s'],
  [0x45, 'temperature', 'sint', 2, '0.1', 'Cel'],
  [0x46, 'uv_index', 'uint', 1, '0.1', ''],
  [0x47, 'volume', 'uint', 2, '0.1', 'L'],
  [0x48, 'volume_ml', 'uint', 2, '1', 'mL'],
  [0x49, 'volume_flow_rate', 'uint', 2, '0.001', 'm3/h'],
  [0x4a, 'voltage', 'uint', 2, '0.1', 'V'],
  [0x4b, 'gas', 'uint', 3, '0.001', 'm3'],
  [0x4c, 'gas', 'uint', 4, '0.001', 'm3'],
  [0x4d, 'energy', 'uint', 4, '0.001', 'kW.h'],
  [0x4e, 'volume', 'uint', 4, '0.001', 'L'],
  [0x4f, 'water', 'uint', 4, '0.001', 'L'],
  [0x50, 'timestamp', 'uint', 4, '1', 's'],
  [0x51, 'acceleration', 'uint', 2, '0.001', 'm/s2'],
  [0x52, 'gyroscope', 'uint', 2, '0.001', 'deg/s'],
  [0x53, 'text', 'text', 1, '1', ''],
  [0x54, 'raw', 'raw', 1, '1', ''],
  [0x55, 'volume_storage', 'uint', 4, '0.001', 'L'],
  [0x56, 'conductivity', 'uint', 2, '1', 'uS/cm'],
  [0x57, 'temperature', 'sint', 1, '1', 'Cel'],
  [0x58, 'temperature', 'sint', 1, '0.35', 'Cel'],
  [0x59, 'count', 'sint', 1, '1', ''],
  [0x5a, 'count', 'sint', 2, '1', ''],
  [0x5b, 'count', 'sint', 4, '1', ''],
  [0x5c, 'power', 'sint', 4, '0.01', 'W'],
  [0x5d, 'current', 'sint', 2, '0.001', 'A'],
  [0x5e, 'direction', 'uint', 2, '0.01', 'deg'],
  [0x5f, 'precipitation', 'uint', 2, '0.1', 'mm'],
  [0x60, 'channel', 'uint', 1, '1', ''],
  [0x61, 'rotational_speed', 'uint', 2, '1', '{rev}/min'],
  [0x62, 'speed', 'sint', 4, '0.000001', 'm/s'],
  [0x63, 'acceleration', 'sint', 4, '0.000001', 'm/s2'],
  [0x64, 'light_level', 'uint', 1, '1', ''],
  [0x65, 'settings_revision', 'uint', 1, '1', ''],
  // Device information
  [0xf0, 'device_type_id', 'uint', 2, '1', ''],
  [0xf1, 'firmware_version', 'version', 4, '1', ''],
  [0xf2, 'firmware_version', 'version', 3, '1', ''],
];

/** The objects this decoder reads, by id. */
export const BTHOME_OBJECTS: ReadonlyMap<number, BthomeObject> = new Map(
  TABLE.map(([id, name, kind, size, factor, unit]) => [id, Object.freeze({ id, name, kind, size, factor, unit })]),
);

/** '0.35' -> 35 / 100: the factor as an exact integer ratio, so scaled values round once. */
function ratio(factor: string): { readonly times: number; readonly over: number } {
  const [whole = '', fraction = ''] = factor.split('.');
  return { times: Number(whole + fraction), over: 10 ** fraction.length };
}

interface Reader {
  readonly object: BthomeObject;
  readonly times: number;
  readonly over: number;
}

const READERS: ReadonlyMap<number, Reader> = new Map(
  [...BTHOME_OBJECTS.values()].map((object) => [object.id, { object, ...ratio(object.factor) }]),
);

/** Event ids of the button object (bthome.io/format, "Events"). */
const BUTTON_EVENTS: ReadonlyMap<number, string> = new Map([
  [0x00, 'none'],
  [0x01, 'press'],
  [0x02, 'double_press'],
  [0x03, 'triple_press'],
  [0x04, 'long_press'],
  [0x05, 'long_double_press'],
  [0x06, 'long_triple_press'],
  [0x80, 'hold_press'],
]);

/** How many of one kind `fields` lists (`temperature`, `temperature_2` .. `temperature_4`). */
const LISTED_REPEATS = 4;

const OBJECT_NAMES = [...new Set([...BTHOME_OBJECTS.values()].map((o) => o.name)), 'command_args'];

/** Every value name the decoder gives, for `fields`: object names with their repeats, then the packet's own. */
const VALUE_NAMES: readonly string[] = [
  ...OBJECT_NAMES,
  ...Array.from({ length: LISTED_REPEATS - 1 }, (_, i) => OBJECT_NAMES.map((n) => `${n}_${i + 2}`)).flat(),
  'counter',
  'trigger_based',
  'mac',
];

// ---- Replay counter ----

const UINT32_RANGE = 2 ** 32;
const HALF_RANGE = 2 ** 31;

function isUint32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < UINT32_RANGE;
}

/**
 * Whether an encrypted packet's `counter` is newer than the last one accepted from the same
 * device (`last`; undefined when none was ever accepted, which makes any counter fresh).
 *
 * The BTHome encryption page says only that the receiver "must also check the message counter
 * inside the encrypted packet (must increase compared against last time)". The counter is a
 * uint32 that a long-lived device wraps, so "increase" is taken modulo 2^32 (serial number
 * arithmetic, as RFC 1982): a counter is fresh when it is 1 to 2^31 - 1 ahead of `last`. Hence:
 * - equal: not fresh (a repeat, or a replay);
 * - behind by up to 2^31: not fresh (a replay of an older packet);
 * - behind by more than 2^31 (e.g. last 0xFFFFFFF0, counter 5): fresh, the counter wrapped;
 * - ahead by 2^31 or more: not fresh, for it is the same as behind after a wrap. Accepting it
 *   would let one such packet move `last` so far that every older recorded packet looked new.
 * A device whose counter restarts from 0 (a battery change, a reset) is refused until its counter
 * passes the last one accepted or the transport forgets that device's counter; bthome-ble instead
 * accepts any counter below 100, which lets those old packets be replayed at any time.
 * Arguments that are not uint32 integers make it false.
 */
export function isFreshCounter(last: number | undefined, counter: number): boolean {
  if (!isUint32(counter)) return false;
  if (last === undefined) return true;
  if (!isUint32(last)) return false;
  const ahead = (counter - last + UINT32_RANGE) % UINT32_RANGE;
  return ahead > 0 && ahead < HALF_RANGE;
}

// ---- Decoding ----

export interface BthomeOptions {
  /** Refuse unencrypted packets (a device with a bind key). Default false. */
  readonly require_encryption?: boolean;
}

const hex = (b: number): string => b.toString(16).padStart(2, '0');
const idText = (id: number): string => `0x${hex(id).toUpperCase()}`;

/** 'aa:bb:cc:dd:ee:ff' (also with '-' or no separators, any case) -> 6 bytes; undefined if it is not a MAC. */
function macBytes(address: unknown): Uint8Array | undefined {
  if (typeof address !== 'string') return undefined;
  const m = /^([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})$/i.exec(address.trim());
  if (!m) return undefined;
  return Uint8Array.from(m.slice(1), (x) => parseInt(x, 16));
}

function macText(mac: Uint8Array): string {
  return Array.from(mac, hex).join(':');
}

function readUint(bytes: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + bytes[at + i]!;
  return v;
}

function readSint(bytes: Uint8Array, at: number, size: number): number {
  const v = readUint(bytes, at, size);
  const top = 2 ** (8 * size - 1);
  return v >= top ? v - 2 * top : v;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the objects of `data` (the objects only, decrypted if they were encrypted). `base` is where data[0] sits in
 * the packet the decoder was given, for the byte offsets in messages. Returns the issues found;
 * values go into `values`. A DECODE_SHORT issue means the packet must be rejected.
 */
function readObjects(data: Uint8Array, base: number, values: Record<string, DecodedValue>): { issues: DecodeIssue[]; short: DecodeIssue | undefined } {
  const issues: DecodeIssue[] = [];
  const seen = new Map<string, number>();
  let at = 0;
  while (at < data.length) {
    const id = data[at]!;
    const reader = READERS.get(id);
    if (!reader) {
      issues.push({
        code: DECODE_ERRORS.INVALID,
        message: `unknown BTHome object id ${idText(id)} at byte ${base + at}; its size is unknown, so the ${data.length - at} byte(s) from there are not read`,
        byteOffset: base + at,
      });
      break;
    }
    const { object } = reader;
    const start = at + 1; // first byte of the value
    const fixedEnd = start + object.size;
    const short = (need: number, what: string): DecodeIssue => ({
      code: DECODE_ERRORS.SHORT,
      message: `object ${idText(id)} '${object.name}' at byte ${base + at} needs ${need} byte(s) of ${what} after its id; the packet has ${data.length - start}`,
      field: object.name,
      byteOffset: base + at,
    });
    const variable = object.kind === 'text' || object.kind === 'raw' || object.kind === 'command';
    if (fixedEnd > data.length) return { issues, short: short(object.size, variable ? 'header' : 'value') };
    // The variable kinds' length byte; the command's high 3 bits are reserved.
    const extra = !variable ? 0 : object.kind === 'command' ? data[start]! & 0x1f : data[start]!;
    const end = fixedEnd + extra;
    if (end > data.length) return { issues, short: short(object.size + extra, 'header and data') };

    const n = (seen.get(object.name) ?? 0) + 1;
    seen.set(object.name, n);
    const suffix = n === 1 ? '' : `_${n}`;
    const name = object.name + suffix;
    const drop = (message: string): void => {
      issues.push({ code: DECODE_ERRORS.INVALID, message: `object ${idText(id)} '${name}' at byte ${base + at}: ${message}; that value is dropped`, field: name, byteOffset: base + at });
    };

    switch (object.kind) {
      case 'uint':
      case 'sint': {
        const raw = object.kind === 'uint' ? readUint(data, start, object.size) : readSint(data, start, object.size);
        values[name] = reader.times === 1 && reader.over === 1 ? raw : (raw * reader.times) / reader.over;
        break;
      }
      case 'binary': {
        const b = data[start]!;
        if (b === 0 || b === 1) values[name] = b === 1;
        else drop(`a binary sensor is 0 or 1, got ${b}`);
        break;
      }
      case 'button': {
        const e = data[start]!;
        if (BUTTON_EVENTS.has(e)) values[name] = e;
        else drop(`unknown button event ${idText(e)}`);
        break;
      }
      case 'dimmer': {
        const e = data[start]!;
        const steps = data[start + 1]!;
        if (e === 0) values[name] = 0;
        else if (e === 1) values[name] = steps === 0 ? 0 : -steps; // never -0
        else if (e === 2) values[name] = steps;
        else drop(`unknown dimmer event ${idText(e)}`);
        break;
      }
      case 'command': {
        values[name] = data[start + 1]!;
        if (extra > 0) values[`command_args${suffix}`] = Array.from(data.subarray(fixedEnd, end));
        break;
      }
      case 'text': {
        try {
          values[name] = UTF8.decode(data.subarray(fixedEnd, end));
        } catch {
          drop('the text is not UTF-8');
        }
        break;
      }
      case 'raw':
        values[name] = Array.from(data.subarray(fixedEnd, end), hex).join('');
        break;
      case 'version': {
        const parts: number[] = [];
        for (let i = object.size - 1; i >= 0; i--) parts.push(data[start + i]!);
        values[name] = parts.join('.');
        break;
      }
    }
    at = end;
  }
  return { issues, short: undefined };
}

/** Decrypts; returns the plain objects, or the rejection. */
function decrypt(bytes: Uint8Array, from: number, mac: Uint8Array, key: Uint8Array): { plain: Uint8Array; counter: number } | DecodedPacket {
  const body = bytes.length - from;
  if (body < COUNTER_LENGTH + MIC_LENGTH) {
    return rejected(
      DECODE_ERRORS.SHORT,
      `an encrypted BTHome packet ends with a 4-byte counter and a 4-byte MIC; it has ${body} byte(s) after byte ${from - 1}`,
      { byteOffset: from },
    );
  }
  const cipherEnd = bytes.length - COUNTER_LENGTH - MIC_LENGTH;
  const counterBytes = bytes.subarray(cipherEnd, cipherEnd + COUNTER_LENGTH);
  const mic = bytes.subarray(cipherEnd + COUNTER_LENGTH);
  const counter = readUint(bytes, cipherEnd, COUNTER_LENGTH);
  const nonce = Buffer.concat([mac, Uint8Array.from(UUID_BYTES), bytes.subarray(0, 1), counterBytes]);
  try {
    const decipher = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: MIC_LENGTH });
    decipher.setAuthTag(mic);
    // BTHome v2 has no associated data, so no setAAD (node needs it only with AAD).
    const plain = decipher.update(bytes.subarray(from, cipherEnd));
    decipher.final(); // throws when the MIC does not match
    return { plain: new Uint8Array(plain.buffer, plain.byteOffset, plain.length), counter };
  } catch {
    return rejected(
      DECODE_ERRORS.INVALID,
      `the MIC does not match (counter ${counter}): a wrong bind key or MAC address, or bytes altered on the way; the packet is refused`,
      { field: 'mic', byteOffset: cipherEnd + COUNTER_LENGTH },
    );
  }
}

function decodeBthome(bytes: Uint8Array, context: DecodeContext | undefined, requireEncryption: boolean): DecodedPacket {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    return rejected(DECODE_ERRORS.SHORT, 'a BTHome packet starts with its device information byte; the packet has 0 bytes', { field: 'device_information', byteOffset: 0 });
  }
  const info = bytes[0]!;
  const version = info >> 5;
  if (version !== 2) {
    const which = version === 1 ? 'BTHome v1 (its own UUIDs 0x181C and 0x181E, a different format)' : `BTHome version ${version}, which does not exist`;
    return rejected(DECODE_ERRORS.INVALID, `device information byte 0x${hex(info)} says ${which}; this decoder reads version 2 (bits 5-7 = 010)`, {
      field: 'device_information',
      byteOffset: 0,
    });
  }
  const key = context?.key;
  const hasKey = key !== undefined && key !== null;
  const values: Record<string, DecodedValue> = {};
  let from = 1;
  let mac: Uint8Array | undefined;
  if (info & MAC_INCLUDED) {
    if (bytes.length < 7) return rejected(DECODE_ERRORS.SHORT, `device information bit 1 says a 6-byte MAC follows; the packet has ${bytes.length - 1} byte(s) after it`, { field: 'mac', byteOffset: 1 });
    mac = Uint8Array.from(bytes.subarray(1, 7)).reverse();
    from = 7;
  }

  let objects: Uint8Array;
  let counter: number | undefined;
  if (info & ENCRYPTED) {
    if (!hasKey) return rejected(DECODE_ERRORS.INVALID, "the packet is encrypted; needs the device's bind key (16 bytes) in the config", { field: 'device_information', byteOffset: 0 });
    if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
      const got = key instanceof Uint8Array ? `${key.length} bytes` : 'not bytes';
      return rejected(DECODE_ERRORS.INVALID, `the packet is encrypted and the device's bind key must be 16 bytes (AES-128); it is ${got}`, { field: 'device_information', byteOffset: 0 });
    }
    const nonceMac = mac ?? macBytes(context?.address);
    if (!nonceMac) {
      const said = typeof context?.address === 'string' ? `'${context.address.slice(0, 40)}' is not one` : 'none was given';
      return rejected(DECODE_ERRORS.INVALID, `the packet is encrypted and its nonce needs the device's MAC address 'aa:bb:cc:dd:ee:ff'; ${said}`, { field: 'device_information', byteOffset: 0 });
    }
    const r = decrypt(bytes, from, nonceMac, key);
    if ('errors' in r) return r;
    objects = r.plain;
    counter = r.counter;
  } else {
    if (requireEncryption || hasKey) {
      const why = requireEncryption ? 'the profile requires encryption' : 'the config gives its key';
      return rejected(DECODE_ERRORS.INVALID, `this device has a key (${why}); an unencrypted packet is refused, since anyone can send one with the device's address`, {
        field: 'device_information',
        byteOffset: 0,
      });
    }
    objects = bytes.subarray(from);
  }

  const { issues, short } = readObjects(objects, from, values);
  if (short) return { values: {}, rows: [], errors: [short] };
  if (counter !== undefined) values.counter = counter;
  values.trigger_based = (info & TRIGGER_BASED) !== 0;
  if (mac) values.mac = macText(mac);
  return { values, rows: [], errors: issues };
}

export const bthomeV2: BuiltinDecoder = {
  name: 'bthome/v2',
  summary: 'BTHome v2 advertisement service data (after UUID 0xFCD2): sensor, binary sensor, event and device objects; AES-CCM with the bind key',
  fields: { values: VALUE_NAMES, rows: [] },
  compile(options) {
    checkNoOptionsBut(options, ['require_encryption'], this.name);
    const r = options.require_encryption;
    if (r !== undefined && typeof r !== 'boolean') throw new TypeError(`${this.name}: option 'require_encryption' is true or false, not ${typeof r === 'string' ? `'${r}'` : String(r)}`);
    const requireEncryption = r === true;
    return (bytes, context) => decodeBthome(bytes, context, requireEncryption);
  },
};

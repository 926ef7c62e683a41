import { Type, type Static } from '@sinclair/typebox';
import { EVENT_KIND_WORDS } from '../events/event-fields.js';

/**
 * The device profile format, defined once: this TypeBox schema validates a profile file (ajv,
 * all errors, no unknown keys) and its descriptions are the format reference in
 * device-profiles/README.md. Keys are snake_case as written in YAML. What JSON Schema cannot
 * say (a channel naming a field the decoding makes, an example naming a channel) is checked by
 * the compiler (compile.ts); a binary layout's own structure is checked by the layout compiler,
 * which knows its rules best.
 */

const strict = { additionalProperties: false } as const;

function StringEnum<const T extends readonly string[]>(values: T, options: { description: string; default?: T[number] }) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export const PROFILE_ID_SOURCE = '^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$';
const NAME_SOURCE = '^[a-z][a-z0-9_]*$';
const Name = (description: string) => Type.String({ pattern: NAME_SOURCE, maxLength: 64, 'x-expected': "a lowercase name: a letter, then letters, digits or '_'", description });
const HexId = (description: string) => Type.String({ pattern: '^(0x)?[0-9a-fA-F]{4}$', 'x-expected': "4 hex digits, as lsusb shows them (e.g. '0403')", description });

export const MODALITIES = ['cardiac', 'motion', 'respiration', 'light', 'temperature', 'oximetry', 'environment', 'device'] as const;

export const UsbMatchSchema = Type.Object({
  vendor_id: HexId('USB vendor id.'),
  product_id: Type.Optional(HexId('USB product id.')),
  serial_number: Type.Optional(Type.String({ minLength: 1, description: "The adapter's USB serial number, to tell two identical adapters apart." })),
}, { ...strict, description: 'A USB serial adapter, by its ids.' });

export const SerialMatchSchema = Type.Object({
  path: Type.Optional(Type.String({ minLength: 1, description: 'A device path, e.g. /dev/ttyUSB0 or /dev/serial/by-id/....' })),
  usb: Type.Optional(UsbMatchSchema),
}, { ...strict, description: 'How the hub finds the port when the config does not name it: a path, or USB ids.' });

const Uuid = (description: string) => Type.String({ pattern: '^([0-9a-fA-F]{4}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$', 'x-expected': "a 16-bit UUID ('180d') or a 128-bit one ('fb005c80-02e7-f387-1cad-8acd2d8df0c8')", description });

export const BleMatchSchema = Type.Object({
  services: Type.Optional(Type.Array(Uuid('A service UUID.'), { minItems: 1, description: 'Advertised service UUIDs: a device advertising any of them matches.' })),
  name: Type.Optional(Type.String({ minLength: 1, description: "A regular expression the advertised local name must match, e.g. '^Polar H10 '." })),
  manufacturer_id: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffff, description: 'The company identifier at the start of the manufacturer data (e.g. 107 = 0x006B, Polar).' })),
  service_data: Type.Optional(Uuid('A service-data UUID the advertisement must carry (BTHome: fcd2).')),
}, { ...strict, description: 'How a BLE advertisement is recognised: every rule given must hold.' });

export const MatchSchema = Type.Object({
  serial: Type.Optional(SerialMatchSchema),
  ble: Type.Optional(BleMatchSchema),
}, { ...strict, description: 'How devices of this profile are recognised. Config entries for a device may name the port instead.' });

const Checksum = Type.Object({
  kind: StringEnum(['nmea', 'crc8', 'crc16-ccitt', 'crc16-modbus'], { description: '`nmea`: `$text*hh`, XOR of the text. `crc8` (CRC-8/SMBUS), `crc16-ccitt` (CRC-16/IBM-3740), `crc16-modbus`: hex digits after a separator.' }),
  separator: Type.Optional(Type.String({ minLength: 1, maxLength: 1, description: "The character before a CRC's hex digits (default '*'); not for nmea." })),
}, { ...strict, description: 'A checksum at the end of each line, checked and stripped before parsing; a line that fails it is rejected (LINE_BAD_CHECKSUM).' });

const Numeric = Type.Union([Type.Literal('all'), Type.Array(Type.String(), { minItems: 1 })], { description: "Which fields are numbers: `all`, or a list of names. The others are text. Default: `all`." });

export const CsvLinesSchema = Type.Object({
  kind: Type.Literal('csv', { description: 'Columns in a fixed order.' }),
  columns: Type.Array(Type.String(), { minItems: 1, description: "Column names in order; `_` for a column to ignore." }),
  delimiter: Type.Optional(StringEnum([',', ';', '\t', ' '], { description: "Between columns: ',' (default), ';', tab, or ' ' (a run of spaces counts as one)." })),
  header: Type.Optional(Type.Boolean({ description: 'Skip a line that is the column names (default false).' })),
  trim: Type.Optional(Type.Boolean({ description: 'Drop spaces around values (default false).' })),
  numeric: Type.Optional(Numeric),
  checksum: Type.Optional(Checksum),
}, { ...strict, description: 'CSV lines.' });

export const KeyValueLinesSchema = Type.Object({
  kind: Type.Literal('key-value', { description: 'Pairs such as `spo2=97 pr=64`.' }),
  required: Type.Optional(Type.Array(Type.String(), { description: 'Keys every line must have.' })),
  optional: Type.Optional(Type.Array(Type.String(), { description: 'Keys a line may have.' })),
  pair_separator: Type.Optional(Type.String({ minLength: 1, description: "Between pairs (default ' ')." })),
  key_value_separator: Type.Optional(Type.String({ minLength: 1, description: "Between a key and its value (default '=')." })),
  numeric: Type.Optional(Numeric),
  checksum: Type.Optional(Checksum),
}, { ...strict, description: 'key=value lines; a field is named by its key.' });

export const PatternLinesSchema = Type.Object({
  kind: Type.Literal('pattern', { description: 'A regular expression whose named groups are the fields.' }),
  regex: Type.String({ minLength: 1, description: 'A JavaScript regular expression matched against the whole line, e.g. `Light: (?<lux>[0-9.]+) lx`.' }),
  flags: Type.Optional(Type.String({ pattern: '^[isu]*$', 'x-expected': "any of the flags 'i', 's', 'u'", description: 'Regular expression flags: any of i, s, u.' })),
  optional: Type.Optional(Type.Array(Type.String(), { description: 'Named groups that may be absent.' })),
  numeric: Type.Optional(Numeric),
  checksum: Type.Optional(Checksum),
}, { ...strict, description: 'Lines read with a pattern.' });

/** Line formats by kind: validated one kind at a time, so an error speaks of that kind's keys only. */
export const LINES_SCHEMAS = { 'csv': CsvLinesSchema, 'key-value': KeyValueLinesSchema, 'pattern': PatternLinesSchema } as const;
export type LinesSpec = Static<typeof CsvLinesSchema> | Static<typeof KeyValueLinesSchema> | Static<typeof PatternLinesSchema>;

export const BuiltinSchema = Type.Object({
  name: Type.String({ minLength: 1, description: 'A registered built-in decoder, e.g. `bluetooth-sig/heart-rate-measurement`.' }),
  options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The decoder's own options." })),
}, { ...strict, description: 'A built-in decoder, for formats a layout cannot say well.' });

export const TimeSchema = Type.Object({
  field: Type.String({ minLength: 1, description: 'The field that holds the device\'s timestamp.' }),
  unit: StringEnum(['s', 'ms', 'us'], { description: 'Its unit.' }),
  kind: StringEnum(['device', 'unix'], { default: 'device', description: '`device`: a counter since the device started (anchored to the hub clock at the first sample, re-anchored when it jumps); `unix`: seconds or ms since 1970 on a synchronised device clock.' }),
}, { ...strict, description: "Sample times from a device timestamp rather than from arrival and the channel's rate." });

export const DecodingSchema = Type.Object({
  source: Type.Optional(Type.String({ minLength: 1, description: "What this decoding applies to: `line` or `frame` for serial (the default), a characteristic's 16-bit UUID (`2a37`) or `advert` for BLE." })),
  layout: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'A declarative binary layout (see the layout reference).' })),
  lines: Type.Optional(Type.Unknown({ description: 'How to read a text line: a mapping whose `kind` is csv, key-value or pattern (see those).' })),
  builtin: Type.Optional(BuiltinSchema),
  time: Type.Optional(TimeSchema),
}, { ...strict, description: 'One decoding: exactly one of `layout`, `lines` or `builtin`.' });

export const ChannelSchema = Type.Object({
  name: Name('The channel name (DESIGN.md lists the standard ones: hr, rr, spo2, acc_x, resp, illuminance, ...).'),
  from: Type.Optional(Type.String({ minLength: 1, description: 'The decoded field it takes its value from; default: the channel name.' })),
  unit: Type.String({ minLength: 1, description: 'UCUM unit of the value after scale and offset: `/min`, `ms`, `%`, `lx`, `Cel`, `[g]`, `deg/s`, `N`.' }),
  modality: StringEnum(MODALITIES, { description: 'What it measures, for windows and encoders.' }),
  rate_hz: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100000, description: 'Nominal sample rate. Several samples of one packet are spaced by it. Absent: an event channel, sampled when the device says.' })),
  scale: Type.Optional(Type.Number({ description: 'Multiplies the decoded value (default 1).' })),
  offset: Type.Optional(Type.Number({ description: 'Added after scale (default 0).' })),
  no_reading: Type.Optional(Type.Array(Type.Number(), { minItems: 1, description: 'Decoded values that mean "no reading" (e.g. 127 for SpO2 with no finger): the sample is dropped (DECODE_NO_READING).' })),
  min: Type.Optional(Type.Number({ description: 'Smallest plausible value after scaling; below it the sample is dropped (DECODE_OUT_OF_RANGE).' })),
  max: Type.Optional(Type.Number({ description: 'Largest plausible value after scaling.' })),
  standard_code: Type.Optional(Type.String({ pattern: '^(MDC|LOINC):\\S+$', 'x-expected': "a code with its system, e.g. 'MDC:MDC_PULS_OXIM_SAT_O2' or 'LOINC:59408-5'", description: 'IEEE 11073 MDC or LOINC code, with its system.' })),
  description: Type.Optional(Type.String({ description: 'What the signal is, for people.' })),
}, { ...strict, description: 'One named signal of the device.' });

const ExpectedSample = Type.Object({
  channel: Type.String({ minLength: 1, description: 'The channel.' }),
  value: Type.Union([Type.Number(), Type.Array(Type.Number()), Type.Boolean()], { description: 'The value expected.' }),
  tolerance: Type.Optional(Type.Number({ minimum: 0, description: 'Largest difference accepted (default: 1e-9 relative).' })),
}, { ...strict, description: 'A sample the example must produce.' });

export const ExampleSchema = Type.Object({
  name: Type.String({ minLength: 1, description: 'What the example shows.' }),
  source: Type.Optional(Type.String({ minLength: 1, description: "The decoding's source (default: the profile's only one)." })),
  hex: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F\\s:]*$', 'x-expected': 'hex bytes, optionally separated by spaces or colons', description: 'Bytes in (one frame or notification), in hex.' })),
  text: Type.Optional(Type.String({ description: 'A line in, without its newline.' })),
  samples: Type.Optional(Type.Array(ExpectedSample, { description: 'The samples expected, in order: exactly these.' })),
  errors: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Error codes expected beside the samples (a dropped special value, no reading), in order.' })),
  rejected: Type.Optional(Type.String({ minLength: 1, description: 'The input must be rejected with this error code (no samples).' })),
  reference: Type.Optional(Type.String({ description: 'Where the example comes from: the datasheet section, the specification, the documented output.' })),
}, { ...strict, description: 'An input and what it must decode to; `twinedge profiles test` and the test suite run them. Exactly one of hex and text; samples, or rejected.' });

export const FramingSchema = Type.Object({
  kind: StringEnum(['lines', 'slip', 'cobs', 'length-crc'], { description: 'How the byte stream is cut into frames.' }),
  max_frame_bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Longest frame (default 4096); longer ones are dropped (FRAME_TOO_LONG).' })),
  sync: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 255 }), { minItems: 1, maxItems: 8, description: 'length-crc: bytes that start every frame (default [0xAA, 0x55]).' })),
  length: Type.Optional(StringEnum(['u8', 'u16le', 'u16be'], { description: 'length-crc: the length field, counting payload bytes (default u8).' })),
  crc: Type.Optional(StringEnum(['crc8', 'crc16-ccitt', 'crc16-modbus'], { description: 'length-crc: the CRC (default crc16-ccitt).' })),
  crc_byte_order: Type.Optional(StringEnum(['le', 'be'], { description: 'length-crc: byte order of a 16-bit CRC (default le for crc16-modbus, else be).' })),
  crc_over: Type.Optional(StringEnum(['length+payload', 'sync+length+payload', 'payload'], { description: 'length-crc: which bytes the CRC covers (default length+payload).' })),
}, { ...strict, description: 'Framing of the serial byte stream.' });

export const SerialSetupSchema = Type.Object({
  baud_rate: Type.Integer({ minimum: 50, maximum: 4_000_000, default: 9600, description: 'Baud rate.' }),
  data_bits: Type.Union([Type.Literal(5), Type.Literal(6), Type.Literal(7), Type.Literal(8)], { default: 8, description: 'Data bits.' }),
  parity: StringEnum(['none', 'even', 'odd', 'mark', 'space'], { default: 'none', description: 'Parity.' }),
  stop_bits: Type.Union([Type.Literal(1), Type.Literal(1.5), Type.Literal(2)], { default: 1, description: 'Stop bits.' }),
  framing: FramingSchema,
}, { ...strict, description: 'Serial line settings; a device entry in the config may override baud_rate, parity and stop_bits.' });

export const BleSetupSchema = Type.Object({
  subscribe: Type.Optional(Type.Array(Uuid('A characteristic UUID.'), { description: 'Characteristics whose notifications (or indications) are decoded: each needs a decoding with it as source.' })),
  read: Type.Optional(Type.Array(Type.Object({
    characteristic: Uuid('The characteristic.'),
    every_s: Type.Number({ minimum: 1, maximum: 86400, description: 'Seconds between reads.' }),
  }, strict), { description: 'Characteristics read periodically (battery level).' })),
  write: Type.Optional(Type.Array(Type.Object({
    characteristic: Uuid('The control point.'),
    hex: Type.String({ pattern: '^[0-9a-fA-F\\s:]+$', 'x-expected': 'hex bytes', description: 'The bytes to write, in hex.' }),
  }, strict), { description: 'Bytes written to control points after subscribing, in order (a start command).' })),
}, { ...strict, description: 'What the hub does once connected to a BLE device.' });

export const EventRuleSchema = Type.Object({
  channel: Name('The channel whose samples mark the event (one of this profile\'s channels).'),
  when: Type.Union([Type.Number(), Type.Boolean()], { description: 'The value that marks it, after scale and offset: a button number, 1 for a press, true for a binary sensor turning on.' }),
  kind: StringEnum(EVENT_KIND_WORDS, { description: 'The event\'s kind: medication, procedure, meal, sleep, device_change (or device-change) or note.' }),
  code: Type.Optional(Type.String({ minLength: 1, description: "A code with its system: for a medication `ATC:<code>` (WHO ATC, any level, e.g. 'ATC:N02BE01') or `RXNORM:<rxcui>`; for other kinds any `SYSTEM:value`." })),
  dose: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'The dose one press stands for; give unit with it.' })),
  unit: Type.Optional(Type.String({ minLength: 1, description: "The dose's UCUM unit, e.g. 'mg', 'mL', '{tablet}'." })),
  note: Type.Optional(Type.String({ minLength: 1, description: 'Text every such event carries, one line, at most 500 characters.' })),
  debounce_s: Type.Optional(Type.Number({ minimum: 0, maximum: 3600, description: 'Matching samples closer than this to the previous one are the same press (a bouncing contact, a held button). Default 2.' })),
}, { ...strict, description: 'A sample that marks an intervention event: the hub records the event when a sample of `channel` equals `when`.' });

export const ProfileSchema = Type.Object({
  id: Type.String({ pattern: PROFILE_ID_SOURCE, maxLength: 100, 'x-expected': "lowercase words joined by '/', e.g. 'generic/bh1750-light'", description: 'Unique id, stable across versions: frames and configs name it.' }),
  version: Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+$', 'x-expected': 'a version like 1.0.0', description: 'Version of this file; every frame carries it. Raise it when decoding changes.' }),
  title: Type.String({ minLength: 1, description: 'What device it is, for people.' }),
  description: Type.Optional(Type.String({ description: 'More about the device and where its format is documented.' })),
  transport: StringEnum(['serial', 'ble', 'ble-advert'], { description: 'How the hub reaches it.' }),
  match: Type.Optional(MatchSchema),
  serial: Type.Optional(SerialSetupSchema),
  ble: Type.Optional(BleSetupSchema),
  channels: Type.Array(ChannelSchema, { minItems: 1, description: 'The signals it produces.' }),
  // One decoding or a list: checked as DecodingSchema item by item, so errors name the item's keys.
  decode: Type.Unknown({ description: 'How packets become named values: one decoding (see below), or a list of them with one per source.' }),
  examples: Type.Array(ExampleSchema, { minItems: 1, description: 'Inputs and what they decode to. At least one.' }),
  events: Type.Optional(Type.Array(EventRuleSchema, { description: 'Samples that mark intervention events (a button meaning "medication taken").' })),
}, { ...strict, description: 'A device profile.' });

export type ProfileFile = Static<typeof ProfileSchema>;
export type ChannelSpec = Static<typeof ChannelSchema>;
export type DecodingSpec = Omit<Static<typeof DecodingSchema>, 'lines'> & { lines?: LinesSpec };
export type ExampleSpec = Static<typeof ExampleSchema>;
export type EventRuleFileSpec = Static<typeof EventRuleSchema>;
export type FramingSpec = Static<typeof FramingSchema>;
export type SerialSetupSpec = Static<typeof SerialSetupSchema>;
export type BleSetupSpec = Static<typeof BleSetupSchema>;
export type BleMatchSpec = Static<typeof BleMatchSchema>;

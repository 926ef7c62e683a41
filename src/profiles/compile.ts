/**
 * Compiles a profile file that passed the schema into a Profile: each decoding compiled once,
 * channels bound to the fields they read, and every rule the schema cannot state checked, each
 * problem placed at its key path (the loader turns paths into lines).
 */
import { Ajv } from 'ajv';
import { addSchemaErrors, type Problems, type SchemaErrorStyle } from '../config/problems.js';
import { keyPathOf, type Path } from '../config/locate.js';
import { compileEventRule, type DeviceEventRule } from '../events/device-events.js';
import { FRAMINGS } from '../transports/serial/framing/registry.js';
import { DECODE_ERRORS, rejected, type DecodedPacket, type DecodedValue, type DecodeIssue, type PacketDecoder } from './decoded.js';
import { builtinDecoder, builtinDecoderNames } from './decoders/registry.js';
import { compileLayout, describeLayout, LayoutOptionError } from './layout/layout.js';
import type { BleSetup, ChannelInfo, DeviceTimeSpec, Profile, ProfileDecode, ProfileSample, SerialSetup } from './profile.js';
import { DecodingSchema, LINES_SCHEMAS, type ChannelSpec, type DecodingSpec, type FramingSpec, type LinesSpec, type ProfileFile } from './schema.js';
import { isLineError, type LineParser } from './text/line-common.js';
import { compileLineParser, lineFieldNames, type LineParserOptions } from './text/line-parser.js';

export const PROFILE_ERROR_STYLE: SchemaErrorStyle = { unknownKey: 'PROFILE_INVALID', missingKey: 'PROFILE_INVALID', invalidValue: 'PROFILE_INVALID' };

const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true });
ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
const validateDecoding = ajv.compile(DecodingSchema);
const validateLines = Object.fromEntries(Object.entries(LINES_SCHEMAS).map(([kind, schema]) => [kind, ajv.compile(schema)]));

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

interface CompiledDecoding {
  readonly source: string;
  readonly decode: PacketDecoder;
  /** Field name -> whether it is per row (true) or per packet (false). */
  readonly fields: ReadonlyMap<string, boolean>;
  readonly timeField: string | undefined;
  readonly time: DeviceTimeSpec | undefined;
  /** Channels bound to this decoding's fields, filled once channels are compiled. */
  bound: BoundChannel[];
}

interface BoundChannel {
  readonly name: string;
  readonly from: string;
  readonly inRows: boolean;
  readonly unit: string;
  readonly scale: number;
  readonly offset: number;
  readonly noReading: readonly number[];
  readonly min: number;
  readonly max: number;
}

/** Sources a serial profile's packets come from. */
const SERIAL_SOURCES = ['line', 'frame'];
const BLE_UUID = /^([0-9a-f]{4}|[0-9a-f]{32})$/;

/**
 * The decodings of a profile, as a list with each item's path in the file. One decoding may be
 * written on its own; it is then at `decode`, not `decode[0]`.
 */
function decodingItems(decode: unknown, problems: Problems): Array<{ spec: unknown; path: Path }> {
  if (Array.isArray(decode)) {
    if (decode.length === 0) problems.add('PROFILE_INVALID', 'expected at least one decoding', ['decode']);
    return decode.map((spec, i) => ({ spec, path: ['decode', i] }));
  }
  if (isObject(decode)) return [{ spec: decode, path: ['decode'] }];
  problems.add('PROFILE_INVALID', 'expected a decoding (a mapping with layout, lines or builtin) or a list of them', ['decode']);
  return [];
}

function compileDecoding(spec: unknown, path: Path, profile: ProfileFile, problems: Problems): CompiledDecoding | undefined {
  if (!validateDecoding(spec)) {
    addSchemaErrors(problems, validateDecoding.errors ?? [], spec, PROFILE_ERROR_STYLE, path);
    return undefined;
  }
  const d = spec as DecodingSpec;
  const kinds = (['layout', 'lines', 'builtin'] as const).filter((k) => d[k] !== undefined);
  if (kinds.length !== 1) {
    problems.add('PROFILE_INVALID', kinds.length === 0 ? 'expected one of layout, lines or builtin' : `expected one of layout, lines or builtin, got ${kinds.join(' and ')}`, path, 'key');
    return undefined;
  }
  // BLE UUIDs as noble gives them: lowercase, without dashes.
  const source = (d.source ?? (profile.transport === 'ble-advert' ? 'advert' : d.lines !== undefined ? 'line' : 'frame')).toLowerCase().replace(/-/g, '');
  if (profile.transport === 'serial' && !SERIAL_SOURCES.includes(source)) {
    problems.add('PROFILE_INVALID', `a serial profile's source is 'line' or 'frame', not '${source}'`, [...path, 'source']);
    return undefined;
  }
  if (profile.transport === 'ble' && !BLE_UUID.test(source)) {
    problems.add('PROFILE_INVALID', `a BLE profile's source is a characteristic UUID ('2a37', or 128-bit), not '${source}'`, [...path, 'source']);
    return undefined;
  }
  if (profile.transport === 'ble-advert' && source !== 'advert') {
    problems.add('PROFILE_INVALID', `an advertisement profile's source is 'advert', not '${source}'`, [...path, 'source']);
    return undefined;
  }
  let decode: PacketDecoder;
  let values: readonly string[];
  let rows: readonly string[] = [];
  if (d.layout !== undefined) {
    try {
      decode = compileLayout(d.layout);
      ({ values, rows } = describeLayout(d.layout));
    } catch (e) {
      if (!(e instanceof LayoutOptionError)) throw e;
      // The problem is placed at its path already; the message need not repeat it.
      const said = `${keyPathOf(e.path)}: `;
      problems.add('PROFILE_INVALID', e.message.startsWith(said) ? e.message.slice(said.length) : e.message, [...path, 'layout', ...e.path]);
      return undefined;
    }
  } else if (d.lines !== undefined) {
    const compiled = compileLines(d.lines, [...path, 'lines'], problems);
    if (!compiled) return undefined;
    ({ decode, values } = compiled);
  } else {
    const { name, options = {} } = d.builtin!;
    const builtin = builtinDecoder(name);
    if (!builtin) {
      problems.add('PROFILE_INVALID', `no built-in decoder is named '${name}'; known: ${builtinDecoderNames().join(', ')}`, [...path, 'builtin', 'name']);
      return undefined;
    }
    try {
      decode = builtin.compile(options);
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      problems.add('PROFILE_INVALID', e.message, [...path, 'builtin', 'options']);
      return undefined;
    }
    ({ values, rows } = builtin.fields);
  }
  const fields = new Map<string, boolean>([...values.map((f) => [f, false] as const), ...rows.map((f) => [f, true] as const)]);
  const timeField = d.time?.field;
  if (timeField !== undefined && !fields.has(timeField)) {
    problems.add('PROFILE_INVALID', `no field '${timeField}' in this decoding; its fields: ${[...fields.keys()].join(', ')}`, [...path, 'time', 'field']);
    return undefined;
  }
  return { source, decode, fields, timeField, time: d.time ? { unit: d.time.unit, kind: d.time.kind } : undefined, bound: [] };
}

function compileLines(spec: unknown, path: Path, problems: Problems): { decode: PacketDecoder; values: string[] } | undefined {
  const kind = isObject(spec) ? spec.kind : undefined;
  const validate = typeof kind === 'string' ? validateLines[kind] : undefined;
  if (!validate) {
    problems.add('PROFILE_INVALID', `expected kind: csv, key-value or pattern, got ${JSON.stringify(kind ?? null)}`, isObject(spec) ? [...path, 'kind'] : path);
    return undefined;
  }
  if (!validate(spec)) {
    addSchemaErrors(problems, validate.errors ?? [], spec, PROFILE_ERROR_STYLE, path);
    return undefined;
  }
  const options = lineParserOptions(spec as LinesSpec);
  let parse: LineParser;
  try {
    parse = compileLineParser(options);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    problems.add('PROFILE_INVALID', e.message, path);
    return undefined;
  }
  return { decode: lineDecoder(parse), values: lineFieldNames(options) };
}

/** The profile's snake_case keys as the parsers take them; numbers by default, as devices print them. */
function lineParserOptions(spec: LinesSpec): LineParserOptions {
  const numeric = spec.numeric ?? 'all';
  if (spec.kind === 'key-value') {
    const { pair_separator, key_value_separator, ...rest } = spec;
    return {
      ...rest,
      numeric,
      ...(pair_separator !== undefined ? { pairSeparator: pair_separator } : {}),
      ...(key_value_separator !== undefined ? { keyValueSeparator: key_value_separator } : {}),
    };
  }
  return { ...spec, numeric } as LineParserOptions;
}

const HEADER: DecodedPacket = Object.freeze({ values: Object.freeze({}), rows: Object.freeze([]), errors: Object.freeze([]) }) as DecodedPacket;

function lineDecoder(parse: LineParser): PacketDecoder {
  return (bytes) => {
    const r = parse(bytes);
    if ('skipped' in r) return HEADER;
    if (isLineError(r)) {
      const where: { field?: string; byteOffset?: number } = {};
      if (r.field !== undefined) where.field = r.field;
      if (r.byteOffset !== undefined) where.byteOffset = r.byteOffset;
      return rejected(r.code, r.message, where);
    }
    return { values: r.fields, rows: [], errors: [] };
  };
}

function bindChannel(c: ChannelSpec, i: number, decodings: readonly CompiledDecoding[], problems: Problems): ChannelInfo | undefined {
  const path: Path = ['channels', i];
  const from = c.from ?? c.name;
  const users = decodings.filter((d) => d.fields.has(from));
  if (users.length === 0) {
    const known = [...new Set(decodings.flatMap((d) => [...d.fields.keys()]))];
    problems.add('PROFILE_INVALID', `no decoding gives a field '${from}'; the fields are: ${known.join(', ') || 'none'}`, [...path, c.from !== undefined ? 'from' : 'name']);
    return undefined;
  }
  if (c.min !== undefined && c.max !== undefined && c.min > c.max) {
    problems.add('PROFILE_INVALID', `min ${c.min} is above max ${c.max}`, [...path, 'min']);
    return undefined;
  }
  for (const d of users) {
    const inRows = d.fields.get(from)!;
    if (inRows && c.rate_hz === undefined && d.timeField === undefined) {
      problems.add('PROFILE_INVALID', `'${from}' has several samples per packet, so the channel needs rate_hz (or the decoding a time field) to time them`, path, 'key');
      return undefined;
    }
    d.bound.push({
      name: c.name, from, inRows, unit: c.unit,
      scale: c.scale ?? 1, offset: c.offset ?? 0, noReading: c.no_reading ?? [],
      min: c.min ?? -Infinity, max: c.max ?? Infinity,
    });
  }
  return { name: c.name, unit: c.unit, modality: c.modality, rateHz: c.rate_hz, standardCode: c.standard_code };
}

function checkFraming(framing: FramingSpec, hasLines: boolean, problems: Problems): void {
  const path: Path = ['serial', 'framing'];
  if (hasLines && framing.kind !== 'lines') problems.add('PROFILE_INVALID', `text lines need framing kind 'lines', not '${framing.kind}'`, [...path, 'kind']);
  const lengthCrcOnly = (['sync', 'length', 'crc', 'crc_byte_order', 'crc_over'] as const).filter((k) => framing[k] !== undefined);
  if (framing.kind !== 'length-crc' && lengthCrcOnly.length > 0) problems.add('PROFILE_INVALID', `${lengthCrcOnly.join(', ')}: only for framing kind 'length-crc'`, [...path, lengthCrcOnly[0]!], 'key');
  try {
    FRAMINGS[framing.kind]({ frame() {}, error() {} }, framingOptions(framing));
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    problems.add('PROFILE_INVALID', e.message, path);
  }
}

/** The framing's options as its decoder takes them. */
export function framingOptions(f: FramingSpec): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (f.max_frame_bytes !== undefined) o.maxFrameBytes = f.max_frame_bytes;
  if (f.sync !== undefined) o.sync = f.sync;
  if (f.length !== undefined) o.length = f.length;
  if (f.crc !== undefined) o.crc = f.crc;
  if (f.crc_byte_order !== undefined) o.crcByteOrder = f.crc_byte_order;
  if (f.crc_over !== undefined) o.crcOver = f.crc_over;
  return o;
}

function checkExamples(p: ProfileFile, sources: readonly string[], problems: Problems, decodingsOk: boolean): void {
  const channels = p.channels.map((c) => c.name);
  p.examples.forEach((ex, i) => {
    const path: Path = ['examples', i];
    if ((ex.hex === undefined) === (ex.text === undefined)) problems.add('PROFILE_INVALID', 'expected exactly one of hex or text', path, 'key');
    if (ex.hex !== undefined && ex.hex.replace(/[\s:]/g, '').length % 2 !== 0) problems.add('PROFILE_INVALID', 'expected whole bytes: an even number of hex digits', [...path, 'hex']);
    if ((ex.samples === undefined) === (ex.rejected === undefined)) problems.add('PROFILE_INVALID', 'expected exactly one of samples or rejected', path, 'key');
    if (ex.source !== undefined && decodingsOk && !sources.includes(ex.source.toLowerCase().replace(/-/g, ''))) problems.add('PROFILE_INVALID', `no decoding has source '${ex.source}'; sources: ${sources.join(', ')}`, [...path, 'source']);
    ex.samples?.forEach((s, j) => {
      if (!channels.includes(s.channel)) problems.add('PROFILE_INVALID', `no channel '${s.channel}'; channels: ${channels.join(', ')}`, [...path, 'samples', j, 'channel']);
    });
  });
}

/** The profile's event rules, each checked with the rules the hub applies to any event. */
function compileEvents(p: ProfileFile, problems: Problems): DeviceEventRule[] {
  const channels = p.channels.map((c) => c.name);
  const rules: DeviceEventRule[] = [];
  (p.events ?? []).forEach((spec, i) => {
    const path: Path = ['events', i];
    if (!channels.includes(spec.channel)) problems.add('PROFILE_INVALID', `no channel '${spec.channel}'; channels: ${channels.join(', ')}`, [...path, 'channel']);
    const r = compileEventRule(spec);
    if ('problems' in r) for (const x of r.problems) problems.add('PROFILE_INVALID', x.message, [...path, x.field]);
    else rules.push(r.rule);
  });
  return rules;
}

/**
 * Compiles a validated profile, adding every problem found to `problems`. Returns undefined
 * when any was found: a profile is used whole or not at all.
 */
export function compileProfile(p: ProfileFile, file: string, problems: Problems): Profile | undefined {
  const before = problems.list.length;
  const decodings: CompiledDecoding[] = [];
  const items = decodingItems(p.decode, problems);
  for (const { spec, path } of items) {
    const d = compileDecoding(spec, path, p, problems);
    if (d) decodings.push(d);
  }
  // A decoding that failed would make every channel reading it fail too: one problem is enough.
  const decodingsOk = items.length > 0 && decodings.length === items.length;
  const sources = decodings.map((d) => d.source);
  sources.forEach((s, i) => {
    if (sources.indexOf(s) !== i) problems.add('PROFILE_INVALID', `two decodings have source '${s}'`, ['decode', i, 'source']);
  });
  const channels: ChannelInfo[] = [];
  const seen = new Set<string>();
  p.channels.forEach((c, i) => {
    if (seen.has(c.name)) {
      problems.add('PROFILE_INVALID', `channel '${c.name}' is declared twice`, ['channels', i, 'name']);
      return;
    }
    seen.add(c.name);
    if (!decodingsOk) return;
    const info = bindChannel(c, i, decodings, problems);
    if (info) channels.push(info);
  });
  let serial: SerialSetup | undefined;
  if (p.transport === 'serial') {
    if (!p.serial) problems.add('PROFILE_INVALID', "a serial profile needs a 'serial' section (baud_rate, framing)", [], 'key');
    else {
      checkFraming(p.serial.framing, decodings.some((d) => d.source === 'line'), problems);
      serial = { baudRate: p.serial.baud_rate, dataBits: p.serial.data_bits, parity: p.serial.parity, stopBits: p.serial.stop_bits, framing: p.serial.framing };
    }
  } else if (p.serial) {
    problems.add('PROFILE_INVALID', `a 'serial' section is only for transport serial, not ${p.transport}`, ['serial'], 'key');
  }
  if (p.transport === 'ble') {
    if (!p.ble?.subscribe?.length && !p.ble?.read?.length) problems.add('PROFILE_INVALID', "a BLE profile needs a 'ble' section that subscribes to or reads a characteristic", p.ble ? ['ble'] : [], 'key');
    for (const [i, uuid] of (p.ble?.subscribe ?? []).entries()) {
      const written = (p.ble?.write ?? []).some((w) => w.characteristic.toLowerCase().replace(/-/g, '') === uuid.toLowerCase().replace(/-/g, ''));
      // A control point is subscribed to for its responses, and written to; it has no samples.
      if (!written && !sources.includes(uuid.toLowerCase().replace(/-/g, ''))) problems.add('PROFILE_INVALID', `no decoding has source '${uuid}' for the notifications it subscribes to; sources: ${sources.join(', ')}`, ['ble', 'subscribe', i]);
    }
  } else if (p.ble) {
    problems.add('PROFILE_INVALID', `a 'ble' section is only for transport ble, not ${p.transport}`, ['ble'], 'key');
  }
  if (p.match?.ble?.name !== undefined) {
    try {
      new RegExp(p.match.ble.name);
    } catch (e) {
      problems.add('PROFILE_INVALID', `not a regular expression: ${(e as Error).message}`, ['match', 'ble', 'name']);
    }
  }
  if (p.transport !== 'serial' && p.match?.serial) problems.add('PROFILE_INVALID', 'match.serial is only for serial profiles', ['match', 'serial'], 'key');
  if (p.transport === 'serial' && p.match?.ble) problems.add('PROFILE_INVALID', 'match.ble is only for BLE profiles', ['match', 'ble'], 'key');
  checkExamples(p, sources, problems, decodingsOk);
  const events = compileEvents(p, problems);
  if (problems.list.length > before) return undefined;

  const bySource = new Map(decodings.map((d) => [d.source, d]));
  const usb = p.match?.serial?.usb;
  return {
    id: p.id,
    version: p.version,
    title: p.title,
    file,
    transport: p.transport,
    channels,
    sources,
    serial,
    ble: p.transport === 'serial' ? undefined : bleSetup(p),
    match: {
      path: p.match?.serial?.path,
      usb: usb ? { vendorId: normalHex(usb.vendor_id), productId: usb.product_id === undefined ? undefined : normalHex(usb.product_id), serialNumber: usb.serial_number } : undefined,
    },
    examples: p.examples,
    events,
    decode(bytes, source, context) {
      const d = bySource.get(source === undefined ? sources[0]! : source.toLowerCase().replace(/-/g, ''));
      if (!d) return unknownSource(source!, sources);
      return toSamples(d.decode(bytes, context), d);
    },
  };
}

const uuid = (u: string) => u.toLowerCase().replace(/-/g, '');

function bleSetup(p: ProfileFile): BleSetup {
  const m = p.match?.ble;
  return {
    match: m && {
      ...(m.services ? { services: m.services.map(uuid) } : {}),
      ...(m.name !== undefined ? { name: m.name } : {}),
      ...(m.manufacturer_id !== undefined ? { manufacturerId: m.manufacturer_id } : {}),
      ...(m.service_data ? { serviceData: uuid(m.service_data) } : {}),
    },
    subscribe: (p.ble?.subscribe ?? []).map(uuid),
    reads: (p.ble?.read ?? []).map((r) => ({ characteristic: uuid(r.characteristic), everyMs: r.every_s * 1000 })),
    writes: (p.ble?.write ?? []).map((w) => ({ characteristic: uuid(w.characteristic), bytes: Buffer.from(w.hex.replace(/[\s:]/g, ''), 'hex') })),
  };
}

/** '0x0403', '0403', '0X0403' -> '0403': the form the system's port listing gives. */
function normalHex(id: string): string {
  return id.toLowerCase().replace(/^0x/, '');
}

function unknownSource(source: string, sources: readonly string[]): ProfileDecode {
  return {
    samples: [], rows: 0, deviceTimes: undefined, skipped: false, values: {},
    errors: [{ code: DECODE_ERRORS.UNKNOWN_SOURCE, message: `this profile does not decode source '${source}'; it decodes ${sources.join(', ')}` }],
  };
}

/** Turns a decoded packet into channel samples: scale, offset, "no reading" values and the plausible range. */
function toSamples(packet: DecodedPacket, d: CompiledDecoding): ProfileDecode {
  if (packet === HEADER) return { samples: [], errors: [], rows: 0, deviceTimes: undefined, skipped: true, values: packet.values };
  const samples: ProfileSample[] = [];
  const errors: DecodeIssue[] = packet.errors.slice();
  const rows = packet.rows.length;
  for (const c of d.bound) {
    if (!c.inRows) {
      const v = packet.values[c.from];
      if (v !== undefined) push(samples, errors, c, v, -1);
    }
  }
  for (let r = 0; r < rows; r++) {
    const row = packet.rows[r]!;
    for (const c of d.bound) {
      if (!c.inRows) continue;
      const v = row[c.from];
      if (v !== undefined) push(samples, errors, c, v, r);
    }
  }
  let deviceTimes: (number | undefined)[] | undefined;
  if (d.timeField !== undefined) {
    const f = d.timeField;
    deviceTimes = d.fields.get(f) ? packet.rows.map((row) => numberOrUndefined(row[f])) : [numberOrUndefined(packet.values[f])];
  }
  return { samples, errors, rows, deviceTimes, deviceTime: d.time, skipped: false, values: packet.values };
}

function numberOrUndefined(v: DecodedValue | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function push(samples: ProfileSample[], errors: DecodeIssue[], c: BoundChannel, v: DecodedValue, row: number): void {
  if (typeof v === 'boolean') {
    samples.push({ channel: c.name, value: v, unit: c.unit, row });
    return;
  }
  if (typeof v === 'string') {
    errors.push({ code: DECODE_ERRORS.INVALID, message: `channel '${c.name}': field '${c.from}' is text (${JSON.stringify(v.slice(0, 32))}), not a number`, field: c.from });
    return;
  }
  if (typeof v === 'number') {
    const value = scaled(c, v, errors);
    if (value !== undefined) samples.push({ channel: c.name, value, unit: c.unit, row });
    return;
  }
  const out: number[] = [];
  for (const x of v) {
    const value = scaled(c, x, errors);
    if (value === undefined) return;
    out.push(value);
  }
  samples.push({ channel: c.name, value: out, unit: c.unit, row });
}

function scaled(c: BoundChannel, raw: number, errors: DecodeIssue[]): number | undefined {
  if (c.noReading.includes(raw)) {
    errors.push({ code: DECODE_ERRORS.NO_READING, message: `channel '${c.name}': ${raw} means no reading`, field: c.from });
    return undefined;
  }
  const value = raw * c.scale + c.offset;
  if (!(value >= c.min && value <= c.max)) {
    errors.push({ code: DECODE_ERRORS.OUT_OF_RANGE, message: `channel '${c.name}': ${value} ${c.unit} is outside ${c.min} to ${c.max}`, field: c.from });
    return undefined;
  }
  return value;
}

/**
 * What the text-line parsers share: the per-line error codes, result types and the helpers the
 * formats use at compile time and per line. line-parser.ts puts the formats together.
 */
import type { LineChecksumOptions } from './line-checksum.js';

const TAB = 0x09;


/**
 * Per-line data error codes. Like the framing codes they are not TwinedgeError codes: nothing is
 * thrown, they are counted by code. Codes are stable and never reused.
 */
export const LINE_ERRORS = {
  /** A field declared numeric held something that is not a finite decimal number. */
  BAD_NUMBER: 'LINE_BAD_NUMBER',
  /** A field the profile requires was absent or empty. */
  MISSING_FIELD: 'LINE_MISSING_FIELD',
  /** A CSV line had another number of columns than the profile declares. */
  BAD_COLUMNS: 'LINE_BAD_COLUMNS',
  /** The line did not match the profile's pattern. */
  NO_MATCH: 'LINE_NO_MATCH',
  /** The checksum suffix was missing, malformed or did not match the line. */
  BAD_CHECKSUM: 'LINE_BAD_CHECKSUM',
  /** The line was not UTF-8 text, or held control characters other than tab. */
  NOT_TEXT: 'LINE_NOT_TEXT',
} as const;

export type LineErrorCode = (typeof LINE_ERRORS)[keyof typeof LINE_ERRORS];

/** A line that could not be read. */
export interface LineError {
  readonly code: LineErrorCode;
  readonly message: string;
  /** The field concerned, by its name in the profile. */
  readonly field?: string;
  /** CSV: the column concerned, counted from 1. */
  readonly column?: number;
  /** Offset in the line's bytes of the first byte concerned (NOT_TEXT, BAD_CHECKSUM). */
  readonly byteOffset?: number;
}

export type FieldValue = number | string;

/** A line that was read: each field the profile declares, by name; optional fields that were absent are left out. */
export interface LineFields {
  readonly fields: Readonly<Record<string, FieldValue>>;
}

/** A CSV header line (the column names), recognised and skipped: no fields, and not an error. */
export interface LineSkipped {
  readonly skipped: 'header';
}

/** The one value every parser returns for a skipped header line. */
export const LINE_HEADER_SKIPPED: LineSkipped = Object.freeze({ skipped: 'header' });

export type LineResult = LineFields | LineSkipped | LineError;

/** Parses one line's bytes (newline already removed). Never throws on the bytes. */
export type LineParser = (line: Uint8Array) => LineResult;

/** What a format compiles to: it reads the line's text once bytes, text and checksum are checked. */
export type TextLineParser = (text: string) => LineResult;

export function isLineError(result: LineResult): result is LineError {
  return 'code' in result;
}

/** Which fields become numbers: 'all' of them, or those named. The others stay strings. */
export type NumericFields = 'all' | readonly string[];

/** Options every format takes. */
export interface LineOptionsBase {
  /** Fields that are numbers; the others are strings. Default: none. */
  readonly numeric?: NumericFields;
  /** A checksum suffix to check and strip before parsing. Default: none. */
  readonly checksum?: LineChecksumOptions;
}

/**
 * The offset of the first byte in [start, end) that is not part of UTF-8 text, or -1. Refused:
 * control characters other than tab (C0 and DEL), and what the WHATWG UTF-8 decoder refuses in
 * fatal mode: stray continuation bytes, overlong forms, surrogates, code points past U+10FFFF,
 * truncated sequences. For a bad multi-byte sequence the offset is that of its lead byte.
 */
export function firstNonTextByte(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const b = bytes[i]!;
    if (b < 0x80) {
      if ((b < 0x20 && b !== TAB) || b === 0x7f) return i;
      i++;
      continue;
    }
    let more: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) more = 1;
    else if (b === 0xe0) { more = 2; lo = 0xa0; }
    else if (b === 0xed) { more = 2; hi = 0x9f; }
    else if (b >= 0xe1 && b <= 0xef) more = 2;
    else if (b === 0xf0) { more = 3; lo = 0x90; }
    else if (b === 0xf4) { more = 3; hi = 0x8f; }
    else if (b >= 0xf1 && b <= 0xf3) more = 3;
    else return i;
    if (i + more >= end) return i;
    const second = bytes[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= more; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += more + 1;
  }
  return -1;
}

// ---- Helpers for the format modules: compile-time checks, and the per-line number reading. ----

export function lineError(code: LineErrorCode, message: string, where?: { field?: string; column?: number; byteOffset?: number }): LineError {
  return where === undefined ? { code, message } : { code, message, ...where };
}

// A plain decimal: optional sign, digits with an optional fraction, optional exponent. Number()
// alone would also take '', ' 1 ', '0x1F', '0b1' and 'Infinity'.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The value of a decimal number written in text, or undefined if it is not one or not finite. */
export function parseDecimal(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** Reads a field's text as the profile declares it: a number, a string, or a LineError. */
export function fieldValue(text: string, numeric: boolean, field: string, column?: number): FieldValue | LineError {
  if (!numeric) return text;
  const n = parseDecimal(text);
  if (n !== undefined) return n;
  const shown = text.length > 32 ? `${text.slice(0, 32)}...` : text;
  return lineError(LINE_ERRORS.BAD_NUMBER, `${field}: ${JSON.stringify(shown)} is not a number`, column === undefined ? { field } : { field, column });
}

/** Refuses option keys a format does not know (a typo, or an option of another version). */
export function checkOptionKeys(options: object, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new TypeError(`${what}: unknown option '${key}' (a typo, or not in this version); known: ${allowed.join(', ')}`);
  }
}

/** A field name: a non-empty string of at most 64 characters. '__proto__' is refused: fields are plain objects. */
export function checkFieldName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64) throw new TypeError(`${what}: a field name must be a string of 1 to 64 characters, not ${JSON.stringify(name)}`);
  if (name === '__proto__') throw new TypeError(`${what}: '__proto__' cannot be a field name`);
  return name;
}

/** A list of distinct names, or undefined for an absent option. */
export function checkNameList(list: unknown, option: string, what: string): readonly string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError(`${what}: ${option} must be a list of names`);
  const seen = new Set<string>();
  for (const name of list) {
    checkFieldName(name, `${what} ${option}`);
    if (seen.has(name)) throw new TypeError(`${what}: ${option} names '${name}' twice`);
    seen.add(name);
  }
  return list;
}

/** For each declared field, whether it is numeric. Every name in a numeric list must be declared. */
export function numericFlags(numeric: NumericFields | undefined, declared: readonly string[], what: string): boolean[] {
  if (numeric === undefined) return declared.map(() => false);
  if (numeric === 'all') return declared.map(() => true);
  const names = checkNameList(numeric, 'numeric', what);
  for (const name of names) {
    if (!declared.includes(name)) throw new TypeError(`${what}: numeric names '${name}', which is not one of its fields (${declared.join(', ')})`);
  }
  return declared.map((name) => names.includes(name));
}

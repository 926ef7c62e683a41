/**
 * Text-line parsers for device profiles. A framing has already cut the serial stream into lines
 * (bytes, newline removed); a profile names how to read one: as CSV, as key=value pairs, or with a
 * regular expression, optionally after checking and stripping a suffix checksum.
 *
 * A parser is compiled once, at profile load, from its options: compileLineParser() validates
 * them (a bad option throws a TypeError, which the profile loader reports with its file and
 * line) and returns a plain function. Per line that function does one pass over the bytes, the
 * checksum (if any), one decode to a string and the format's own work; it never throws on what
 * the device sends. Bad bytes are data: it returns a LineError value, and the stage above counts
 * it by code.
 *
 * Per line, in order:
 * 1. Trailing CR, LF, spaces and tabs are dropped (a tab is kept when it is the CSV delimiter,
 *    where a trailing tab means an empty last column). Leading bytes are kept.
 * 2. The rest must be UTF-8 text without control characters (tab allowed): else LINE_NOT_TEXT.
 * 3. The checksum suffix, if the profile names one, is checked and stripped (line-checksum.ts).
 * 4. The format parses the text in between (csv.ts, key-value.ts, pattern.ts).

 */
import { compileCsv, type CsvOptions } from './csv.js';
import { compileKeyValue, type KeyValueOptions } from './key-value.js';
import { firstNonTextByte, LINE_ERRORS, lineError, type LineParser, type LineResult, type TextLineParser } from './line-common.js';
import { compileLineChecksum, type LineSpan } from './line-checksum.js';
import { compilePattern, patternGroupNames, type PatternOptions } from './pattern.js';

export type LineParserOptions = CsvOptions | KeyValueOptions | PatternOptions;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;

// The bytes were checked to be UTF-8 before decoding, so this decoder never meets a bad sequence.
// ignoreBOM keeps a U+FEFF in the text, as it was sent, rather than silently dropping it.
const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Compiles a parser from a profile's options. Throws a TypeError for a bad option. */
export function compileLineParser(options: LineParserOptions): LineParser {
  if (options === null || typeof options !== 'object') throw new TypeError('line parser options must be an object');
  let parseText: TextLineParser;
  switch (options.kind) {
    case 'csv': parseText = compileCsv(options); break;
    case 'key-value': parseText = compileKeyValue(options); break;
    case 'pattern': parseText = compilePattern(options); break;
    default: throw new TypeError(`line parser kind must be 'csv', 'key-value' or 'pattern', not ${JSON.stringify((options as { kind?: unknown }).kind)}`);
  }
  const keepTab = options.kind === 'csv' && options.delimiter === '\t';
  const check = options.checksum === undefined ? undefined : compileLineChecksum(options.checksum);
  // One span for the checksum to report the payload in: parsing is synchronous, so it is never shared.
  const span: LineSpan = { start: 0, end: 0 };

  return (line: Uint8Array): LineResult => {
    let end = line.length;
    while (end > 0) {
      const b = line[end - 1]!;
      if (b === CR || b === LF || b === SP || (b === TAB && !keepTab)) end--;
      else break;
    }
    const bad = firstNonTextByte(line, 0, end);
    if (bad >= 0) return lineError(LINE_ERRORS.NOT_TEXT, `byte ${bad} (0x${line[bad]!.toString(16).padStart(2, '0')}) is not text`, { byteOffset: bad });
    let start = 0;
    if (check !== undefined) {
      const error = check(line, end, span);
      if (error !== undefined) return error;
      start = span.start;
      end = span.end;
    }
    return parseText(UTF8.decode(line.subarray(start, end)));
  };
}

/** The names of the fields a line format can give (options already compiled, so valid). */
export function lineFieldNames(options: LineParserOptions): string[] {
  switch (options.kind) {
    case 'csv': return options.columns.filter((name) => name !== '_');
    case 'key-value': return [...(options.required ?? []), ...(options.optional ?? [])];
    case 'pattern': return patternGroupNames(options.regex);
  }
}

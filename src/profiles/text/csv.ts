/**
 * CSV lines: named columns in a fixed order, e.g. "1699999999123,98,65" read as time, spo2, pr.
 *
 * - delimiter: ',' (default), ';', '\t' or ' '. With ' ', a run of spaces is one delimiter and
 *   leading spaces are skipped, as devices that align their columns print them.
 * - No quoting: devices that print CSV do not quote, and a quote is kept as a character.
 * - A column named '_' is read past and ignored (it may be empty); every other column needs a
 *   non-empty value (else LINE_MISSING_FIELD). The line must have exactly as many columns as
 *   declared (else LINE_BAD_COLUMNS).
 * - trim: drop whitespace around each value (default false).
 * - header: a line that is the column names ('_' columns match anything) is skipped, returned as
 *   LINE_HEADER_SKIPPED (default false).
 */
import {
  checkFieldName, checkOptionKeys, fieldValue, LINE_ERRORS, LINE_HEADER_SKIPPED, lineError, numericFlags,
  type FieldValue, type LineOptionsBase, type TextLineParser,
} from './line-common.js';

export type CsvDelimiter = ',' | ';' | '\t' | ' ';

export interface CsvOptions extends LineOptionsBase {
  readonly kind: 'csv';
  /** Column names in order; '_' for a column to ignore. */
  readonly columns: readonly string[];
  readonly delimiter?: CsvDelimiter;
  readonly header?: boolean;
  readonly trim?: boolean;
}

const DELIMITERS: readonly string[] = [',', ';', '\t', ' '];
const OPTION_KEYS = ['kind', 'columns', 'delimiter', 'header', 'trim', 'numeric', 'checksum'];
const IGNORED = '_';

export function compileCsv(options: CsvOptions): TextLineParser {
  const what = 'csv line';
  checkOptionKeys(options, OPTION_KEYS, what);
  const { columns, delimiter = ',', header = false, trim = false } = options;
  if (!Array.isArray(columns) || columns.length === 0) throw new TypeError(`${what}: columns must be a non-empty list of names`);
  const seen = new Set<string>();
  for (const name of columns) {
    checkFieldName(name, `${what} column`);
    if (name === IGNORED) continue;
    if (seen.has(name)) throw new TypeError(`${what}: column '${name}' is named twice`);
    seen.add(name);
  }
  if (seen.size === 0) throw new TypeError(`${what}: every column is '_', so a line would give no field`);
  if (!DELIMITERS.includes(delimiter)) throw new TypeError(`${what}: delimiter must be one of ',', ';', tab or space, not ${JSON.stringify(delimiter)}`);
  if (typeof header !== 'boolean') throw new TypeError(`${what}: header must be true or false`);
  if (typeof trim !== 'boolean') throw new TypeError(`${what}: trim must be true or false`);

  const n = columns.length;
  const names: readonly string[] = columns.slice();
  const declared = names.filter((name) => name !== IGNORED);
  const flags = numericFlags(options.numeric, declared, what);
  const numeric = names.map((name) => name !== IGNORED && flags[declared.indexOf(name)]!);
  const collapse = delimiter === ' ';
  // Reused for every line: parsing is synchronous, so it is never shared.
  const cells: string[] = new Array<string>(n).fill('');

  /** Splits text into cells (at most n kept) and returns how many columns it has. */
  const split = (text: string): number => {
    let count = 0;
    let pos = 0;
    const len = text.length;
    if (collapse) while (pos < len && text.charCodeAt(pos) === 0x20) pos++;
    for (;;) {
      const next = text.indexOf(delimiter, pos);
      const stop = next < 0 ? len : next;
      if (count < n) cells[count] = trim ? text.slice(pos, stop).trim() : text.slice(pos, stop);
      count++;
      if (next < 0) return count;
      pos = next + 1;
      if (collapse) {
        while (pos < len && text.charCodeAt(pos) === 0x20) pos++;
        if (pos === len) return count;
      }
    }
  };

  const isHeader = (): boolean => {
    for (let i = 0; i < n; i++) if (names[i] !== IGNORED && cells[i] !== names[i]) return false;
    return true;
  };

  return (text) => {
    const count = split(text);
    if (count !== n) return lineError(LINE_ERRORS.BAD_COLUMNS, `${count} columns, not the ${n} declared`);
    if (header && isHeader()) return LINE_HEADER_SKIPPED;
    const fields: Record<string, FieldValue> = {};
    for (let i = 0; i < n; i++) {
      const name = names[i]!;
      if (name === IGNORED) continue;
      const cell = cells[i]!;
      if (cell.length === 0) return lineError(LINE_ERRORS.MISSING_FIELD, `${name} (column ${i + 1}) is empty`, { field: name, column: i + 1 });
      const value = fieldValue(cell, numeric[i]!, name, i + 1);
      if (typeof value === 'object') return value;
      fields[name] = value;
    }
    return { fields };
  };
}

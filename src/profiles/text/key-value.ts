/**
 * Key/value lines: "spo2=97 pr=64", "SPO2:97,PR:64", "SpO2: 97, PR: 64".
 *
 * - pairSeparator (default ' ') between pairs, keyValueSeparator (default '=') between a key and
 *   its value. Whitespace around keys and values is dropped; empty pairs (",," or a run of
 *   spaces) are skipped.
 * - required keys must be there with a non-empty value (else LINE_MISSING_FIELD); optional keys
 *   may be absent or empty, and are then left out of the fields. Keys are matched exactly (case
 *   too); a field is named by its key. Other keys are ignored, as are pairs without a separator
 *   (so a required key written alone, without its separator, is missing).
 * - A key given twice: the last value counts.
 */
import {
  checkNameList, checkOptionKeys, fieldValue, LINE_ERRORS, lineError, numericFlags,
  type FieldValue, type LineOptionsBase, type TextLineParser,
} from './line-common.js';

export interface KeyValueOptions extends LineOptionsBase {
  readonly kind: 'key-value';
  readonly required?: readonly string[];
  readonly optional?: readonly string[];
  readonly pairSeparator?: string;
  readonly keyValueSeparator?: string;
}

const OPTION_KEYS = ['kind', 'required', 'optional', 'pairSeparator', 'keyValueSeparator', 'numeric', 'checksum'];

function checkSeparator(value: unknown, option: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 8 || /[^\x20-\x7e]/.test(value)) {
    throw new TypeError(`${what}: ${option} must be 1 to 8 printable ASCII characters, not ${JSON.stringify(value)}`);
  }
  return value;
}

export function compileKeyValue(options: KeyValueOptions): TextLineParser {
  const what = 'key-value line';
  checkOptionKeys(options, OPTION_KEYS, what);
  const pairSep = checkSeparator(options.pairSeparator ?? ' ', 'pairSeparator', what);
  const kvSep = checkSeparator(options.keyValueSeparator ?? '=', 'keyValueSeparator', what);
  if (pairSep.includes(kvSep) || kvSep.includes(pairSep)) throw new TypeError(`${what}: pairSeparator ${JSON.stringify(pairSep)} and keyValueSeparator ${JSON.stringify(kvSep)} overlap`);
  const required = checkNameList(options.required, 'required', what);
  const optional = checkNameList(options.optional, 'optional', what);
  const keys = [...required, ...optional];
  if (keys.length === 0) throw new TypeError(`${what}: no keys: name required and/or optional keys`);
  for (const key of keys) {
    if (key.trim() !== key || key.includes(pairSep) || key.includes(kvSep)) throw new TypeError(`${what}: key ${JSON.stringify(key)} cannot be found in a line (whitespace at its ends, or a separator in it)`);
  }
  if (new Set(keys).size !== keys.length) throw new TypeError(`${what}: a key is both required and optional`);
  const numeric = numericFlags(options.numeric, keys, what);
  const nRequired = required.length;
  const slots = new Map<string, number>(keys.map((key, i) => [key, i]));
  // Reused for every line: parsing is synchronous, so it is never shared.
  const values: (string | undefined)[] = new Array<string | undefined>(keys.length).fill(undefined);

  return (text) => {
    values.fill(undefined);
    const len = text.length;
    let pos = 0;
    // The next key/value separator at or after pos (len + 1 when there is none left): found once
    // per occurrence, so a long line without separators costs one scan, not one per pair.
    let kvAt = -1;
    while (pos <= len) {
      let next = text.indexOf(pairSep, pos);
      if (next < 0) next = len;
      if (kvAt < pos) {
        kvAt = text.indexOf(kvSep, pos);
        if (kvAt < 0) kvAt = len + 1;
      }
      if (kvAt < next) {
        const slot = slots.get(text.slice(pos, kvAt).trim());
        if (slot !== undefined) values[slot] = text.slice(kvAt + kvSep.length, next).trim();
      }
      pos = next + pairSep.length;
    }
    const fields: Record<string, FieldValue> = {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const raw = values[i];
      if (raw === undefined || raw.length === 0) {
        if (i < nRequired) return lineError(LINE_ERRORS.MISSING_FIELD, raw === undefined ? `no ${key}` : `${key} has no value`, { field: key });
        continue;
      }
      const value = fieldValue(raw, numeric[i]!, key);
      if (typeof value === 'object') return value;
      fields[key] = value;
    }
    return { fields };
  };
}

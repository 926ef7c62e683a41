/**
 * Suffix checksums on text lines, checked and stripped before the line is parsed.
 *
 * - 'nmea': "$<text>*hh", as NMEA 0183 sentences: the XOR of the bytes between the '$' and the
 *   '*' (from the line's start when it does not begin with '$'), as two hex digits. The payload
 *   handed on is the text between them, without the '$'.
 * - 'crc8' (CRC-8/SMBUS), 'crc16-ccitt' (CRC-16/IBM-3740, "CCITT-FALSE"), 'crc16-modbus':
 *   "<text><separator>hh" or "...hhhh", the CRC of the bytes of <text> (everything before the
 *   separator) as 2 or 4 hex digits, the most significant first. The separator is '*' unless the
 *   profile says otherwise. The payload is <text>.
 *
 * Hex digits may be upper or lower case. The checksum is the last thing on the line (trailing
 * CR, LF and spaces were dropped before): the separator must sit right before the last 2 or 4
 * characters, so nothing is searched for.
 */
import { crc16Ccitt, crc16Modbus, crc8, nmeaXor } from '../../transports/checksums.js';
import { checkOptionKeys, LINE_ERRORS, lineError, type LineError } from './line-common.js';

export type LineChecksumOptions =
  | { readonly kind: 'nmea' }
  | { readonly kind: 'crc8' | 'crc16-ccitt' | 'crc16-modbus'; readonly separator?: string };

export type LineChecksumKind = LineChecksumOptions['kind'];

/** Where the payload lies in the line, set by a successful check. */
export interface LineSpan {
  start: number;
  end: number;
}

/**
 * Checks the checksum of line[0, end) and sets span to the payload; or returns why not
 * (LINE_BAD_CHECKSUM). Never throws on the bytes.
 */
export type LineChecksumCheck = (line: Uint8Array, end: number, span: LineSpan) => LineError | undefined;

type Sum = (data: Uint8Array, offset: number, length: number) => number;

const KINDS: Readonly<Record<LineChecksumKind, { sum: Sum; digits: number }>> = {
  'nmea': { sum: nmeaXor, digits: 2 },
  'crc8': { sum: crc8, digits: 2 },
  'crc16-ccitt': { sum: crc16Ccitt, digits: 4 },
  'crc16-modbus': { sum: crc16Modbus, digits: 4 },
};

const DOLLAR = 0x24;

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

export function compileLineChecksum(options: LineChecksumOptions): LineChecksumCheck {
  const what = 'line checksum';
  if (options === null || typeof options !== 'object') throw new TypeError(`${what} must be an object with a kind`);
  const kind = options.kind;
  if (!Object.hasOwn(KINDS, kind)) throw new TypeError(`${what} kind must be one of ${Object.keys(KINDS).join(', ')}, not ${JSON.stringify(kind)}`);
  const { sum, digits } = KINDS[kind];
  let separator = '*';
  if (kind === 'nmea') {
    checkOptionKeys(options, ['kind'], `${what} 'nmea'`);
  } else {
    checkOptionKeys(options, ['kind', 'separator'], `${what} '${kind}'`);
    const given = (options as { separator?: unknown }).separator;
    if (given !== undefined) {
      if (typeof given !== 'string' || !/^[\x20-\x7e]{1,8}$/.test(given)) throw new TypeError(`${what}: separator must be 1 to 8 printable ASCII characters, not ${JSON.stringify(given)}`);
      separator = given;
    }
  }
  const sep = Uint8Array.from(separator, (c) => c.charCodeAt(0));
  const nmea = kind === 'nmea';
  const width = digits;

  return (line, end, span) => {
    const sepAt = end - width - sep.length;
    if (sepAt < 0) return lineError(LINE_ERRORS.BAD_CHECKSUM, `no checksum: the line is shorter than '${separator}' and ${width} hex digits`, { byteOffset: end });
    for (let k = 0; k < sep.length; k++) {
      if (line[sepAt + k] !== sep[k]) return lineError(LINE_ERRORS.BAD_CHECKSUM, `no checksum: '${separator}' is not before the last ${width} characters`, { byteOffset: sepAt });
    }
    const digitsAt = sepAt + sep.length;
    let expected = 0;
    for (let k = 0; k < width; k++) {
      const d = hexDigit(line[digitsAt + k]!);
      if (d < 0) return lineError(LINE_ERRORS.BAD_CHECKSUM, `checksum: byte ${digitsAt + k} is not a hex digit`, { byteOffset: digitsAt + k });
      expected = expected * 16 + d;
    }
    const start = nmea && sepAt > 0 && line[0] === DOLLAR ? 1 : 0;
    const actual = sum(line, start, sepAt - start);
    if (actual !== expected) {
      const hex = (n: number) => n.toString(16).toUpperCase().padStart(width, '0');
      return lineError(LINE_ERRORS.BAD_CHECKSUM, `checksum ${hex(expected)} does not match the line's ${hex(actual)}`, { byteOffset: digitsAt });
    }
    span.start = start;
    span.end = sepAt;
    return undefined;
  };
}

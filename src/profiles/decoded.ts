/**
 * What every packet decoder of a profile returns, whatever it reads (a binary layout, a text
 * line, a built-in decoder): named values, and the problems found. The profile then turns named
 * values into channel samples (profile.ts); decoders know nothing of channels, units or time.
 *
 * Bad bytes are data: a decoder never throws on what a device sends. It returns its problems as
 * values, and the stage above counts them by code.
 */

/** One decoded value: a number, a list of numbers (a repeated field), a flag or a text field. */
export type DecodedValue = number | readonly number[] | boolean | string;

export type DecodedValues = Record<string, DecodedValue>;

/**
 * Per-packet data problem codes. Not TwinedgeError codes: nothing is thrown, they are counted by
 * code and shown by `twinedge decode`. Codes are stable and never reused.
 */
export const DECODE_ERRORS = {
  /** The packet ended before a field it must hold; the whole packet is rejected. */
  SHORT: 'DECODE_SHORT',
  /** Bytes were left after the last field; the whole packet is rejected. */
  TRAILING: 'DECODE_TRAILING',
  /** A field that must hold a fixed value (a packet type, a header byte) held another; the whole packet is rejected. */
  UNEXPECTED: 'DECODE_UNEXPECTED',
  /** An IEEE-11073 special value (NaN, NRes, +INFINITY, -INFINITY, RESERVED): that field is dropped, the rest kept. */
  SPECIAL_VALUE: 'DECODE_SPECIAL_VALUE',
  /** The device said it has no reading (a sentinel the profile names, e.g. 127 for SpO2): that sample is dropped. */
  NO_READING: 'DECODE_NO_READING',
  /** A value outside the range the profile allows: that sample is dropped. */
  OUT_OF_RANGE: 'DECODE_OUT_OF_RANGE',
  /** The packet came from a source (a characteristic, `advert`, `line`) the profile does not decode. */
  UNKNOWN_SOURCE: 'DECODE_UNKNOWN_SOURCE',
  /** A built-in decoder refused the packet for a reason of its format; its message says which. */
  INVALID: 'DECODE_INVALID',
} as const;

export type DecodeErrorCode = (typeof DECODE_ERRORS)[keyof typeof DECODE_ERRORS];

/**
 * A problem found in one packet. `code` is a DECODE_* code above, or a LINE_* code from a text
 * parser; the message names the field and the byte concerned.
 */
export interface DecodeIssue {
  readonly code: string;
  readonly message: string;
  /** The field concerned, by its name in the profile. */
  readonly field?: string;
  /** Offset in the packet of the first byte concerned. */
  readonly byteOffset?: number;
}

/**
 * A decoded packet.
 * - `values`: the packet's own fields (one value each per packet).
 * - `rows`: for a packet that carries several samples of the same fields (a repeated group, e.g.
 *   four accelerometer readings at 100 Hz), one entry per sample, oldest first. Empty otherwise.
 * - `errors`: problems. A rejected packet has no values and no rows and at least one error; a
 *   packet with a dropped field (a special value) has the other values and an error for it.
 */
export interface DecodedPacket {
  readonly values: DecodedValues;
  readonly rows: readonly DecodedValues[];
  readonly errors: readonly DecodeIssue[];
}

/**
 * What a decoder may need to know of the device a packet came from, beyond its bytes: its
 * address (a BTHome nonce holds the MAC) and its secrets from the config (a BTHome bind key).
 * Decoders that need none ignore it.
 */
export interface DecodeContext {
  /** The device's address: a BLE MAC as 'aa:bb:cc:dd:ee:ff', or a serial path. */
  readonly address?: string;
  /** A per-device key from the config (BTHome: the 16-byte AES-CCM bind key). */
  readonly key?: Uint8Array;
}

/** Decodes one packet (a frame's bytes, a line, a notification). Never throws on its input. */
export type PacketDecoder = (bytes: Uint8Array, context?: DecodeContext) => DecodedPacket;

/** A rejected packet: nothing decoded, one error. */
export function rejected(code: string, message: string, where?: { field?: string; byteOffset?: number }): DecodedPacket {
  return { values: {}, rows: [], errors: [where === undefined ? { code, message } : { code, message, ...where }] };
}

export function isRejected(packet: DecodedPacket): boolean {
  return packet.errors.length > 0 && packet.rows.length === 0 && Object.keys(packet.values).length === 0;
}

import { FRAME_KINDS, type FrameKind } from '../frames/codec.js';
import type { OutboxRecord } from './outbox.js';

/**
 * How a frame sits in LevelDB: key `f!` + seq as 16 hex digits (so that key order is seq order),
 * value [format 1][kind index][subject length][subject utf8][signed frame bytes].
 */

export const FRAME_PREFIX = 'f!';
export const FRAME_RANGE = { gt: 'f!', lt: 'f"' } as const;
const FORMAT = 1;

export function frameKey(seq: number): string {
  return FRAME_PREFIX + seq.toString(16).padStart(16, '0');
}

export function seqOfKey(key: string): number {
  return parseInt(key.slice(FRAME_PREFIX.length), 16);
}

export function encodeRecord(subjectRef: string, kind: FrameKind, payload: Uint8Array): Uint8Array {
  const subject = Buffer.from(subjectRef, 'utf8');
  if (subject.length > 255) throw new TypeError('subject_ref longer than 255 bytes');
  const out = Buffer.allocUnsafe(3 + subject.length + payload.length);
  out[0] = FORMAT;
  out[1] = FRAME_KINDS.indexOf(kind);
  out[2] = subject.length;
  subject.copy(out, 3);
  out.set(payload, 3 + subject.length);
  return out;
}

/** undefined when the stored bytes are not a record this version wrote. */
export function decodeRecord(seq: number, value: Uint8Array): OutboxRecord | undefined {
  if (value.length < 3 || value[0] !== FORMAT) return undefined;
  const kind = FRAME_KINDS[value[1]!];
  const subjectEnd = 3 + value[2]!;
  if (!kind || subjectEnd > value.length) return undefined;
  const subjectRef = Buffer.from(value.buffer, value.byteOffset + 3, value[2]!).toString('utf8');
  return { seq, subjectRef, kind, payload: value.subarray(subjectEnd) };
}

/** Bytes a record costs against the quota: key and value. */
export function recordCost(valueLength: number): number {
  return 18 + valueLength;
}

import { FRAME_KINDS } from '../frames/codec.js';
import type { OutboxRecord } from './outbox.js';

/**
 * How frames sit in LevelDB: each write batch stores its frames as one segment, a value holding
 * consecutive seqs, under the key `f!` + its first seq as 16 hex digits (key order is seq order).
 * One put per batch instead of one per frame: per-operation overhead, not bytes, bounded the
 * outbox. Acknowledged segments are removed by key range.
 *
 * Value: [format 2][count u32 BE] then per frame [payload length u32 BE][kind index][subject
 * length][subject utf8][signed frame bytes].
 */

export const SEGMENT_RANGE = { gt: 'f!', lt: 'f"' } as const;
const PREFIX = 'f!';
const FORMAT = 2;
const FRAME_HEADER = 6;

export function segmentKey(firstSeq: number): string {
  return PREFIX + firstSeq.toString(16).padStart(16, '0');
}

export function seqOfKey(key: string): number {
  return parseInt(key.slice(PREFIX.length), 16);
}

/** Bytes a frame costs against the quota. */
export function frameCost(rec: OutboxRecord): number {
  return FRAME_HEADER + Buffer.byteLength(rec.subjectRef) + rec.payload.length;
}

/** Encodes frames with consecutive seqs; a hole is a bug in the caller. */
export function encodeSegment(records: readonly OutboxRecord[]): Uint8Array {
  let size = 5;
  const subjects: Buffer[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.seq !== records[0]!.seq + i) throw new TypeError(`segment seqs not consecutive at ${r.seq}`);
    const subject = Buffer.from(r.subjectRef, 'utf8');
    if (subject.length > 255) throw new TypeError('subject_ref longer than 255 bytes');
    subjects.push(subject);
    size += FRAME_HEADER + subject.length + r.payload.length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = FORMAT;
  out.writeUInt32BE(records.length, 1);
  let at = 5;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const subject = subjects[i]!;
    out.writeUInt32BE(r.payload.length, at);
    out[at + 4] = FRAME_KINDS.indexOf(r.kind);
    out[at + 5] = subject.length;
    subject.copy(out, at + FRAME_HEADER);
    at += FRAME_HEADER + subject.length;
    out.set(r.payload, at);
    at += r.payload.length;
  }
  return out;
}

/** The frames of a segment as views into `value`; undefined when the bytes are damaged. */
export function decodeSegment(firstSeq: number, value: Uint8Array): OutboxRecord[] | undefined {
  const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (buf.length < 5 || buf[0] !== FORMAT) return undefined;
  const count = buf.readUInt32BE(1);
  const out: OutboxRecord[] = [];
  let at = 5;
  for (let i = 0; i < count; i++) {
    if (at + FRAME_HEADER > buf.length) return undefined;
    const len = buf.readUInt32BE(at);
    const kind = FRAME_KINDS[buf[at + 4]!];
    const subjectLength = buf[at + 5]!;
    const payloadAt = at + FRAME_HEADER + subjectLength;
    if (!kind || payloadAt + len > buf.length) return undefined;
    out.push({ seq: firstSeq + i, kind, subjectRef: buf.toString('utf8', at + FRAME_HEADER, payloadAt), payload: buf.subarray(payloadAt, payloadAt + len) });
    at = payloadAt + len;
  }
  return at === buf.length ? out : undefined;
}

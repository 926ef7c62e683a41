import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { TwinedgeError } from '../../ops/errors.js';
import type { AcceptedFrame } from '../verify.js';
import type { Sink } from './sink.js';

/**
 * One JSON object a line per accepted frame: the header fields, the key that verified it, and
 * the decoded payload under `payload`. Field names are the proto's; enums are their numbers
 * (frame.proto says what they mean); bytes fields are base64 and 64-bit integers that do not
 * fit a double are strings, as in the proto3 JSON mapping.
 */
export interface JsonlRecord {
  hub_id: string;
  subject_ref: string;
  seq: number;
  kind: string;
  key_id: string;
  boot_id: string;
  wall_ms: number;
  mono_ms: number;
  clock_status: number;
  clock_jump_ms: number;
  topic: string;
  /** For a payload that arrived sealed, the Sealed message itself when it stayed 'closed'. */
  payload: unknown;
  /** Present when the payload arrived sealed: 'opened' by this receiver, or 'closed' (no open key). */
  sealed?: 'opened' | 'closed';
}

export function jsonlRecord(frame: AcceptedFrame): JsonlRecord {
  const b = frame.body;
  return {
    hub_id: frame.hub_id,
    subject_ref: frame.subject_ref,
    seq: frame.seq,
    kind: frame.kind,
    key_id: frame.key_id,
    boot_id: b.boot_id,
    wall_ms: b.wall_ms,
    mono_ms: b.mono_ms,
    clock_status: b.clock_status,
    clock_jump_ms: b.clock_jump_ms ?? 0,
    topic: frame.topic,
    payload: frame.sealed === 'closed' ? b.sealed : b[frame.kind],
    ...(frame.sealed ? { sealed: frame.sealed } : {}),
  };
}

/** JSON.stringify replacer: `this[key]` is the value before toJSON, so Buffers are caught too. */
function jsonSafe(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}

export function jsonLine(frame: AcceptedFrame): string {
  return JSON.stringify(jsonlRecord(frame), jsonSafe) + '\n';
}

export type JsonlDestination =
  /** Appended to (a restarted receiver continues the file); fsynced on close. */
  | { readonly path: string }
  /** The caller's stream (stdout): never ended by the sink. */
  | { readonly stream: NodeJS.WritableStream };

/**
 * JSON lines to a file or a stream. A file is written with one write(2) per frame before `write`
 * returns: the line is in the kernel when the frame is acknowledged, so it survives a crash of
 * the receiver, and nothing is buffered in the process to lose (a power loss is the disk's
 * business: the file is fsynced on close only).
 */
export class JsonlSink implements Sink {
  readonly #fd: number | undefined;
  readonly #stream: NodeJS.WritableStream | undefined;
  #closed = false;

  constructor(dest: JsonlDestination) {
    if ('path' in dest) {
      try {
        this.#fd = openSync(dest.path, 'a', 0o640);
      } catch (e) {
        throw new TwinedgeError('USAGE_BAD_ARGUMENT', `cannot open the output file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: dest.path }, { cause: e });
      }
    } else {
      this.#stream = dest.stream;
    }
  }

  write(frame: AcceptedFrame): Promise<void> | void {
    const line = jsonLine(frame);
    if (this.#fd !== undefined) {
      writeAll(this.#fd, Buffer.from(line, 'utf8'));
      return;
    }
    return new Promise((resolve, reject) => {
      this.#stream!.write(line, (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#fd !== undefined) {
      fsyncSync(this.#fd);
      closeSync(this.#fd);
    }
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

import { crc16Ccitt, crc16Modbus, crc8 } from '../../checksums.js';
import { checkMaxFrameBytes, FRAME_ERRORS, frameError, type FrameDecoder, type FrameErrorCode, type FrameSink } from './framing.js';

export type LengthField = 'u8' | 'u16le' | 'u16be';
export type CrcKind = 'crc8' | 'crc16-ccitt' | 'crc16-modbus';
/** Which bytes the CRC covers. */
export type CrcRange = 'length+payload' | 'sync+length+payload' | 'payload';

export interface LengthCrcOptions {
  /** Bytes that start every frame; default 0xAA 0x55. */
  sync?: readonly number[];
  /** The length field: payload bytes only, after the sync; default 'u8'. */
  length?: LengthField;
  /** Default 'crc16-ccitt'. */
  crc?: CrcKind;
  /** Byte order of a 16-bit CRC; default 'le' for crc16-modbus (as Modbus RTU sends it), else 'be'. */
  crcByteOrder?: 'le' | 'be';
  /** Default 'length+payload'. */
  crcOver?: CrcRange;
  /** Longest payload; a length field above it is FRAME_TOO_LONG. Capped by the length field's range. */
  maxFrameBytes?: number;
}

const CRCS = { 'crc8': crc8, 'crc16-ccitt': crc16Ccitt, 'crc16-modbus': crc16Modbus } as const;

/**
 * Binary frames: [sync][length][payload][crc]. Nothing in the payload is escaped, so a sync
 * pattern can occur inside a frame and the only proof of a frame is its CRC. Resynchronisation:
 * when a candidate's length is over the max or its CRC is wrong, the decoder reports it and
 * hunts again from one byte past the candidate's first sync byte, so a good frame that starts
 * inside a cut or damaged one is still found. Bytes skipped while hunting are reported as one
 * FRAME_GARBAGE per run, leaving out bytes already reported as part of a failed candidate.
 * A good frame behind a cut one is delivered once the cut one's claimed length has arrived, or
 * at end(). Bytes are copied once into one buffer sized for the largest frame and parsed by
 * offset; the buffer is compacted only when its tail is full.
 */
export class LengthCrcDecoder implements FrameDecoder {
  readonly #sink: FrameSink;
  readonly #sync: Uint8Array;
  readonly #lengthField: LengthField;
  readonly #crc: (data: Uint8Array, offset: number, length: number) => number;
  readonly #crcBytes: number;
  readonly #crcLittle: boolean;
  readonly #crcOver: CrcRange;
  readonly #max: number;
  readonly #header: number;
  readonly #buf: Uint8Array;
  /** Unparsed bytes are #buf[#start, #end); #bufOffset is the stream offset of #buf[0]. */
  #start = 0;
  #end = 0;
  #bufOffset = 0;
  #garbageStart = 0;
  #garbageLength = 0;
  /** Stream offset where the bytes reported as failed candidates end. */
  #claimedEnd = 0;

  constructor(sink: FrameSink, options: LengthCrcOptions = {}) {
    this.#sink = sink;
    const sync = options.sync ?? [0xaa, 0x55];
    if (sync.length < 1 || sync.length > 8 || sync.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) throw new TypeError('sync must be 1 to 8 byte values');
    this.#sync = Uint8Array.from(sync);
    this.#lengthField = options.length ?? 'u8';
    if (!['u8', 'u16le', 'u16be'].includes(this.#lengthField)) throw new TypeError(`unknown length field ${this.#lengthField}`);
    const kind = options.crc ?? 'crc16-ccitt';
    if (!(kind in CRCS)) throw new TypeError(`unknown crc ${kind}`);
    this.#crc = CRCS[kind];
    this.#crcBytes = kind === 'crc8' ? 1 : 2;
    this.#crcLittle = (options.crcByteOrder ?? (kind === 'crc16-modbus' ? 'le' : 'be')) === 'le';
    this.#crcOver = options.crcOver ?? 'length+payload';
    if (!['length+payload', 'sync+length+payload', 'payload'].includes(this.#crcOver)) throw new TypeError(`unknown crc range ${this.#crcOver}`);
    const lengthBytes = this.#lengthField === 'u8' ? 1 : 2;
    this.#max = Math.min(checkMaxFrameBytes(options.maxFrameBytes), lengthBytes === 1 ? 0xff : 0xffff);
    this.#header = this.#sync.length + lengthBytes;
    this.#buf = new Uint8Array(this.#header + this.#max + this.#crcBytes);
  }

  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#end === this.#buf.length) this.#compact();
      const n = Math.min(chunk.length - pos, this.#buf.length - this.#end);
      this.#buf.set(chunk.subarray(pos, pos + n), this.#end);
      this.#end += n;
      pos += n;
      this.#parse(false);
    }
  }

  end(): void {
    this.#parse(true);
    this.#flushGarbage();
    this.reset();
  }

  reset(): void {
    this.#start = 0;
    this.#end = 0;
    this.#bufOffset = 0;
    this.#garbageLength = 0;
    this.#claimedEnd = 0;
  }

  #compact(): void {
    this.#buf.copyWithin(0, this.#start, this.#end);
    this.#bufOffset += this.#start;
    this.#end -= this.#start;
    this.#start = 0;
  }

  /** Index of the first full sync in [from, end), or of a sync prefix that runs to the end, or end. */
  #findSync(from: number): number {
    const buf = this.#buf;
    const sync = this.#sync;
    const end = this.#end;
    const first = sync[0]!;
    // A plain loop, not indexOf: indexOf would also scan the stale bytes past `end`.
    for (let i = from; i < end; i++) {
      if (buf[i] !== first) continue;
      let j = 1;
      while (j < sync.length && i + j < end && buf[i + j] === sync[j]) j++;
      if (j === sync.length || i + j === end) return i;
    }
    return end;
  }

  #parse(final: boolean): void {
    const buf = this.#buf;
    for (;;) {
      const at = this.#findSync(this.#start);
      if (at > this.#start) this.#addGarbage(this.#start, at);
      this.#start = at;
      const available = this.#end - at;
      if (available === 0) return;
      if (available < this.#sync.length) {
        // Only a sync prefix is left: at the end of the stream it is garbage.
        if (!final) return;
        this.#addGarbage(at, this.#end);
        this.#start = this.#end;
        return;
      }
      this.#flushGarbage();
      if (available < this.#header) {
        if (!final) return;
        this.#fail(FRAME_ERRORS.TRUNCATED, at, available, 'the stream ended inside a frame header');
        continue;
      }
      const l = at + this.#sync.length;
      const length = this.#lengthField === 'u8' ? buf[l]! : this.#lengthField === 'u16le' ? buf[l]! | (buf[l + 1]! << 8) : (buf[l]! << 8) | buf[l + 1]!;
      if (length > this.#max) {
        this.#fail(FRAME_ERRORS.TOO_LONG, at, this.#header, `length field ${length} is over maxFrameBytes ${this.#max}`);
        continue;
      }
      const total = this.#header + length + this.#crcBytes;
      if (available < total) {
        if (!final) return;
        this.#fail(FRAME_ERRORS.TRUNCATED, at, available, `the stream ended ${total - available} bytes before the end of a ${total}-byte frame`);
        continue;
      }
      const payload = at + this.#header;
      const from = this.#crcOver === 'payload' ? payload : this.#crcOver === 'length+payload' ? l : at;
      const want = this.#crc(buf, from, payload + length - from);
      const c = payload + length;
      const got = this.#crcBytes === 1 ? buf[c]! : this.#crcLittle ? buf[c]! | (buf[c + 1]! << 8) : (buf[c]! << 8) | buf[c + 1]!;
      if (got !== want) {
        this.#fail(FRAME_ERRORS.BAD_CRC, at, total, `CRC is 0x${got.toString(16)}, the bytes give 0x${want.toString(16)}`);
        continue;
      }
      this.#start = at + total;
      this.#sink.frame(buf.subarray(payload, payload + length));
    }
  }

  /** Reports a failed candidate at buffer index `at` and resumes the hunt one byte later. */
  #fail(code: FrameErrorCode, at: number, length: number, why: string): void {
    const offset = this.#bufOffset + at;
    this.#claimedEnd = Math.max(this.#claimedEnd, offset + length);
    this.#start = at + 1;
    this.#sink.error(frameError(code, `${why}; frame dropped, hunting for the next sync`, offset, length));
  }

  #addGarbage(from: number, to: number): void {
    const a = Math.max(this.#bufOffset + from, this.#claimedEnd);
    const b = this.#bufOffset + to;
    if (b <= a) return;
    if (this.#garbageLength === 0) this.#garbageStart = a;
    this.#garbageLength = b - this.#garbageStart;
  }

  #flushGarbage(): void {
    if (this.#garbageLength === 0) return;
    const start = this.#garbageStart;
    const length = this.#garbageLength;
    this.#garbageLength = 0;
    this.#sink.error(frameError(FRAME_ERRORS.GARBAGE, `${length} bytes with no frame sync skipped`, start, length));
  }
}

import { checkMaxFrameBytes, FRAME_ERRORS, frameError, type FrameDecoder, type FrameErrorCode, type FrameSink } from './framing.js';

export interface CobsOptions {
  /** Longest frame after decoding. */
  maxFrameBytes?: number;
}

/**
 * COBS (Cheshire and Baker, "Consistent Overhead Byte Stuffing", 1999): each frame is encoded
 * without zero bytes and followed by one 0x00 delimiter. The encoding is a run of blocks: a code
 * byte c (1..255), then c - 1 data bytes; each block with c < 255 stands for its data followed
 * by a zero, except the last block of the frame. A delimiter inside a block (the code pointed
 * past the frame's end) is FRAME_BAD_COBS and the frame is dropped; the delimiter still ends it,
 * so the next frame is decoded. Empty frames (consecutive zeros) are skipped silently, as
 * senders may lead with a zero to flush the line. That leading zero matters: a frame cut short
 * runs on to the next zero, so without it the frame after a cut one is lost with it (reported as
 * one bad frame); nothing in COBS can tell where the cut was. Decoded bytes go into one buffer
 * allocated once.
 */
export class CobsDecoder implements FrameDecoder {
  readonly #sink: FrameSink;
  readonly #max: number;
  readonly #buf: Uint8Array;
  #len = 0;
  #wire = 0;
  #frameStart = 0;
  /** Data bytes still due in the current block; 0 means the next byte is a code byte. */
  #remaining = 0;
  /** The block just finished had a code below 255: a zero is due if another block follows. */
  #zeroDue = false;
  #fault: FrameErrorCode | undefined;
  #offset = 0;

  constructor(sink: FrameSink, options: CobsOptions = {}) {
    this.#sink = sink;
    this.#max = checkMaxFrameBytes(options.maxFrameBytes);
    this.#buf = new Uint8Array(this.#max);
  }

  get bufferedBytes(): number {
    return this.#len;
  }

  push(chunk: Uint8Array): void {
    const base = this.#offset;
    this.#offset += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === 0) {
        this.#finish();
        continue;
      }
      if (this.#wire++ === 0) this.#frameStart = base + i;
      if (this.#fault !== undefined) continue;
      if (this.#remaining === 0) {
        if (this.#zeroDue) this.#append(0);
        this.#remaining = b - 1;
        this.#zeroDue = b !== 0xff;
      } else {
        this.#remaining--;
        this.#append(b);
      }
    }
  }

  end(): void {
    if (this.#wire > 0) this.#report(this.#fault ?? FRAME_ERRORS.TRUNCATED);
    this.reset();
  }

  reset(): void {
    this.#clearFrame();
    this.#offset = 0;
  }

  #append(b: number): void {
    if (this.#fault !== undefined) return;
    if (this.#len === this.#max) {
      this.#fault = FRAME_ERRORS.TOO_LONG;
      this.#len = 0;
    } else {
      this.#buf[this.#len++] = b;
    }
  }

  #finish(): void {
    if (this.#wire === 0) return;
    if (this.#remaining > 0 && this.#fault === undefined) this.#fault = FRAME_ERRORS.BAD_COBS;
    if (this.#fault !== undefined) {
      this.#report(this.#fault);
      this.#clearFrame();
    } else {
      const frame = this.#buf.subarray(0, this.#len);
      this.#clearFrame();
      this.#sink.frame(frame);
    }
  }

  #report(code: FrameErrorCode): void {
    const what = code === FRAME_ERRORS.BAD_COBS ? `a code byte that points ${this.#remaining} bytes past its end`
      : code === FRAME_ERRORS.TOO_LONG ? `more than maxFrameBytes ${this.#max} decoded bytes`
      : 'no zero delimiter before the stream ended';
    this.#sink.error(frameError(code, `COBS frame of ${this.#wire} bytes has ${what}; frame dropped`, this.#frameStart, this.#wire));
  }

  #clearFrame(): void {
    this.#len = 0;
    this.#wire = 0;
    this.#remaining = 0;
    this.#zeroDue = false;
    this.#fault = undefined;
  }
}

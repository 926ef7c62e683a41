import { checkMaxFrameBytes, FRAME_ERRORS, frameError, type FrameDecoder, type FrameSink } from './framing.js';

export interface LinesOptions {
  /** Longest line, CR and LF excluded. */
  maxFrameBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Newline-delimited text lines: a frame ends at LF, and one CR right before the LF is removed.
 * Empty lines are skipped: no sample comes from one, and devices pad with CR LF. A line longer
 * than maxFrameBytes is dropped as FRAME_TOO_LONG once its LF arrives (or at end()); nothing of it
 * is kept while it goes on. An error's length counts the line's bytes before the LF, a CR included. Frames are searched with indexOf over the chunk; a line wholly inside
 * one chunk is handed over as a view of that chunk, without a copy.
 */
export class LinesDecoder implements FrameDecoder {
  readonly #sink: FrameSink;
  readonly #max: number;
  /** The start of a line that spans chunks; one more than max so that a trailing CR fits. */
  readonly #buf: Uint8Array;
  #len = 0;
  /** Bytes of the current line seen so far (buffered or, once too long, counted only). */
  #lineBytes = 0;
  #lineStart = 0;
  #tooLong = false;
  #offset = 0;

  constructor(sink: FrameSink, options: LinesOptions = {}) {
    this.#sink = sink;
    this.#max = checkMaxFrameBytes(options.maxFrameBytes);
    this.#buf = new Uint8Array(this.#max + 1);
  }

  get bufferedBytes(): number {
    return this.#len;
  }

  push(chunk: Uint8Array): void {
    const base = this.#offset;
    this.#offset += chunk.length;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#lineBytes === 0) this.#lineStart = base + pos;
      const nl = chunk.indexOf(LF, pos);
      const stop = nl < 0 ? chunk.length : nl;
      const n = stop - pos;
      if (!this.#tooLong) {
        if (this.#len + n > this.#max + 1) {
          this.#tooLong = true;
          this.#len = 0;
        } else if (nl >= 0 && this.#len === 0) {
          this.#lineBytes += n;
          this.#deliver(chunk.subarray(pos, stop));
          pos = nl + 1;
          continue;
        } else {
          this.#buf.set(chunk.subarray(pos, stop), this.#len);
          this.#len += n;
        }
      }
      this.#lineBytes += n;
      if (nl < 0) break;
      this.#deliver(this.#buf.subarray(0, this.#len));
      pos = nl + 1;
    }
  }

  end(): void {
    if (this.#lineBytes > 0) {
      // Without its LF no CR is removed: a cut line of max + 1 bytes is over the limit too.
      const code = this.#tooLong || this.#lineBytes > this.#max ? FRAME_ERRORS.TOO_LONG : FRAME_ERRORS.TRUNCATED;
      this.#sink.error(frameError(code, `the stream ended inside a line of ${this.#lineBytes} bytes with no LF; line dropped`, this.#lineStart, this.#lineBytes));
    }
    this.reset();
  }

  reset(): void {
    this.#len = 0;
    this.#lineBytes = 0;
    this.#tooLong = false;
    this.#offset = 0;
  }

  /** Ends the current line: `raw` is its bytes before the LF, unless it was already found too long. */
  #deliver(raw: Uint8Array): void {
    const start = this.#lineStart;
    const wire = this.#lineBytes;
    const tooLong = this.#tooLong;
    this.#len = 0;
    this.#lineBytes = 0;
    this.#tooLong = false;
    const line = raw.length > 0 && raw[raw.length - 1] === CR ? raw.subarray(0, raw.length - 1) : raw;
    if (tooLong || line.length > this.#max) {
      this.#sink.error(frameError(FRAME_ERRORS.TOO_LONG, `a line of ${wire} bytes is longer than maxFrameBytes ${this.#max}; line dropped`, start, wire));
    } else if (line.length > 0) {
      this.#sink.frame(line);
    }
  }
}

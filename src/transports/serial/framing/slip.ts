import { checkMaxFrameBytes, FRAME_ERRORS, frameError, type FrameDecoder, type FrameErrorCode, type FrameSink } from './framing.js';

export interface SlipOptions {
  /** Longest frame after unescaping. */
  maxFrameBytes?: number;
}

// RFC 1055 special characters.
const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

/**
 * SLIP (RFC 1055). END always ends a frame, so a bad frame costs only itself. Empty frames
 * between ENDs are skipped silently: RFC 1055 has senders start each frame with an END to flush
 * line noise. ESC followed by anything but ESC_END or ESC_ESC (END included) is FRAME_BAD_ESCAPE;
 * the RFC leaves such bytes in, but a sensor frame with a corrupted byte is worth less than its
 * absence. A frame's first fault is reported when its END arrives, with its full length.
 * Unescaped bytes go into one buffer of maxFrameBytes, allocated once.
 */
export class SlipDecoder implements FrameDecoder {
  readonly #sink: FrameSink;
  readonly #max: number;
  readonly #buf: Uint8Array;
  #len = 0;
  /** Wire bytes of the current frame, ENDs excluded. */
  #wire = 0;
  #frameStart = 0;
  #escaped = false;
  #fault: FrameErrorCode | undefined;
  #offset = 0;

  constructor(sink: FrameSink, options: SlipOptions = {}) {
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
      let b = chunk[i]!;
      if (b === END) {
        this.#finish();
        continue;
      }
      if (this.#wire++ === 0) this.#frameStart = base + i;
      if (this.#fault !== undefined) continue;
      if (this.#escaped) {
        this.#escaped = false;
        if (b === ESC_END) b = END;
        else if (b === ESC_ESC) b = ESC;
        else {
          this.#fail(FRAME_ERRORS.BAD_ESCAPE);
          continue;
        }
      } else if (b === ESC) {
        this.#escaped = true;
        continue;
      }
      if (this.#len === this.#max) this.#fail(FRAME_ERRORS.TOO_LONG);
      else this.#buf[this.#len++] = b;
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

  #fail(code: FrameErrorCode): void {
    this.#fault = code;
    this.#len = 0;
  }

  #finish(): void {
    if (this.#wire === 0) return;
    if (this.#escaped && this.#fault === undefined) this.#fault = FRAME_ERRORS.BAD_ESCAPE;
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
    const what = code === FRAME_ERRORS.BAD_ESCAPE ? 'an ESC not followed by ESC_END or ESC_ESC'
      : code === FRAME_ERRORS.TOO_LONG ? `more than maxFrameBytes ${this.#max} bytes`
      : 'no END before the stream ended';
    this.#sink.error(frameError(code, `SLIP frame of ${this.#wire} bytes has ${what}; frame dropped`, this.#frameStart, this.#wire));
  }

  #clearFrame(): void {
    this.#len = 0;
    this.#wire = 0;
    this.#escaped = false;
    this.#fault = undefined;
  }
}

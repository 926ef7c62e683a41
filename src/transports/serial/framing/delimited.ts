import { checkMaxFrameBytes, FRAME_ERRORS, frameError, type FrameDecoder, type FrameErrorCode, type FrameSink } from './framing.js';

/**
 * What SLIP and COBS share: a delimiter byte always ends a frame (so a bad frame costs only
 * itself), empty frames between delimiters are skipped silently, bytes are decoded one at a time
 * into one buffer of maxFrameBytes allocated once, and a frame's first fault is reported when its
 * delimiter arrives, with its full wire length. A subclass says how one wire byte decodes.
 */
export abstract class DelimitedFrameDecoder implements FrameDecoder {
  protected readonly max: number;
  readonly #sink: FrameSink;
  readonly #delimiter: number;
  readonly #buf: Uint8Array;
  #len = 0;
  /** Wire bytes of the current frame, delimiters excluded. */
  protected wire = 0;
  #frameStart = 0;
  #fault: FrameErrorCode | undefined;
  #offset = 0;

  constructor(sink: FrameSink, maxFrameBytes: number | undefined, delimiter: number) {
    this.#sink = sink;
    this.#delimiter = delimiter;
    this.max = checkMaxFrameBytes(maxFrameBytes);
    this.#buf = new Uint8Array(this.max);
  }

  get bufferedBytes(): number {
    return this.#len;
  }

  push(chunk: Uint8Array): void {
    const base = this.#offset;
    this.#offset += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === this.#delimiter) {
        this.#finish();
        continue;
      }
      if (this.wire++ === 0) this.#frameStart = base + i;
      if (this.#fault === undefined) this.decodeByte(b);
    }
  }

  end(): void {
    if (this.wire > 0) this.#report(this.#fault ?? FRAME_ERRORS.TRUNCATED);
    this.reset();
  }

  reset(): void {
    this.#clearFrame();
    this.#offset = 0;
  }

  /** One wire byte of the current frame (never the delimiter, never after a fault). */
  protected abstract decodeByte(b: number): void;
  /** At the delimiter: a fault the encoding only shows there (an escape or a block left open). */
  protected abstract faultAtEnd(): FrameErrorCode | undefined;
  /** What a fault means, for the error message. */
  protected abstract describe(code: FrameErrorCode): string;
  /** Forgets the subclass's per-frame state. */
  protected abstract clearState(): void;

  /** Appends a decoded byte; past maxFrameBytes the frame is dropped as FRAME_TOO_LONG. */
  protected append(b: number): void {
    if (this.#len === this.max) this.fail(FRAME_ERRORS.TOO_LONG);
    else this.#buf[this.#len++] = b;
  }

  protected fail(code: FrameErrorCode): void {
    this.#fault = code;
    this.#len = 0;
  }

  #finish(): void {
    if (this.wire === 0) return;
    this.#fault ??= this.faultAtEnd();
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
    this.#sink.error(frameError(code, `${this.describe(code)}; frame dropped`, this.#frameStart, this.wire));
  }

  #clearFrame(): void {
    this.#len = 0;
    this.wire = 0;
    this.#fault = undefined;
    this.clearState();
  }
}

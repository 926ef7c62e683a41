import { FRAME_ERRORS, type FrameErrorCode, type FrameSink } from './framing.js';
import { DelimitedFrameDecoder } from './delimited.js';

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
 * SLIP (RFC 1055). Empty frames between ENDs are skipped: RFC 1055 has senders start each frame
 * with an END to flush line noise. ESC followed by anything but ESC_END or ESC_ESC (END
 * included) is FRAME_BAD_ESCAPE; the RFC leaves such bytes in, but a sensor frame with a
 * corrupted byte is worth less than its absence.
 */
export class SlipDecoder extends DelimitedFrameDecoder {
  #escaped = false;

  constructor(sink: FrameSink, options: SlipOptions = {}) {
    super(sink, options.maxFrameBytes, END);
  }

  protected decodeByte(b: number): void {
    if (this.#escaped) {
      this.#escaped = false;
      if (b === ESC_END) this.append(END);
      else if (b === ESC_ESC) this.append(ESC);
      else this.fail(FRAME_ERRORS.BAD_ESCAPE);
    } else if (b === ESC) {
      this.#escaped = true;
    } else {
      this.append(b);
    }
  }

  protected faultAtEnd(): FrameErrorCode | undefined {
    return this.#escaped ? FRAME_ERRORS.BAD_ESCAPE : undefined;
  }

  protected describe(code: FrameErrorCode): string {
    const what = code === FRAME_ERRORS.BAD_ESCAPE ? 'an ESC not followed by ESC_END or ESC_ESC'
      : code === FRAME_ERRORS.TOO_LONG ? `more than maxFrameBytes ${this.max} bytes`
      : 'no END before the stream ended';
    return `SLIP frame of ${this.wire} bytes has ${what}`;
  }

  protected clearState(): void {
    this.#escaped = false;
  }
}

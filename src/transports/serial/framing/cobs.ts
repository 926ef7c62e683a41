import { FRAME_ERRORS, type FrameErrorCode, type FrameSink } from './framing.js';
import { DelimitedFrameDecoder } from './delimited.js';

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
 * so the next frame is decoded. Empty frames (consecutive zeros) are skipped, as senders may
 * lead with a zero to flush the line. That leading zero matters: a frame cut short runs on to
 * the next zero, so without it the frame after a cut one is lost with it (reported as one bad
 * frame); nothing in COBS can tell where the cut was.
 */
export class CobsDecoder extends DelimitedFrameDecoder {
  /** Data bytes still due in the current block; 0 means the next byte is a code byte. */
  #remaining = 0;
  /** The block just finished had a code below 255: a zero is due if another block follows. */
  #zeroDue = false;

  constructor(sink: FrameSink, options: CobsOptions = {}) {
    super(sink, options.maxFrameBytes, 0);
  }

  protected decodeByte(b: number): void {
    if (this.#remaining === 0) {
      if (this.#zeroDue) this.append(0);
      this.#remaining = b - 1;
      this.#zeroDue = b !== 0xff;
    } else {
      this.#remaining--;
      this.append(b);
    }
  }

  protected faultAtEnd(): FrameErrorCode | undefined {
    return this.#remaining > 0 ? FRAME_ERRORS.BAD_COBS : undefined;
  }

  protected describe(code: FrameErrorCode): string {
    const what = code === FRAME_ERRORS.BAD_COBS ? `a code byte that points ${this.#remaining} bytes past its end`
      : code === FRAME_ERRORS.TOO_LONG ? `more than maxFrameBytes ${this.max} decoded bytes`
      : 'no zero delimiter before the stream ended';
    return `COBS frame of ${this.wire} bytes has ${what}`;
  }

  protected clearState(): void {
    this.#remaining = 0;
    this.#zeroDue = false;
  }
}

/**
 * A framing cuts the byte stream of a serial port into frames. Each framing is a small pure
 * decoder with state: no I/O, no timers, no clock. Bad bytes are data: a decoder never throws on
 * what the device sends; it reports each bad frame or run of discarded bytes as a `FrameError`
 * value, and the stage above counts them by code.
 */

/**
 * Per-frame data error codes. They are not TwinedgeError codes: nothing is thrown, they are
 * counted by code. Codes are stable and never reused.
 */
export const FRAME_ERRORS = {
  /** A frame's checksum did not match its bytes (length-crc). */
  BAD_CRC: 'FRAME_BAD_CRC',
  /** A frame was longer than maxFrameBytes, or its length field said so; it was dropped. */
  TOO_LONG: 'FRAME_TOO_LONG',
  /** A SLIP escape byte was followed by something other than ESC_END or ESC_ESC. */
  BAD_ESCAPE: 'FRAME_BAD_ESCAPE',
  /** A COBS code byte pointed past the end of its frame. */
  BAD_COBS: 'FRAME_BAD_COBS',
  /** Bytes skipped while hunting for a frame's start (length-crc sync). */
  GARBAGE: 'FRAME_GARBAGE',
  /** The stream ended (end()) inside a frame. */
  TRUNCATED: 'FRAME_TRUNCATED',
} as const;

export type FrameErrorCode = (typeof FRAME_ERRORS)[keyof typeof FRAME_ERRORS];

/** A bad frame or a run of discarded bytes. */
export interface FrameError {
  readonly code: FrameErrorCode;
  readonly message: string;
  /** Offset in the stream (bytes pushed since construction, reset() or end()) of the first byte concerned. */
  readonly byteOffset: number;
  /** How many bytes of the stream it concerns, delimiters excluded. */
  readonly length: number;
}

/**
 * Where a decoder delivers its output, in stream order.
 *
 * A sink (callbacks) rather than push() returning an array: a chunk with no complete frame, the
 * usual case for a serial read, then costs no allocation, and a frame can be handed over as a
 * view into the pushed chunk or the decoder's one buffer instead of a copy. The price is the
 * lifetime rule below, which suits the next stage: profile decoders read a frame synchronously.
 */
export interface FrameSink {
  /**
   * A complete frame (delimiters, escapes, header and checksum removed). The view is valid only
   * until this call returns: it may alias the decoder's buffer or the pushed chunk. Copy it
   * (`slice()`) to keep it.
   */
  frame(frame: Uint8Array): void;
  /** A bad frame or discarded bytes; the decoder has already resynchronised. */
  error(error: FrameError): void;
}

/**
 * The contract every framing keeps.
 *
 * - push() accepts chunks split anywhere: the frames and errors delivered, with their offsets,
 *   are the same for every chunking of the same stream.
 * - Memory is bounded: at most one partial frame is held, never more than maxFrameBytes plus a
 *   few header bytes (`bufferedBytes`). A frame longer than maxFrameBytes is dropped, reported as
 *   FRAME_TOO_LONG, and decoding resumes at the next frame boundary.
 * - reset() discards a partial frame without reporting it (the caller chose to throw the stream
 *   away, e.g. when the port was reopened) and starts a new stream: offsets count from 0 again.
 * - end() says the stream ended: a partial frame is reported (FRAME_TRUNCATED, or the error
 *   already found in it); a framing that resynchronises scans the rest for complete frames
 *   first. Then the decoder is as after reset().
 * - Never throws on input bytes. The sink is called synchronously from push() and end(); it must
 *   not call push(), reset() or end() on the same decoder. An exception thrown by the sink
 *   propagates out of push(); the decoder must then be reset() before further use.
 * - Misuse (invalid options) throws a TypeError at construction.
 */
export interface FrameDecoder {
  push(chunk: Uint8Array): void;
  end(): void;
  reset(): void;
  /** Bytes held for the frame in progress. */
  readonly bufferedBytes: number;
}

/** Default bound on one frame's decoded size. */
export const DEFAULT_MAX_FRAME_BYTES = 4096;

export function checkMaxFrameBytes(value: number | undefined): number {
  const max = value ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isInteger(max) || max < 1 || max > 1 << 24) throw new TypeError(`maxFrameBytes must be an integer from 1 to 16777216, not ${value}`);
  return max;
}

export function frameError(code: FrameErrorCode, message: string, byteOffset: number, length: number): FrameError {
  return { code, message, byteOffset, length };
}

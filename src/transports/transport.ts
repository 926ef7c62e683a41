/**
 * The transport seam: one physical device's byte stream, whatever carries it (serial now, BLE
 * next). A transport only moves bytes and says when they arrived; framing and decoding happen
 * above it.
 */

/** Bytes as they came off the wire, with the times they were received (taken at the transport). */
export interface TransportChunk {
  readonly bytes: Uint8Array;
  /** Hub monotonic time (ms since boot_id began) when the chunk was read. */
  readonly monoMs: number;
  /** Hub wall clock (Unix epoch ms) at the same moment. */
  readonly wallMs: number;
}

/** What a transport can do, so the hub and the docs need not guess. */
export interface TransportManifest {
  readonly name: string;
  /** Bytes can be written to the device (setup commands, control points). */
  readonly canWrite: boolean;
  /** An unplug is noticed and reported as `disconnected`. */
  readonly detectsUnplug: boolean;
  /** The port can be found by USB vendor/product/serial number rather than a path. */
  readonly findsByUsbId: boolean;
}

export interface TransportListener {
  /** Chunks in the order they were received; never after `close` resolved. */
  data(chunk: TransportChunk): void;
  /**
   * The device went away (unplugged, powered off, out of range). Called once per open; the
   * transport is then closed and may be opened again.
   */
  disconnected(reason: string): void;
}

/**
 * Contract (every implementation runs test/conformance/transport.suite.ts):
 * - `open` resolves once bytes can flow; it rejects with TRANSPORT_OPEN_FAILED when the device
 *   is not there, which is retryable and never affects other transports.
 * - `close` cancels pending reads and resolves once no more `data` will come; closing a closed
 *   transport does nothing.
 * - After `disconnected`, `open` may be called again (a replug).
 * - `open`, `close` and `write` are never called concurrently with each other by the hub.
 */
export interface Transport {
  readonly id: string;
  readonly manifest: TransportManifest;
  readonly isOpen: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
  write(bytes: Uint8Array): Promise<void>;
}

import type { FrameKind } from '../frames/codec.js';

/** One stored frame: the signed bytes an MQTT message carries, and what the topic needs. */
export interface OutboxRecord {
  readonly seq: number;
  readonly subjectRef: string;
  readonly kind: FrameKind;
  /** The serialized SignedFrame. */
  readonly payload: Uint8Array;
}

/**
 * A frame to append: `make` is called once, synchronously, with the seq it gets; it may return the
 * bytes or a promise of them (signing off the main thread). A throw from `make` rejects the append
 * and gives no seq away.
 */
export interface AppendEntry {
  readonly subjectRef: string;
  readonly kind: FrameKind;
  readonly make: (seq: number) => Uint8Array | Promise<Uint8Array>;
}

/** Caller state stored in the same atomic batch as the frames that report it. */
export interface StateWrite {
  readonly key: string;
  /** undefined deletes the key. */
  readonly value: Uint8Array | undefined;
}

export interface OutboxStats {
  /** Frames stored and not yet acknowledged. */
  readonly pending: number;
  readonly pendingBytes: number;
  readonly oldestSeq: number | undefined;
  /** The highest seq ever appended (persisted; never repeats). */
  readonly lastSeq: number;
  /** Frames dropped by the quota since this process opened the outbox. */
  readonly droppedFrames: number;
  readonly droppedBytes: number;
  readonly quotaBytes: number;
}

/**
 * The durable store-and-forward queue between the frame makers and the publisher.
 *
 * Contract:
 * - `append` assigns the next seqs synchronously, in call order, and resolves once the frames,
 *   the new last seq and the caller's state are on disk in one atomic batch. A crash before that
 *   loses none of them half-way: either the whole batch is there after reopening or none of it
 *   is, and then the same seqs are given again (nothing with them was ever sent).
 * - `read` only returns frames whose batch is durable, in seq order, skipping acknowledged or
 *   dropped ones. It is never called concurrently with itself by the publisher.
 * - `ack` forgets frames; their deletion is batched and need not be durable (a frame acked but
 *   not yet deleted when the hub crashes is sent again, and the receiver drops the duplicate).
 * - When pending bytes pass the quota, the oldest frames give way and a gap frame naming every
 *   dropped range is appended in the same batch. Loss is never silent.
 * - After `close` resolves, every accepted append is durable; later calls reject with OUTBOX_CLOSED.
 */
export interface Outbox {
  open(): Promise<void>;
  append(entries: readonly AppendEntry[], state?: readonly StateWrite[]): Promise<number[]>;
  read(afterSeq: number, limit: number): Promise<OutboxRecord[]>;
  ack(seqs: Iterable<number>): void;
  getState(key: string): Promise<Uint8Array | undefined>;
  stats(): OutboxStats;
  /** Calls `listener` each time appended frames become durable (readable). */
  onDurable(listener: () => void): () => void;
  close(): Promise<void>;
}

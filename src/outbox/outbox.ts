import type { FrameKind, SeqRange } from '../frames/codec.js';

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

/** What a purge removed (LevelOutbox.purgeSubject). */
export interface PurgeOutcome {
  readonly subjectRef: string;
  /** The subject's frames removed before they were acknowledged: how many, their quota bytes, their seqs. */
  readonly frames: number;
  readonly bytes: number;
  readonly removed: readonly SeqRange[];
  /** The gap frame (GapReason.PURGED) that declares them, in the same batch; 0 when none was pending. */
  readonly gapSeq: number;
  /** Stored copies of the subject's acknowledged frames (not yet cleared from disk), deleted too. */
  readonly deliveredCopies: number;
}

export interface PurgeRequest {
  readonly subjectRef: string;
  /** Frames stored after the gap frame, in the same batch, made once the purge is known (the command's result). */
  readonly report?: (outcome: PurgeOutcome) => readonly AppendEntry[];
  /** State writes in the same batch (the subject's state deleted), also made once the purge is known. */
  readonly state?: (outcome: PurgeOutcome) => readonly StateWrite[];
}

export interface OutboxStats {
  /** Frames stored and not yet acknowledged. */
  readonly pending: number;
  readonly pendingBytes: number;
  readonly oldestSeq: number | undefined;
  /** When the oldest pending frame was appended (wall ms; for frames stored before a restart, when they were made). */
  readonly oldestAppendedAtMs: number | undefined;
  /** The highest seq ever appended (persisted; never repeats). */
  readonly lastSeq: number;
  /** Frames dropped by the quota since this process opened the outbox. */
  readonly droppedFrames: number;
  readonly droppedBytes: number;
  readonly quotaBytes: number;
  /** Frames made durable since this process opened the outbox, by kind (gap frames included). */
  readonly appended: Readonly<Record<FrameKind, number>>;
  /** 'failed': a write failed and nothing more is stored until the hub restarts. */
  readonly state: 'new' | 'open' | 'closing' | 'closed' | 'failed';
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
  /** Whether a frame is still to be sent: false once it was acknowledged, dropped or purged. */
  isPending(seq: number): boolean;
  getState(key: string): Promise<Uint8Array | undefined>;
  stats(): OutboxStats;
  /** Calls `listener` each time appended frames become durable (readable). */
  onDurable(listener: () => void): () => void;
  close(): Promise<void>;
}

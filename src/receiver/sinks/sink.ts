import type { AcceptedFrame } from '../verify.js';

/**
 * Where accepted frames go: a file, a database, the twin model's ingest. The receiver
 * acknowledges a frame to the broker only after `write` settled, so a sink decides what
 * "received" means: when `write` resolves, the frame must survive whatever the sink promises to
 * survive (at least a crash of the receiver process).
 *
 * Contract:
 * - `write` is never called concurrently: the next call comes after the previous one settled.
 *   Frames arrive in the order the broker delivered them (per hub, mostly seq order; gaps and
 *   redeliveries are possible, duplicates are not).
 * - `write` may return void when it finished synchronously.
 * - A throw or rejection means the frame was not stored: the receiver stops without
 *   acknowledging it, so the broker keeps it for the next run.
 * - `close` flushes what was written and releases the destination; it is called once, after
 *   the last `write` settled, and `write` is never called after it.
 */
export interface Sink {
  write(frame: AcceptedFrame): Promise<void> | void;
  close(): Promise<void>;
}

import { EventEmitter } from 'node:events';
import { Level } from 'level';
import { decodeBody, decodeSigned, FRAME_KINDS, GapReason, type FrameKind, type Gap, type SeqRange } from '../frames/codec.js';
import { plausibleWallTime } from '../ops/clock.js';
import { TwinedgeError } from '../ops/errors.js';
import type { AppendEntry, Outbox, OutboxRecord, OutboxStats, PurgeOutcome, PurgeRequest, StateWrite } from './outbox.js';
import { decodeSegment, encodeSegment, frameCost, SEGMENT_RANGE, segmentKey, seqOfKey } from './segment.js';
import { SegmentIndex } from './segment-index.js';
import { frameWallMs } from './frame-time.js';
import { mergeRanges, rangesOf } from './seq-ranges.js';
import { TailCache } from './tail-cache.js';

export interface LevelOutboxOptions {
  /** Folder of the LevelDB database. */
  location: string;
  quotaBytes: number;
  /** 'batch': fsync every batch that holds frames; 'none': leave flushing to the OS. */
  sync: 'batch' | 'none';
  /** Most frames in one write batch (whole appends are never split). */
  maxBatch: number;
  /** Signs the gap frame that reports dropped seqs. */
  makeGap: (seq: number, gap: Gap) => Uint8Array | Promise<Uint8Array>;
  /** Recent durable frames kept in memory so the publisher need not read them back from disk. */
  tailCacheBytes?: number;
  /** The wall clock (epoch ms) that dates appended frames, for the age of the oldest unsent one; Date.now by default. */
  now?: () => number;
}

type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

interface WriteGroup {
  /** State writes that must land with the frames. */
  ops: BatchOp[];
  records: OutboxRecord[];
  /** Set while the group's frames are still being made (signed off the main thread). */
  ready: Promise<void> | undefined;
  /** Segments rewritten in the same batch (a purge), decided when the batch is written. */
  rewrite?: () => { ops: BatchOp[]; commit: () => void };
  resolve?: () => void;
  reject?: (e: unknown) => void;
}

const META_SEQ = 'm!seq';
/** Every seq at or below this one is acknowledged or dropped; its segment may still be on disk. */
const META_ACKED = 'm!acked';
/** Ranges above the mark acknowledged out of order, written at a graceful close. */
const META_ACKED_ABOVE = 'm!acked-above';
const STATE_PREFIX = 's!';
// When the quota is passed, drop down to this share of it, so that a full outbox writes one gap
// frame per burst of drops rather than one per appended frame.
const QUOTA_LOW_WATER = 0.9;
// classic-level fetches 16 KiB per trip to its thread by default: a backlog of 1 KB frames would
// take one trip per 16 frames.
const READ_AHEAD_BYTES = 4 << 20;
// Segments per trip; READ_AHEAD_BYTES bounds a trip when segments are large.
const READ_SEGMENTS = 1000;

function ascii(n: number | string): Uint8Array {
  return Buffer.from(String(n), 'ascii');
}

function numberOf(v: Uint8Array | undefined): number {
  return v ? Number(Buffer.from(v).toString('ascii')) : 0;
}

/**
 * The outbox on LevelDB: one writer with group commit (each batch is one segment of consecutive
 * frames), an in-memory index of pending frames, and an acknowledged-through mark instead of a
 * delete per frame.
 */
export class LevelOutbox implements Outbox {
  readonly #opts: Required<LevelOutboxOptions>;
  readonly #db: Level<string, Uint8Array>;
  readonly #events = new EventEmitter();
  /** seq -> bytes it costs, for every frame given a seq and not acknowledged or dropped. */
  readonly #pending = new Map<number, number>();
  /** Pending gap frames and the ranges they report, carried into the next one if they drop. */
  readonly #gapFrames = new Map<number, SeqRange[]>();
  /** Gap frames not yet durable -> the lowest seq they report dropped. */
  readonly #unreported = new Map<number, number>();
  #pendingBytes = 0;
  /** No pending frame has a seq below this. */
  #low = 1;
  #lastSeq = 0;
  #durableSeq = 0;
  #persistedAcked = 0;
  readonly #segments = new SegmentIndex();
  #droppedFrames = 0;
  #droppedBytes = 0;
  /** Frames made durable since this process opened the outbox, by kind. */
  readonly #appended = Object.fromEntries(FRAME_KINDS.map((k) => [k, 0])) as Record<FrameKind, number>;
  #queue: WriteGroup[] = [];
  #writing = false;
  #scheduled = false;
  #drained: Array<() => void> = [];
  readonly #tail: TailCache;
  #state: 'new' | 'open' | 'closing' | 'closed' = 'new';
  #failure: TwinedgeError | undefined;
  /** The purge in progress, if any: purges run one at a time. */
  #purges: Promise<unknown> = Promise.resolve();

  constructor(options: LevelOutboxOptions) {
    this.#opts = { tailCacheBytes: 8 * 1024 * 1024, now: Date.now, ...options };
    this.#tail = new TailCache(this.#opts.tailCacheBytes);
    this.#db = new Level<string, Uint8Array>(options.location, { keyEncoding: 'utf8', valueEncoding: 'view' });
  }

  async open(): Promise<void> {
    try {
      await this.#db.open();
    } catch (e) {
      const locked = String((e as { cause?: { code?: string } }).cause?.code ?? '').includes('LOCKED');
      throw new TwinedgeError('OUTBOX_OPEN_FAILED', locked
        ? `outbox ${this.#opts.location} is in use by another hub process; stop it first`
        : `cannot open outbox ${this.#opts.location}: ${(e as Error).message}`, { file: this.#opts.location }, { cause: e });
    }
    const acked = numberOf(await this.#db.get(META_ACKED));
    const ackedAbove = new Set<number>();
    const above = await this.#db.get(META_ACKED_ABOVE);
    if (above) for (const r of JSON.parse(Buffer.from(above).toString('utf8')) as SeqRange[]) for (let s = r.first; s <= r.last; s++) ackedAbove.add(s);
    let last = Math.max(acked, numberOf(await this.#db.get(META_SEQ)));
    let damaged = 0;
    const openedAt = this.#opts.now();
    await this.#eachSegment((first, records) => {
      if (!records) {
        damaged++;
        return;
      }
      // Stored frames are dated by the time they were made (the segment's first), so a
      // restart does not make an old backlog look new; an unset clock's 1970 does not count.
      const madeAt = records.length > 0 ? frameWallMs(records[0]!.payload) : undefined;
      this.#segments.add(first, first + records.length - 1, madeAt !== undefined && plausibleWallTime(madeAt) ? Math.min(madeAt, openedAt) : openedAt);
      for (const rec of records) {
        if (rec.seq > last) last = rec.seq;
        if (rec.seq <= acked || ackedAbove.has(rec.seq)) continue;
        this.#pending.set(rec.seq, frameCost(rec));
        this.#pendingBytes += frameCost(rec);
        if (rec.kind === 'gap') this.#gapFrames.set(rec.seq, gapRangesOf(rec.payload));
      }
    });
    if (damaged > 0) {
      throw new TwinedgeError('OUTBOX_OPEN_FAILED', `outbox ${this.#opts.location} has ${damaged} damaged segment(s); move the folder aside and restart (its frames will be missing at the receiver)`, { file: this.#opts.location });
    }
    this.#lastSeq = last;
    this.#durableSeq = last;
    this.#persistedAcked = acked;
    this.#low = acked + 1;
    if (above) await this.#db.del(META_ACKED_ABOVE);
    await this.#clearAcked();
    this.#state = 'open';
  }

  #check(): void {
    if (this.#failure) throw this.#failure;
    if (this.#state !== 'open') throw new TwinedgeError('OUTBOX_CLOSED', `outbox is ${this.#state}`);
  }

  append(entries: readonly AppendEntry[], state: readonly StateWrite[] = []): Promise<number[]> {
    return this.#appendGroup(entries, state, undefined);
  }

  #appendGroup(entries: readonly AppendEntry[], state: readonly StateWrite[], rewrite: WriteGroup['rewrite']): Promise<number[]> {
    try {
      this.#check();
    } catch (e) {
      return Promise.reject(e);
    }
    const first = this.#lastSeq + 1;
    const made: Array<Uint8Array | Promise<Uint8Array>> = [];
    try {
      for (let i = 0; i < entries.length; i++) made.push(entries[i]!.make(first + i));
    } catch (e) {
      // Nothing was assigned yet: the seqs are given again to the next append.
      return Promise.reject(e);
    }
    const seqs = entries.map((_, i) => first + i);
    this.#lastSeq = first + entries.length - 1;
    // Until its bytes exist, a frame holds its place in the pending index at no cost, so that no
    // acknowledged-through mark can pass it.
    for (const seq of seqs) this.#pending.set(seq, 0);
    const group: WriteGroup = { ops: [], records: [], ready: undefined, ...(rewrite ? { rewrite } : {}) };
    for (const s of state) {
      group.ops.push(s.value === undefined ? { type: 'del', key: STATE_PREFIX + s.key } : { type: 'put', key: STATE_PREFIX + s.key, value: s.value });
    }
    const materialize = (payloads: readonly Uint8Array[]) => {
      for (let i = 0; i < entries.length; i++) {
        this.#add(group, { seq: seqs[i]!, subjectRef: entries[i]!.subjectRef, kind: entries[i]!.kind, payload: payloads[i]! });
      }
      if (this.#pendingBytes > this.#opts.quotaBytes) this.#evict();
    };
    // Enqueue before making the frames: a gap frame that their eviction appends must come after.
    const done = new Promise<number[]>((resolve, reject) => {
      group.resolve = () => resolve(seqs);
      group.reject = reject;
      this.#enqueue(group);
    });
    if (made.every((m): m is Uint8Array => m instanceof Uint8Array)) {
      materialize(made);
    } else {
      group.ready = Promise.all(made).then(materialize, (e: unknown) => {
        // A frame that cannot be made after its seq was given would leave a hole: stop here.
        this.#failure ??= new TwinedgeError('OUTBOX_WRITE_FAILED', `a frame could not be made: ${(e as Error).message}`, {}, { cause: e });
      }).finally(() => {
        group.ready = undefined;
      });
    }
    return done;
  }

  #add(group: WriteGroup, rec: OutboxRecord): void {
    group.records.push(rec);
    // A placeholder evicted before its bytes existed stays evicted; it is still written, below the mark.
    if (this.#pending.has(rec.seq)) {
      const cost = frameCost(rec);
      this.#pending.set(rec.seq, cost);
      this.#pendingBytes += cost;
    }
  }

  /**
   * Drops the oldest frames down to the low-water mark and appends a gap frame that names them.
   * The acknowledged-through mark on disk stays below the dropped frames until that gap frame is
   * durable, so a crash in between loses nothing silently.
   */
  #evict(): void {
    const target = this.#opts.quotaBytes * QUOTA_LOW_WATER;
    const dropped: number[] = [];
    const carried: SeqRange[] = [];
    let bytes = 0;
    while (this.#pendingBytes > target) {
      const seq = this.#oldest();
      if (seq === undefined) break;
      const cost = this.#pending.get(seq)!;
      this.#forget(seq, cost);
      // A dropped gap frame is itself a dropped frame, and what it reported is carried over.
      const reported = this.#gapFrames.get(seq);
      if (reported) {
        carried.push(...reported);
        this.#gapFrames.delete(seq);
      }
      dropped.push(seq);
      bytes += cost;
    }
    if (dropped.length === 0) return;
    this.#droppedFrames += dropped.length;
    this.#droppedBytes += bytes;
    const ranges = mergeRanges([...rangesOf(dropped), ...carried]);
    const gapSeq = this.#lastSeq + 1;
    this.#unreported.set(gapSeq, ranges[0]!.first);
    this.#gapFrames.set(gapSeq, ranges);
    const gap: Gap = { reason: GapReason.QUOTA_FULL, dropped: ranges, frames: dropped.length, bytes };
    void this.append([{ subjectRef: '_hub', kind: 'gap', make: (seq) => this.#opts.makeGap(seq, gap) }]).then(
      () => this.#unreported.delete(gapSeq),
      () => {},
    );
  }

  #oldest(): number | undefined {
    while (this.#low <= this.#lastSeq && !this.#pending.has(this.#low)) this.#low++;
    return this.#low <= this.#lastSeq ? this.#low : undefined;
  }

  /** The highest seq such that no seq at or below it is pending. */
  #ackedThrough(): number {
    return (this.#oldest() ?? this.#lastSeq + 1) - 1;
  }

  /** The mark that may be written now: never past a dropped frame whose gap frame is not durable. */
  #markable(): number {
    let mark = this.#ackedThrough();
    for (const floor of this.#unreported.values()) mark = Math.min(mark, floor - 1);
    return mark;
  }

  #forget(seq: number, cost: number): void {
    this.#pending.delete(seq);
    this.#pendingBytes -= cost;
  }

  ack(seqs: Iterable<number>): void {
    if (this.#state !== 'open' && this.#state !== 'closing') return;
    let changed = false;
    for (const seq of seqs) {
      const cost = this.#pending.get(seq);
      if (cost === undefined) continue;
      this.#forget(seq, cost);
      this.#gapFrames.delete(seq);
      changed = true;
    }
    // Only the mark is written. Frames acknowledged out of order stay above it: after a crash
    // they are sent again, which at-least-once delivery allows.
    if (changed) this.#enqueue({ ops: [], records: [], ready: undefined });
  }

  #enqueue(group: WriteGroup): void {
    this.#queue.push(group);
    if (!this.#writing && !this.#scheduled) {
      this.#scheduled = true;
      // Wait for the rest of this tick's appends and acks, so they share one batch.
      setImmediate(() => {
        this.#scheduled = false;
        void this.#writeLoop();
      });
    }
  }

  async #writeLoop(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    while (this.#queue.length > 0) {
      // Groups are written in seq order: wait for the first one's frames to be made.
      const head = this.#queue[0]!;
      if (head.ready) await head.ready;
      let frames = 0;
      let take = 0;
      while (take < this.#queue.length && !this.#queue[take]!.ready && (take === 0 || frames + this.#queue[take]!.records.length <= this.#opts.maxBatch)) {
        frames += this.#queue[take]!.records.length;
        take++;
      }
      const groups = this.#queue.splice(0, take);
      const ops: BatchOp[] = [];
      const records: OutboxRecord[] = [];
      const rewritten: Array<() => void> = [];
      for (const g of groups) {
        for (const op of g.ops) ops.push(op);
        for (const r of g.records) records.push(r);
        if (g.rewrite) {
          const rw = g.rewrite();
          for (const op of rw.ops) ops.push(op);
          rewritten.push(rw.commit);
        }
      }
      const firstSeq = records[0]?.seq ?? 0;
      const lastSeq = records[records.length - 1]?.seq ?? 0;
      if (records.length > 0) {
        ops.push({ type: 'put', key: segmentKey(firstSeq), value: encodeSegment(records) });
        ops.push({ type: 'put', key: META_SEQ, value: ascii(lastSeq) });
      }
      const mark = this.#markable();
      if (mark > this.#persistedAcked) ops.push({ type: 'put', key: META_ACKED, value: ascii(mark) });
      try {
        if (this.#failure) throw this.#failure;
        if (ops.length) await this.#db.batch(ops, { sync: this.#opts.sync === 'batch' && records.length > 0 });
      } catch (e) {
        this.#failure ??= new TwinedgeError('OUTBOX_WRITE_FAILED', `outbox write failed: ${(e as Error).message}; check disk space, then restart the hub`, { file: this.#opts.location }, { cause: e });
        for (const g of groups) g.reject?.(this.#failure);
        continue;
      }
      if (mark > this.#persistedAcked) this.#persistedAcked = mark;
      for (const commit of rewritten) commit();
      if (records.length > 0) {
        this.#segments.add(firstSeq, lastSeq, this.#opts.now());
        for (const r of records) {
          this.#tail.push(r);
          this.#appended[r.kind]++;
        }
        this.#durableSeq = Math.max(this.#durableSeq, lastSeq);
      }
      await this.#clearAcked();
      for (const g of groups) g.resolve?.();
      if (records.length > 0) this.#events.emit('durable');
    }
    this.#writing = false;
    for (const done of this.#drained.splice(0)) done();
  }

  /** Removes the segments wholly at or below the mark on disk, by key range. */
  async #clearAcked(): Promise<void> {
    const through = this.#segments.lastWhollyAtOrBelow(this.#persistedAcked);
    if (through === undefined) return;
    try {
      await this.#db.clear({ ...SEGMENT_RANGE, lte: segmentKey(through) });
    } catch {
      // Not fatal: the segments are below the mark and are cleared at the next try or next open.
      return;
    }
    this.#segments.dropThrough(through);
  }

  async read(afterSeq: number, limit: number): Promise<OutboxRecord[]> {
    this.#check();
    const out: OutboxRecord[] = [];
    let cursor = Math.max(afterSeq, this.#low - 1);
    // Disk first, for what is older than the tail cache. The tail moves on while the disk is
    // read (new frames in, oldest out), so look again after every read.
    for (;;) {
      const first = this.#tail.firstSeq();
      if (first !== undefined && cursor + 1 >= first) break;
      const upTo = first !== undefined ? first - 1 : this.#durableSeq;
      if (cursor >= upTo || out.length >= limit) return out;
      cursor = await this.#readStored(cursor, limit, out, upTo);
    }
    // From here on nothing awaits: the tail cannot move under the index.
    if (out.length < limit) this.#tail.collect(cursor, limit, out, (seq) => this.#pending.has(seq));
    return out;
  }

  /**
   * Reads pending frames in (cursor, upTo] from disk into `out`; returns the last seq looked at.
   * Whole segments are taken, so `out` may pass `limit` by what one trip to LevelDB's thread
   * fetched (at most READ_AHEAD_BYTES): reading a segment twice would cost more than holding it.
   */
  async #readStored(cursor: number, limit: number, out: OutboxRecord[], upTo: number): Promise<number> {
    const at = this.#segments.segmentOf(cursor + 1);
    if (at === undefined) return upTo;
    const it = this.#db.iterator({ gte: segmentKey(at), lte: segmentKey(upTo), highWaterMarkBytes: READ_AHEAD_BYTES } as object);
    try {
      while (out.length < limit) {
        const entries = await it.nextv(READ_SEGMENTS);
        if (entries.length === 0) return upTo;
        for (const [key, value] of entries) {
          for (const rec of decodeSegment(seqOfKey(key), value) ?? []) {
            if (rec.seq <= cursor) continue;
            if (rec.seq > upTo) return upTo;
            cursor = rec.seq;
            if (this.#pending.has(rec.seq)) out.push(rec);
          }
        }
      }
    } finally {
      await it.close();
    }
    return cursor;
  }

  isPending(seq: number): boolean {
    return this.#pending.has(seq);
  }

  /**
   * Removes a subject's frames from the outbox and declares them lost: every frame of the subject
   * appended before the call and not yet acknowledged is dropped from the pending index and from
   * disk (the segments that hold it are rewritten without it), copies of its acknowledged frames
   * still on disk go too, and a gap frame with GapReason.PURGED names the dropped seqs. The gap
   * frame, the caller's `report` frames, the caller's `state` writes and the rewritten segments
   * are one atomic batch: after a crash either the purge happened and is declared, or nothing
   * did. Seq order holds (nothing is renumbered; the receiver sees declared ranges, not holes),
   * and the quota counts the dropped bytes out at once.
   *
   * A frame already published and waiting for its PUBACK cannot be called back: it may still
   * reach the receiver, whose copy the gap frame names. One the publisher has read but not yet
   * sent is not sent (it asks `isPending` first). Purges run one at a time.
   */
  purgeSubject(request: PurgeRequest): Promise<PurgeOutcome & { seqs: number[] }> {
    try {
      this.#check();
    } catch (e) {
      return Promise.reject(e);
    }
    const run = this.#purges.then(() => this.#purge(request));
    this.#purges = run.catch(() => {});
    return run;
  }

  async #purge(request: PurgeRequest): Promise<PurgeOutcome & { seqs: number[] }> {
    const subject = request.subjectRef;
    // Everything appended before the call is on disk, where the scan can see it.
    await this.#whenDurable(this.#lastSeq);
    const stored = await this.#storedOf(subject);
    this.#check();
    // No await from here to the append: the frames found pending are dropped at the same moment
    // as the seqs of the frames that report them are given.
    const removed: Array<[number, number]> = [];
    let delivered = 0;
    for (const records of stored.values()) {
      for (const r of records) {
        if (r.subjectRef !== subject) continue;
        const cost = this.#pending.get(r.seq);
        if (cost === undefined) delivered++;
        else removed.push([r.seq, cost]);
      }
    }
    const ranges = rangesOf(removed.map(([seq]) => seq));
    const bytes = removed.reduce((n, [, cost]) => n + cost, 0);
    const gapSeq = removed.length > 0 ? this.#lastSeq + 1 : 0;
    const outcome: PurgeOutcome = { subjectRef: subject, frames: removed.length, bytes, removed: ranges, gapSeq, deliveredCopies: delivered };
    const entries: AppendEntry[] = [];
    const gap: Gap = { reason: GapReason.PURGED, dropped: ranges, frames: removed.length, bytes };
    if (gapSeq > 0) entries.push({ subjectRef: '_hub', kind: 'gap', make: (seq) => this.#opts.makeGap(seq, gap) });
    entries.push(...(request.report?.(outcome) ?? []));
    const state = request.state?.(outcome) ?? [];
    for (const [seq, cost] of removed) this.#forget(seq, cost);
    if (gapSeq > 0) {
      // The mark on disk stays below the dropped frames until the gap frame is durable, as for the quota.
      this.#unreported.set(gapSeq, ranges[0]!.first);
      this.#gapFrames.set(gapSeq, ranges);
    }
    const before = this.#lastSeq;
    const appended = this.#appendGroup(entries, state, () => this.#rewrite(subject, stored));
    if (this.#lastSeq === before) {
      // Refused before any seq was given (a frame could not be made): nothing was dropped.
      for (const [seq, cost] of removed) {
        this.#pending.set(seq, cost);
        this.#pendingBytes += cost;
      }
      this.#unreported.delete(gapSeq);
      this.#gapFrames.delete(gapSeq);
    }
    try {
      return { ...outcome, seqs: await appended };
    } finally {
      this.#unreported.delete(gapSeq);
    }
  }

  /** Resolves once every seq up to `seq` is on disk; rejects if the outbox fails or closes first. */
  async #whenDurable(seq: number): Promise<void> {
    while (this.#durableSeq < seq) {
      this.#check();
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#events.off('durable', done);
          resolve();
        };
        this.#events.on('durable', done);
        // A failed write emits no 'durable'; the write loop's end wakes the check above.
        this.#drained.push(done);
      });
    }
  }

  /** The stored segments that hold frames of a subject, first seq -> all their frames. */
  async #storedOf(subjectRef: string): Promise<Map<number, OutboxRecord[]>> {
    const found = new Map<number, OutboxRecord[]>();
    await this.#eachSegment((first, records) => {
      if (records?.some((r) => r.subjectRef === subjectRef)) found.set(first, records);
    });
    return found;
  }

  /** Every stored segment in seq order, decoded (undefined when damaged), read in large trips. */
  async #eachSegment(visit: (first: number, records: OutboxRecord[] | undefined) => void): Promise<void> {
    const it = this.#db.iterator({ ...SEGMENT_RANGE, highWaterMarkBytes: READ_AHEAD_BYTES } as object);
    try {
      for (;;) {
        const entries = await it.nextv(READ_SEGMENTS);
        if (entries.length === 0) break;
        for (const [key, value] of entries) {
          const first = seqOfKey(key);
          visit(first, decodeSegment(first, value));
        }
      }
    } finally {
      await it.close();
    }
  }

  /**
   * The segments of a purge without the subject's frames: each becomes the runs of consecutive
   * seqs left in it (a segment holds consecutive seqs only), or goes. Decided when the batch is
   * written, so a segment the acknowledged mark cleared meanwhile is left alone.
   */
  #rewrite(subjectRef: string, stored: ReadonlyMap<number, OutboxRecord[]>): { ops: BatchOp[]; commit: () => void } {
    const ops: BatchOp[] = [];
    const changes: Array<[number, Array<[number, number]>]> = [];
    for (const [first, records] of stored) {
      if (!this.#segments.has(first)) continue;
      const runs: OutboxRecord[][] = [];
      for (const r of records) {
        if (r.subjectRef === subjectRef) continue;
        const run = runs[runs.length - 1];
        if (run && run[run.length - 1]!.seq + 1 === r.seq) run.push(r);
        else runs.push([r]);
      }
      if (runs[0]?.[0]?.seq !== first) ops.push({ type: 'del', key: segmentKey(first) });
      for (const run of runs) ops.push({ type: 'put', key: segmentKey(run[0]!.seq), value: encodeSegment(run) });
      changes.push([first, runs.map((run) => [run[0]!.seq, run[run.length - 1]!.seq])]);
    }
    return { ops, commit: () => { for (const [first, runs] of changes) this.#segments.replace(first, runs); } };
  }

  async getState(key: string): Promise<Uint8Array | undefined> {
    this.#check();
    return this.#db.get(STATE_PREFIX + key);
  }

  stats(): OutboxStats {
    const oldestSeq = this.#oldest();
    return {
      pending: this.#pending.size,
      pendingBytes: this.#pendingBytes,
      oldestSeq,
      // A pending frame not yet on disk was appended moments ago.
      oldestAppendedAtMs: oldestSeq === undefined ? undefined : this.#segments.appendedAt(oldestSeq) ?? this.#opts.now(),
      lastSeq: this.#lastSeq,
      droppedFrames: this.#droppedFrames,
      droppedBytes: this.#droppedBytes,
      quotaBytes: this.#opts.quotaBytes,
      appended: { ...this.#appended },
      state: this.#failure ? 'failed' : this.#state,
    };
  }

  onDurable(listener: () => void): () => void {
    this.#events.on('durable', listener);
    return () => this.#events.off('durable', listener);
  }

  async close(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'new') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closing';
    if (this.#writing || this.#scheduled || this.#queue.length) await new Promise<void>((r) => this.#drained.push(r));
    // A graceful close remembers what was acknowledged out of order, so a restart resends nothing.
    const above: number[] = [];
    for (let seq = this.#persistedAcked + 1; seq <= this.#lastSeq; seq++) if (!this.#pending.has(seq)) above.push(seq);
    if (above.length && !this.#failure) {
      await this.#db.put(META_ACKED_ABOVE, Buffer.from(JSON.stringify(rangesOf(above))), { sync: true }).catch(() => {});
    }
    this.#state = 'closed';
    await this.#db.close();
  }
}

function gapRangesOf(payload: Uint8Array): SeqRange[] {
  try {
    return decodeBody(decodeSigned(payload).body).gap?.dropped ?? [];
  } catch {
    return [];
  }
}

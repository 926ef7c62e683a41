import { mkdir } from 'node:fs/promises';
import { Level } from 'level';
import type { SeqRange } from '../frames/codec.js';
import { TwinedgeError } from '../ops/errors.js';
import { KeyLedger, type Handover } from './key-ledger.js';
import { RangeSet, type RangeWriter } from './range-set.js';
import type { DedupeRejectReason } from './reasons.js';
import { compareStatus, statusMarkOf, type StatusMark } from './status-order.js';
import type { AcceptedFrame } from './verify.js';

/**
 * What the receiver learns about a hub's sequence as frames are accepted.
 * - seq_gap: seqs first..last were skipped when a higher seq arrived. Tentative: later
 *   out-of-order delivery may still fill them; `missing()` says what is still open.
 * - declared: a gap frame (itself at `seq`) says the hub dropped these ranges (GapReason
 *   `reason`). They will never come and count as resolved.
 */
export type GapEvent =
  | { readonly type: 'seq_gap'; readonly hubId: string; readonly first: number; readonly last: number }
  | { readonly type: 'declared'; readonly hubId: string; readonly seq: number; readonly reason: number; readonly ranges: readonly SeqRange[] };

/** The latest accepted status frame of a hub. */
export interface HubStatus {
  readonly key_id: string;
  readonly mark: StatusMark;
  /** The decoded body (JSON-safe: status bodies hold no bytes once key_handovers is emptied). */
  readonly body: AcceptedFrame['body'];
}

/**
 * De-duplication and gap tracking per hub, durable across restarts of the receiver.
 *
 * Model: per hub a contiguous watermark W (every seq <= W was accepted or declared lost), plus
 * the accepted seqs above W and the declared-lost ranges above W, both kept as ranges and
 * dropped as W moves past them. The first frame from an unknown hub sets W to its seq - 1:
 * a receiver that joins late does not call the hub's history missing. Status frames (seq 0) are
 * outside the sequence: only the latest per hub is kept.
 *
 * Contract:
 * - `check` is pure and synchronous: it says whether a verified frame would be a duplicate, a
 *   replay or a stale status, and changes nothing.
 * - `accept` records a frame (and a gap frame's declared ranges) and resolves once that is
 *   written; it is idempotent, so a frame accepted twice is recorded once. The caller writes the
 *   frame to its sink between `check` and `accept`, so a crash in between leaves the frame
 *   unrecorded and it is accepted again when redelivered (at least once into the sink, never lost).
 * - Calls are never concurrent: each `accept` settles before the next `check` (the receiver
 *   processes one message at a time). If an `accept` rejects, memory is ahead of the disk; the
 *   owner must stop and reopen.
 * - After `close` resolves, every accepted frame is on disk; no method may be called after it.
 */
export interface DedupeState {
  open(): Promise<void>;
  check(frame: AcceptedFrame): DedupeRejectReason | undefined;
  accept(frame: AcceptedFrame): Promise<GapEvent[]>;
  /** Holes above W up to the highest seq seen, not declared lost. Sorted, merged. */
  missing(hubId: string): SeqRange[];
  /** W, or undefined for a hub never seen. */
  watermark(hubId: string): number | undefined;
  latestStatus(hubId: string): HubStatus | undefined;
  /** Every hub with a sequence or a status, sorted. */
  hubs(): string[];
  /** A value kept with the state, made and stored by `make` the first time it is asked for. */
  meta(name: string, make: () => string): Promise<string>;
  /**
   * Takes a key handover that came without its frame (carried by a status frame; see
   * Status.key_handovers) and resolves once it is stored. A handover that arrives as a frame is
   * taken by `accept`, in the same write as the frame.
   */
  learn(handover: Handover): Promise<void>;
  close(): Promise<void>;
}

export interface LevelDedupeOptions {
  /** Folder of the LevelDB database; made if missing. */
  location: string;
  /**
   * 'none' (default): leave flushing to the OS: the state survives a receiver crash, and a power
   * loss may forget the last frames (they are then accepted once more if redelivered).
   * 'batch': fsync every write, several times slower.
   */
  sync?: 'none' | 'batch';
  /** Where accepted key handovers go; they are stored here and loaded back into it at open. */
  ledger?: KeyLedger;
}

interface HubSeq {
  w: number;
  readonly accepted: RangeSet;
  readonly declared: RangeSet;
  readonly acceptedWriter: RangeWriter;
  readonly declaredWriter: RangeWriter;
}

type BatchOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

// Key layout. Hub ids match ID_PATTERN (trust.ts enforces it), so they hold no '!'.
const W = 'w!';
const ACCEPTED = 'a!';
const DECLARED = 'd!';
const STATUS = 's!';
const META = 'm!';
// k!<hub_id>!<key_id>: a key handover taken for that hub (key-ledger.ts).
const HANDOVER = 'k!';
// 14 hex digits hold every safe integer (2^53 < 16^14); fixed width keeps keys in seq order.
const seqKey = (prefix: string, hubId: string, first: number) => `${prefix}${hubId}!${first.toString(16).padStart(14, '0')}`;

/** DedupeState on LevelDB, with everything held in memory and each change written as one batch. */
export class LevelDedupe implements DedupeState {
  readonly #db: Level<string, string>;
  readonly #location: string;
  readonly #sync: boolean;
  readonly #ledger: KeyLedger | undefined;
  readonly #seqs = new Map<string, HubSeq>();
  readonly #statuses = new Map<string, HubStatus>();
  /** The batch of the accept in progress; writers append to it. */
  #ops: BatchOp[] = [];

  constructor(opts: LevelDedupeOptions) {
    this.#location = opts.location;
    this.#sync = opts.sync === 'batch';
    this.#ledger = opts.ledger;
    this.#db = new Level<string, string>(opts.location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  }

  async open(): Promise<void> {
    try {
      await mkdir(this.#location, { recursive: true });
      await this.#db.open();
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as { code?: string }).code ?? String(e);
      throw new TwinedgeError('RECEIVE_STATE_UNAVAILABLE', `cannot open the receiver state (${cause}); if another receiver uses this folder, give each its own --state`, { file: this.#location }, { cause: e });
    }
    for await (const [key, value] of this.#db.iterator()) this.#load(key, value);
  }

  #load(key: string, value: string): void {
    const prefix = key.slice(0, 2);
    if (prefix === META) return;
    if (prefix === HANDOVER) {
      const [hubId] = key.slice(2).split('!');
      const h = KeyLedger.decode(hubId!, value);
      if (h && this.#ledger?.judge(h) === 'new') this.#ledger.add(h);
      return;
    }
    if (prefix === STATUS) {
      this.#statuses.set(key.slice(2), JSON.parse(value) as HubStatus);
      return;
    }
    const rest = key.slice(2);
    const bang = rest.indexOf('!');
    const hubId = bang < 0 ? rest : rest.slice(0, bang);
    const h = this.#hub(hubId, 0);
    if (prefix === W) h.w = Number(value);
    else if (prefix === ACCEPTED) h.accepted.add(parseInt(rest.slice(bang + 1), 16), Number(value));
    else if (prefix === DECLARED) h.declared.add(parseInt(rest.slice(bang + 1), 16), Number(value));
  }

  #hub(hubId: string, w: number): HubSeq {
    let h = this.#seqs.get(hubId);
    if (!h) {
      const writer = (prefix: string): RangeWriter => ({
        put: (first, last) => this.#ops.push({ type: 'put', key: seqKey(prefix, hubId, first), value: String(last) }),
        del: (first) => this.#ops.push({ type: 'del', key: seqKey(prefix, hubId, first) }),
      });
      h = { w, accepted: new RangeSet(), declared: new RangeSet(), acceptedWriter: writer(ACCEPTED), declaredWriter: writer(DECLARED) };
      this.#seqs.set(hubId, h);
    }
    return h;
  }

  check(frame: AcceptedFrame): DedupeRejectReason | undefined {
    // Seq 0: a birth or will, outside the sequence. A key handover is a status in the sequence.
    if (frame.seq === 0) {
      const latest = this.#statuses.get(frame.hub_id);
      if (!latest) return undefined;
      const order = compareStatus(statusMarkOf(frame.body), latest.mark);
      return order === 'newer' ? undefined : order === 'same' ? 'duplicate' : 'stale_status';
    }
    const h = this.#seqs.get(frame.hub_id);
    if (!h) return undefined;
    if (frame.seq <= h.w) return 'replay';
    return h.accepted.has(frame.seq) ? 'duplicate' : undefined;
  }

  async accept(frame: AcceptedFrame): Promise<GapEvent[]> {
    if (this.check(frame) !== undefined) return [];
    this.#ops = [];
    const events = frame.seq === 0 ? this.#acceptStatus(frame) : this.#acceptSeq(frame);
    // The handover is stored in the same write as its frame: a crash leaves both or neither.
    if (frame.handover && this.#ledger?.judge(frame.handover) === 'new') this.#takeHandover(frame.handover);
    const ops = this.#ops;
    this.#ops = [];
    if (ops.length > 0) await this.#db.batch(ops, { sync: this.#sync });
    return events;
  }

  #acceptStatus(frame: AcceptedFrame): GapEvent[] {
    // The handovers a status carries are bytes, and were taken (or not) when it was verified.
    const body = frame.body.status?.key_handovers?.length ? { ...frame.body, status: { ...frame.body.status, key_handovers: [] } } : frame.body;
    const status: HubStatus = { key_id: frame.key_id, mark: statusMarkOf(frame.body), body };
    this.#statuses.set(frame.hub_id, status);
    this.#ops.push({ type: 'put', key: STATUS + frame.hub_id, value: JSON.stringify(status) });
    return [];
  }

  #acceptSeq(frame: AcceptedFrame): GapEvent[] {
    const hubId = frame.hub_id;
    const seq = frame.seq;
    const known = this.#seqs.has(hubId);
    const h = this.#hub(hubId, seq - 1);
    // The hot path: the next seq, nothing waiting above it, nothing declared.
    if (known && seq === h.w + 1 && h.accepted.count === 0 && h.declared.count === 0 && frame.kind !== 'gap') {
      h.w = seq;
      this.#ops.push({ type: 'put', key: W + hubId, value: String(seq) });
      return [];
    }
    const wBefore = h.w;
    const highestBefore = known ? highestOf(h) : h.w;
    h.accepted.add(seq, seq, h.acceptedWriter);
    const events: GapEvent[] = [];
    if (frame.kind === 'gap' && frame.body.gap) {
      const gap = frame.body.gap;
      for (const r of gap.dropped) {
        const first = Math.max(r.first, h.w + 1);
        if (first <= r.last) h.declared.add(first, r.last, h.declaredWriter);
      }
      events.push({ type: 'declared', hubId, seq, reason: gap.reason, ranges: gap.dropped.map((r) => ({ first: r.first, last: r.last })) });
    }
    const highestAfter = highestOf(h);
    if (highestAfter > highestBefore + 1) {
      // Only a gap frame can add more than its own seq above the old highest: anything else
      // opens exactly one hole, found without scanning every range.
      const opened = frame.kind === 'gap' ? holes(h, highestBefore + 1, highestAfter) : [{ first: highestBefore + 1, last: seq - 1 }];
      for (const hole of opened) events.push({ type: 'seq_gap', hubId, first: hole.first, last: hole.last });
    }
    this.#advance(h);
    if (!known || h.w !== wBefore) this.#ops.push({ type: 'put', key: W + hubId, value: String(h.w) });
    return events;
  }

  /** Moves W over every run that now touches it, and forgets what falls at or below it. */
  #advance(h: HubSeq): void {
    for (;;) {
      const a = h.accepted.lowest();
      const d = h.declared.lowest();
      if (a !== undefined && a <= h.w + 1) h.w = Math.max(h.w, h.accepted.lowestRunEnd()!);
      else if (d !== undefined && d <= h.w + 1) h.w = Math.max(h.w, h.declared.lowestRunEnd()!);
      else break;
      h.accepted.dropThrough(h.w, h.acceptedWriter);
      h.declared.dropThrough(h.w, h.declaredWriter);
    }
  }

  missing(hubId: string): SeqRange[] {
    const h = this.#seqs.get(hubId);
    return h ? holes(h, h.w + 1, highestOf(h)) : [];
  }

  watermark(hubId: string): number | undefined {
    return this.#seqs.get(hubId)?.w;
  }

  latestStatus(hubId: string): HubStatus | undefined {
    return this.#statuses.get(hubId);
  }

  hubs(): string[] {
    return [...new Set([...this.#seqs.keys(), ...this.#statuses.keys()])].sort();
  }

  #takeHandover(h: Handover): void {
    this.#ledger!.add(h);
    this.#ops.push({ type: 'put', key: `${HANDOVER}${h.hubId}!${h.keyId}`, value: KeyLedger.encode(h) });
  }

  async learn(handover: Handover): Promise<void> {
    if (this.#ledger?.judge(handover) !== 'new') return;
    this.#ops = [];
    this.#takeHandover(handover);
    const ops = this.#ops;
    this.#ops = [];
    await this.#db.batch(ops, { sync: this.#sync });
  }

  async meta(name: string, make: () => string): Promise<string> {
    const key = META + name;
    const stored = await this.#db.get(key);
    if (stored !== undefined) return stored;
    const value = make();
    await this.#db.put(key, value, { sync: true });
    return value;
  }

  async close(): Promise<void> {
    if (this.#db.status === 'open' || this.#db.status === 'opening') await this.#db.close();
  }
}

function highestOf(h: HubSeq): number {
  return Math.max(h.w, h.accepted.highest() ?? 0, h.declared.highest() ?? 0);
}

/** Sub-ranges of [from, to] covered by neither accepted nor declared ranges. */
function holes(h: HubSeq, from: number, to: number): SeqRange[] {
  const covered = [...h.accepted.ranges(), ...h.declared.ranges()].sort((x, y) => x.first - y.first);
  const out: SeqRange[] = [];
  let next = from;
  for (const r of covered) {
    if (r.last < next) continue;
    if (r.first > to) break;
    if (r.first > next) out.push({ first: next, last: Math.min(r.first - 1, to) });
    next = Math.max(next, r.last + 1);
    if (next > to) break;
  }
  if (next <= to) out.push({ first: next, last: to });
  return out;
}

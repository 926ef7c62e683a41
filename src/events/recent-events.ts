/**
 * The events recorded lately, by event id, so that a request sent again (a client that timed
 * out and retried, a mark command run twice) is recorded once and answered with the first
 * record. The memory is hub state kept in the outbox: each record is written in the same atomic
 * batch as its event frame, so after a crash either both exist or neither does, and a retry
 * after a restart still finds it.
 *
 * Layout (keys of the caller's state store):
 *   events/ids        JSON list of the remembered ids, oldest first
 *   events/id/<id>    JSON { seq, subject_ref, event } of one recorded event
 * Records are read on demand; only the list is read at start. The list holds the last
 * REMEMBERED_EVENT_IDS ids: an older id sent again is recorded anew, which the receiver can
 * still tell apart from a new event by its event_id.
 */
import type { Event } from '../frames/codec.js';
import { TwinedgeError } from '../ops/errors.js';

export interface RecordedEvent {
  readonly seq: number;
  readonly subject_ref: string;
  readonly event: Event;
}

export interface RecordOutcome {
  readonly record: RecordedEvent;
  /** True when the id was recorded before and nothing new was written. */
  readonly repeated: boolean;
}

/** A write to the state stored with the frame (the outbox's StateWrite). */
export interface StateEntry {
  readonly key: string;
  /** undefined deletes the key. */
  readonly value: Uint8Array | undefined;
}

/**
 * Stores the event frame with the state `stateFor(seq)` gives for the seq the frame gets, in one
 * atomic batch, and resolves to that seq. `stateFor` is called once, synchronously, before the
 * frame is queued.
 */
export type StoreEvent = (stateFor: (seq: number) => readonly StateEntry[]) => Promise<number>;

export const REMEMBERED_EVENT_IDS = 1000;
const INDEX_KEY = 'events/ids';
const recordKey = (id: string) => `events/id/${id}`;

const encode = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8');

/** Fields a repeat must have the same as the first record (the time is not among them: see `#repeat`). */
const COMPARED = ['kind', 'code', 'dose', 'dose_unit', 'note'] as const;

export class RecentEvents {
  readonly #read: (key: string) => Promise<Uint8Array | undefined>;
  readonly #limit: number;
  /** Oldest first. */
  #ids: string[];
  readonly #known: Set<string>;
  readonly #inflight = new Map<string, Promise<RecordOutcome>>();
  /** Whether the stored list was unreadable at load (and so started empty). */
  readonly damaged: boolean;

  private constructor(read: (key: string) => Promise<Uint8Array | undefined>, ids: string[], limit: number, damaged: boolean) {
    this.#read = read;
    this.#ids = ids;
    this.#known = new Set(ids);
    this.#limit = limit;
    this.damaged = damaged;
  }

  /** Reads the remembered ids from the state store. A damaged list starts empty (see `damaged`). */
  static async load(read: (key: string) => Promise<Uint8Array | undefined>, limit = REMEMBERED_EVENT_IDS): Promise<RecentEvents> {
    if (!Number.isInteger(limit) || limit < 1) throw new TypeError('limit must be a positive integer');
    const raw = await read(INDEX_KEY);
    if (raw === undefined) return new RecentEvents(read, [], limit, false);
    try {
      const ids: unknown = JSON.parse(Buffer.from(raw).toString('utf8'));
      if (Array.isArray(ids) && ids.every((x) => typeof x === 'string')) return new RecentEvents(read, ids.slice(-limit), limit, false);
    } catch {
      // Reported through `damaged`.
    }
    return new RecentEvents(read, [], limit, true);
  }

  /** How many ids are remembered. */
  get size(): number {
    return this.#ids.length;
  }

  /** The first record of an event id, if it is remembered. */
  async find(eventId: string): Promise<RecordedEvent | undefined> {
    if (!this.#known.has(eventId)) return undefined;
    const raw = await this.#read(recordKey(eventId));
    if (raw === undefined) return undefined;
    return JSON.parse(Buffer.from(raw).toString('utf8')) as RecordedEvent;
  }

  /**
   * Records an event once per event id. A request with an id seen before (recorded, or being
   * recorded now) writes nothing and resolves to the first record; if its content differs, it
   * rejects with EVENT_ID_REUSED. A failure to store rejects, and the id is not remembered.
   */
  record(subjectRef: string, event: Event, store: StoreEvent): Promise<RecordOutcome> {
    const id = event.event_id;
    const pending = this.#inflight.get(id);
    if (pending) return pending.then((first) => this.#repeat(first.record, subjectRef, event));
    const p = this.#recordNew(subjectRef, event, store).finally(() => this.#inflight.delete(id));
    this.#inflight.set(id, p);
    return p;
  }

  async #recordNew(subjectRef: string, event: Event, store: StoreEvent): Promise<RecordOutcome> {
    const earlier = await this.find(event.event_id);
    if (earlier) return this.#repeat(earlier, subjectRef, event);
    let claimed = false;
    try {
      const seq = await store((s) => {
        claimed = true;
        return this.#claim({ seq: s, subject_ref: subjectRef, event });
      });
      return { record: { seq, subject_ref: subjectRef, event }, repeated: false };
    } catch (e) {
      // A list written by a later batch may still name the id; its record was never written, so
      // find() treats it as unknown.
      if (claimed) this.#forget(event.event_id);
      throw e;
    }
  }

  /** Takes the id into memory and returns the state writes for its record. */
  #claim(record: RecordedEvent): StateEntry[] {
    const id = record.event.event_id;
    this.#ids.push(id);
    this.#known.add(id);
    const writes: StateEntry[] = [{ key: recordKey(id), value: encode(record) }];
    while (this.#ids.length > this.#limit) {
      const old = this.#ids.shift()!;
      this.#known.delete(old);
      writes.push({ key: recordKey(old), value: undefined });
    }
    writes.push({ key: INDEX_KEY, value: encode(this.#ids) });
    return writes;
  }

  /** The remembered ids of a subject's events (read from their records), for a purge. */
  async idsOf(subjectRef: string): Promise<string[]> {
    const out: string[] = [];
    for (const id of [...this.#ids]) {
      const record = await this.find(id);
      if (record?.subject_ref === subjectRef) out.push(id);
    }
    return out;
  }

  /**
   * Forgets ids now (a purge) and returns the state writes that delete their records and store
   * the shorter list, to be stored in the purge's batch. An event sent again with a forgotten id
   * is recorded anew.
   */
  forget(ids: readonly string[]): StateEntry[] {
    const gone = new Set(ids.filter((id) => this.#known.has(id)));
    if (gone.size === 0) return [];
    for (const id of gone) this.#forget(id);
    return [...[...gone].map((id) => ({ key: recordKey(id), value: undefined })), { key: INDEX_KEY, value: encode(this.#ids) }];
  }

  #forget(id: string): void {
    this.#ids = this.#ids.filter((x) => x !== id);
    this.#known.delete(id);
  }

  /**
   * A repeat is the same event when everything but its time matches: a retry of a request that
   * said "now" (or no time) is sent later, so its time differs although the event does not.
   */
  #repeat(first: RecordedEvent, subjectRef: string, event: Event): RecordOutcome {
    const differ: string[] = first.subject_ref === subjectRef ? [] : ['subject_ref'];
    for (const k of COMPARED) if (first.event[k] !== event[k]) differ.push(k === 'dose_unit' ? 'unit' : k);
    if (differ.length > 0) {
      throw new TwinedgeError('EVENT_ID_REUSED', `event id '${event.event_id}' was recorded as seq ${first.seq} with a different ${differ.join(', ')}; give a new event its own id`, { keyPath: 'event_id' });
    }
    return { record: first, repeated: true };
  }
}

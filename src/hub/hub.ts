/**
 * The hub: the only place where the stages are wired together.
 *
 *   source (simulated now; later transports -> profiles -> streams -> windows -> features)
 *     -> FrameMaker      header (hub, seq, boot, clocks) + payload -> protobuf body, Ed25519 signature
 *     -> LevelOutbox     seq assigned, frame + next seq (+ state) in one atomic, fsynced batch
 *     -> Publisher       mqtt.js QoS 1, bounded in-flight window, delete on PUBACK
 *     -> broker          twin/v1/<hub_id>/<subject_ref>/<kind>, retained twin/v1/<hub_id>/status
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { HubState, payloadKind, type Status } from '../frames/codec.js';
import { FrameMaker, HUB_SUBJECT } from '../frames/frame-maker.js';
import type { HubKey } from '../frames/keys.js';
import { FrameSigner } from '../frames/sign.js';
import { LevelOutbox } from '../outbox/level-outbox.js';
import type { OutboxStats, StateWrite } from '../outbox/outbox.js';
import type { SystemClock, Clock } from '../ops/clock.js';
import type { Logger } from '../ops/log.js';
import { Publisher, type BrokerOptions, type HubStatusState, type PublisherStats } from '../publish/session.js';
import type { Event } from '../frames/codec.js';
import { RecentEvents, type RecordOutcome } from '../events/recent-events.js';
import { TwinedgeError } from '../ops/errors.js';
import type { FrameSource, ProducedFrame } from './frame-source.js';

export const SOFTWARE_VERSION = '0.1.0';

export interface HubOptions {
  hubId: string;
  dataDir: string;
  key: HubKey;
  clock: Clock & Partial<Pick<SystemClock, 'takeJump'>>;
  broker: BrokerOptions;
  inflight: number;
  outbox: { quotaBytes: number; sync: 'batch' | 'none'; maxBatch: number };
  subjects: readonly string[];
  source: FrameSource;
  configSha256: string;
  log: Logger;
  /**
   * Called once when the outbox can no longer store frames (disk full or failing): nothing the
   * hub makes from then on would be kept, so the daemon should stop and be restarted.
   */
  onFatal?: (err: Error) => void;
}

export interface HubStats {
  outbox: OutboxStats;
  publisher: PublisherStats;
  appendFailures: number;
}

export class Hub {
  readonly #o: HubOptions;
  readonly #maker: FrameMaker;
  readonly #outbox: LevelOutbox;
  readonly #publisher: Publisher;
  #appendFailures = 0;
  /** Event ids recorded lately, for idempotent requests; loaded at start. */
  #events: RecentEvents | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: HubOptions) {
    this.#o = options;
    const clock = options.clock;
    this.#maker = new FrameMaker({
      hubId: options.hubId,
      clock,
      signer: new FrameSigner(options.key),
      ...(clock.takeJump ? { takeClockJump: () => clock.takeJump!() } : {}),
    });
    this.#outbox = new LevelOutbox({
      location: join(options.dataDir, 'outbox'),
      ...options.outbox,
      makeGap: (seq, gap) => this.#maker.makeAsync(seq, HUB_SUBJECT, { gap }),
    });
    this.#publisher = new Publisher({
      outbox: this.#outbox,
      broker: options.broker,
      hubId: options.hubId,
      inflight: options.inflight,
      statusFrame: (state, reason, connection) => this.#statusFrame(state, reason, connection),
      log: options.log.child({ stage: 'publish' }),
    });
  }

  get keyId(): string {
    return this.#maker.keyId;
  }

  #statusFrame(state: HubStatusState, reason: string, connection: number): Uint8Array {
    const status: Status = {
      state: state === 'online' ? HubState.ONLINE : HubState.OFFLINE,
      software_version: SOFTWARE_VERSION,
      config_sha256: this.#o.configSha256,
      subjects: [...this.#o.subjects],
      ...(this.#o.source.describe?.() ?? { devices: [] }),
      reason,
      last_seq: this.#outbox.stats().lastSeq,
      connection,
    };
    // Status frames are state, not history: seq 0, outside the sequence (see frame.proto).
    return this.#maker.make(0, HUB_SUBJECT, { status });
  }

  async start(): Promise<void> {
    await mkdir(this.#o.dataDir, { recursive: true, mode: 0o700 });
    await this.#outbox.open();
    this.#events = await RecentEvents.load((key) => this.#outbox.getState(key));
    if (this.#events.damaged) this.#o.log.warn('the list of recent event ids was unreadable: a request resent from before now is recorded again');
    const s = this.#outbox.stats();
    this.#o.log.info({ hubId: this.#o.hubId, keyId: this.keyId, bootId: this.#o.clock.bootId, lastSeq: s.lastSeq, pending: s.pending }, 'hub starting');
    this.#publisher.start();
    this.#o.source.start((frames, state) => this.#append(frames, state), (key) => this.#outbox.getState(key));
  }

  async #append(frames: readonly ProducedFrame[], state?: readonly StateWrite[]): Promise<void> {
    try {
      await this.#outbox.append(frames.map((f) => ({
        subjectRef: f.subjectRef,
        kind: payloadKind(f.payload),
        make: (seq: number) => this.#maker.makeAsync(seq, f.subjectRef, f.payload),
      })), state);
    } catch (e) {
      this.#appendFailures++;
      if (this.#appendFailures === 1) {
        this.#o.log.error({ err: (e as Error).message, code: (e as { code?: string }).code }, 'frames could not be stored');
        if ((e as { code?: string }).code === 'OUTBOX_WRITE_FAILED') this.#o.onFatal?.(e as Error);
      }
      throw e;
    }
  }

  /**
   * Records an intervention event for a subject as an event frame: signed by the same FrameMaker
   * and given the next seq like every frame, and stored in the same atomic batch as the record of
   * its event id. An id recorded before writes nothing and resolves to the first record
   * (`repeated`); the same id with different content rejects with EVENT_ID_REUSED. Rejects with
   * EVENT_INVALID for a subject the hub does not serve, and with the outbox's error (OUTBOX_CLOSED,
   * OUTBOX_WRITE_FAILED) when the frame cannot be stored. The event is taken as checked
   * (src/events/event-request.ts).
   */
  recordEvent(subjectRef: string, event: Event): Promise<RecordOutcome> {
    const events = this.#events;
    if (!events) return Promise.reject(new TwinedgeError('OUTBOX_CLOSED', 'the hub is not started'));
    if (!this.#o.subjects.includes(subjectRef)) {
      return Promise.reject(new TwinedgeError('EVENT_INVALID', `'${subjectRef}' is not a subject of this hub (${this.#o.subjects.join(', ')})`, { keyPath: 'subject_ref' }));
    }
    return events.record(subjectRef, event, async (stateFor) => {
      // The outbox gives seqs synchronously in call order, so the seq this append gets is known
      // now, and the record stored with the frame can name it.
      const expected = this.#outbox.stats().lastSeq + 1;
      let seqs: number[];
      try {
        seqs = await this.#outbox.append([{ subjectRef, kind: 'event', make: (seq) => this.#maker.makeAsync(seq, subjectRef, { event }) }], stateFor(expected));
      } catch (e) {
        this.#appendFailures++;
        if ((e as { code?: string }).code === 'OUTBOX_WRITE_FAILED') this.#o.onFatal?.(e as Error);
        throw e;
      }
      if (seqs[0] !== expected) throw new TypeError(`event frame got seq ${seqs[0]}, not ${expected}`);
      return expected;
    });
  }

  stats(): HubStats {
    return { outbox: this.#outbox.stats(), publisher: this.#publisher.stats(), appendFailures: this.#appendFailures };
  }

  get publisher(): Publisher {
    return this.#publisher;
  }

  /** Graceful stop: inputs first, then what they produced is stored, then offline status, then the store. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#o.source.stop();
      await this.#publisher.stop();
      await this.#outbox.close();
      this.#o.log.info({ lastSeq: this.#outbox.stats().lastSeq }, 'hub stopped');
    })();
    return this.#stopping;
  }
}

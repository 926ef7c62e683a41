import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { SeqRange } from '../frames/codec.js';
import { TwinedgeError } from '../ops/errors.js';
import { silentLogger, type Logger } from '../ops/log.js';
import { isCommandTopic, TOPIC_ROOT } from '../publish/topics.js';
import { LevelDedupe, type DedupeState, type GapEvent, type HubStatus } from './dedupe.js';
import { FrameProcessor, type Outcome, type ReceiverCounters } from './processor.js';
import type { RejectReason } from './reasons.js';
import type { Sink } from './sinks/sink.js';
import { BrokerSubscription, withinMs, type ReceiverTls } from './subscription.js';
import type { TrustStore } from './trust.js';
import type { AcceptedFrame } from './verify.js';
import { KeyLedger } from './key-ledger.js';
import type { OpenKeys } from '../frames/seal.js';
import { FrameVerifier } from './verify.js';

export interface ReceiverOptions {
  brokerUrl: string;
  /**
   * The root of trust. Key handovers signed by a trusted key add keys on top of it; they are
   * kept in the state folder (key-ledger.ts).
   */
  trust: TrustStore;
  /**
   * The twin server's X25519 keys: sealed payloads are opened after their signature verified,
   * and refused (seal_wrong_key, seal_open_failed) when they do not open. Without them, sealed
   * frames are accepted as they are and the sink gets the sealed payload, to open later.
   */
  openKeys?: OpenKeys;
  /** Closed by stop(). */
  sink: Sink;
  /** Folder of the de-duplication state (LevelDB). One receiver per folder: it is locked. */
  stateDir: string;
  /**
   * The MQTT client id. It names the broker session that holds frames while the receiver is
   * away, so it must stay the same across restarts and differ between receivers. Default: one
   * made at the first start and kept in the state folder.
   */
  clientId?: string;
  /**
   * Shared subscription group: `$share/<group>/twin/v1/#`, every frame to one member. Each
   * member has its own state, so its gaps and missing() cover only the frames it was given.
   */
  share?: string;
  /**
   * 5 (default): session expiry and shared subscriptions as specified. 4 (MQTT 3.1.1): for
   * brokers without MQTT 5, such as aedes; the session then lasts until the broker drops it.
   */
  mqttVersion?: 4 | 5;
  /** How long the broker keeps the session (and queues frames) while the receiver is away. Default 7 days. */
  sessionExpiryS?: number;
  username?: string;
  password?: string;
  /** For mqtts:// and wss://: the broker's CA, and the receiver's certificate for mutual TLS. */
  tls?: ReceiverTls;
  keepaliveS?: number;
  connectTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** See LevelDedupeOptions.sync. */
  stateSync?: 'none' | 'batch';
  log?: Logger;
}

export type ReceiverEvents = {
  /** In the sink and recorded; emitted after the PUBACK was sent. */
  accepted: [frame: AcceptedFrame];
  /** hubId is the topic's hub, when the topic was one of ours. */
  rejected: [reason: RejectReason, topic: string, hubId: string | undefined];
  gap: [event: GapEvent];
  connected: [info: { sessionPresent: boolean }];
  disconnected: [];
  /**
   * A failure that retrying cannot fix after start() resolved (broker refusal, sink or state
   * write failure); the receiver has stopped acknowledging and the owner should call stop().
   * Emitted only when someone listens (otherwise logged), so an embedding server is not crashed.
   */
  error: [err: Error];
};

// MQTT 5 4.8.2: a ShareName is non-empty and has no '/', '+' or '#'.
const SHARE_NAME = /^[^/+#]+$/;

/**
 * The reference twin-side receiver: subscribes, verifies each frame, drops duplicates and
 * replays, reports gaps in seq, and writes accepted frames to a sink.
 *
 * Each message is verified, checked, written to the sink and recorded in the state before its
 * PUBACK (see subscription.ts for how mqtt.js lets us hold it), so a crash never acknowledges a
 * frame that is not stored: the broker redelivers it to the persistent session, and the state
 * drops the copy if the first one did get stored. The price is one message in flight at a time:
 * an Ed25519 verification (~0.1 ms) plus a state write per frame bound one receiver to a few
 * thousand frames/s on a small machine; scale out with `share`.
 */
export class Receiver extends EventEmitter<ReceiverEvents> {
  readonly #o: ReceiverOptions;
  readonly #log: Logger;
  readonly #state: DedupeState;
  readonly #processor: FrameProcessor;
  readonly #filter: string;
  readonly #loggedReasons = new Set<RejectReason>();
  #clientId = '';
  #subscription: BrokerSubscription | undefined;
  #lastMessage: Promise<void> = Promise.resolve();
  #phase: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  #failure: Error | undefined;
  #startWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(opts: ReceiverOptions) {
    super();
    if (opts.share !== undefined && !SHARE_NAME.test(opts.share)) {
      throw new TwinedgeError('USAGE_BAD_ARGUMENT', `share group '${opts.share}' must be non-empty and hold no '/', '+' or '#'`);
    }
    this.#o = opts;
    this.#log = (opts.log ?? silentLogger()).child({ stage: 'receiver' });
    const ledger = new KeyLedger(opts.trust);
    this.#state = new LevelDedupe({ location: opts.stateDir, sync: opts.stateSync ?? 'none', ledger });
    this.#processor = new FrameProcessor({ verifier: new FrameVerifier(opts.trust, { ledger, ...(opts.openKeys ? { openKeys: opts.openKeys } : {}) }), state: this.#state, sink: opts.sink });
    this.#filter = opts.share !== undefined ? `$share/${opts.share}/${TOPIC_ROOT}/#` : `${TOPIC_ROOT}/#`;
  }

  /**
   * Opens the state, connects and subscribes. Resolves once subscribed; while the broker cannot
   * be reached it keeps trying (stop() ends the wait); rejects on a refusal that retrying cannot
   * fix, or when the state folder cannot be opened.
   */
  async start(): Promise<void> {
    if (this.#phase !== 'new') throw new TypeError('Receiver.start() may be called once');
    this.#phase = 'starting';
    await this.#state.open();
    this.#clientId = this.#o.clientId ?? await this.#state.meta('client-id', () => `twinedge-rx-${randomBytes(6).toString('hex')}`);
    if (this.#phase !== 'starting') return;
    const subscribed = new Promise<void>((resolve, reject) => { this.#startWaiter = { resolve, reject }; });
    this.#log.info({ broker: this.#o.brokerUrl, clientId: this.#clientId, filter: this.#filter, hubs: this.#o.trust.hubs(), openKeyIds: this.#o.openKeys?.keyIds() }, 'receiver starting');
    this.#subscription = new BrokerSubscription({
      brokerUrl: this.#o.brokerUrl,
      clientId: this.#clientId,
      filter: this.#filter,
      mqttVersion: this.#o.mqttVersion ?? 5,
      sessionExpiryS: this.#o.sessionExpiryS ?? 7 * 24 * 3600,
      username: this.#o.username,
      password: this.#o.password,
      tls: this.#o.tls,
      keepaliveS: this.#o.keepaliveS ?? 30,
      connectTimeoutMs: this.#o.connectTimeoutMs ?? 10_000,
      reconnectMinMs: this.#o.reconnectMinMs ?? 250,
      reconnectMaxMs: this.#o.reconnectMaxMs ?? 10_000,
      log: this.#log,
    }, {
      message: (topic, payload, settle) => this.#onMessage(topic, payload, settle),
      subscribed: (sessionPresent) => {
        this.#startWaiter?.resolve();
        this.#startWaiter = undefined;
        this.emit('connected', { sessionPresent });
      },
      disconnected: () => this.emit('disconnected'),
      refused: (err) => this.#fail(err, 'broker refused the receiver'),
    });
    this.#subscription.open();
    await subscribed;
    if (this.#phase === 'starting') this.#phase = 'running';
  }

  /**
   * Finishes the message in hand (acknowledging it), leaves the session on the broker for the
   * next run (a normal DISCONNECT), then closes the sink and the state. Messages that arrive
   * meanwhile are not acknowledged: the broker delivers them next time. A message still not
   * stored after `graceMs` (a stuck sink) is left unacknowledged and the connection is dropped.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#phase === 'stopping' || this.#phase === 'stopped') return;
    this.#phase = 'stopping';
    this.#startWaiter?.resolve();
    this.#startWaiter = undefined;
    const drained = await withinMs(this.#drain(), graceMs);
    if (!drained) this.#log.warn({ graceMs }, 'a frame was still being stored at stop; it stays unacknowledged for the next run');
    await this.#subscription?.close(drained ? 'graceful' : 'force');
    await this.#o.sink.close();
    await this.#state.close();
    this.#phase = 'stopped';
    this.#log.info({ counters: this.counters() }, 'receiver stopped');
  }

  counters(): ReceiverCounters {
    return this.#processor.counters();
  }

  /** Seqs of a hub not received and not declared lost, between its watermark and highest seq. */
  missing(hubId: string): SeqRange[] {
    return this.#state.missing(hubId);
  }

  watermark(hubId: string): number | undefined {
    return this.#state.watermark(hubId);
  }

  latestStatus(hubId: string): HubStatus | undefined {
    return this.#state.latestStatus(hubId);
  }

  hubs(): string[] {
    return this.#state.hubs();
  }

  get clientId(): string {
    return this.#clientId;
  }

  get connected(): boolean {
    return this.#subscription?.connected ?? false;
  }

  async #drain(): Promise<void> {
    let last: Promise<void>;
    do {
      last = this.#lastMessage;
      await last;
    } while (last !== this.#lastMessage);
  }

  #onMessage(topic: string, payload: Uint8Array, settle: (err?: Error) => void): void {
    if (this.#phase === 'stopping' || this.#phase === 'stopped' || this.#failure) {
      settle(new Error('receiver stopping'));
      return;
    }
    // twin/v1/# also matches the commands the twin server sends hubs: not frames, not refusals.
    if (isCommandTopic(topic)) {
      settle();
      return;
    }
    this.#lastMessage = this.#processor.process(topic, payload).then(
      (outcome) => {
        settle();
        this.#report(outcome, topic);
      },
      (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        settle(err);
        this.#fail(err, 'a frame could not be stored; it was not acknowledged');
      },
    );
  }

  #report(outcome: Outcome, topic: string): void {
    if (outcome.status === 'accepted') {
      this.emit('accepted', outcome.frame);
      for (const g of outcome.gaps) {
        if (g.type === 'declared') this.#log.warn({ hubId: g.hubId, seq: g.seq, reason: g.reason, dropped: g.ranges }, 'hub declared frames lost');
        else this.#log.debug({ hubId: g.hubId, first: g.first, last: g.last }, 'seq gap');
        this.emit('gap', g);
      }
      return;
    }
    // The first of each reason at warn, the rest at debug: the counters carry the totals.
    if (!this.#loggedReasons.has(outcome.reason)) {
      this.#loggedReasons.add(outcome.reason);
      this.#log.warn({ reason: outcome.reason, topic, hubId: outcome.hubId }, 'frame rejected (first of this reason; see counters for more)');
    } else {
      this.#log.debug({ reason: outcome.reason, topic, hubId: outcome.hubId }, 'frame rejected');
    }
    this.emit('rejected', outcome.reason, topic, outcome.hubId);
  }

  #fail(err: Error, what: string): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#log.error({ err: err.message }, what);
    // Force: no PUBACK may leave for anything after the failure.
    void this.#subscription?.close('force');
    if (this.#startWaiter) {
      this.#startWaiter.reject(err);
      this.#startWaiter = undefined;
    } else if (this.listenerCount('error') > 0) {
      this.emit('error', err);
    }
  }
}

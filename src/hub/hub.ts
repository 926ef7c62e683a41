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
import type { SealRecipient } from '../frames/seal.js';
import { decodeSigningKeys, encodeSigningKeys, findSigningKey, handoverFrames, handoverStatus, rotatedKeyDir, saveRotatedKey, SIGNING_KEYS_STATE, type SigningKeyEntry } from './key-rotation.js';
import { deviceRows, HubMetrics, type DeviceRow } from './hub-metrics.js';
import { ConsentPolicy, type ConsentKind } from '../commands/consent.js';
import { HubCommands, type CommandSettings, type CommandStats, type HandledCommand } from './hub-commands.js';

export const SOFTWARE_VERSION = '0.1.0';

export interface HubOptions {
  hubId: string;
  dataDir: string;
  /** hub.key_file: the signing key until the hub's first key rotation (see rotateKey). */
  key: HubKey;
  /** hub.next_key_file: a key to rotate to at start, unless this hub already did (see rotateKey). */
  nextKey?: HubKey | undefined;
  /** hub.seal_to: seal every payload but status and gap to the twin server's key. */
  sealTo?: SealRecipient | undefined;
  clock: Clock & Partial<Pick<SystemClock, 'takeJump'>>;
  broker: BrokerOptions;
  inflight: number;
  outbox: { quotaBytes: number; sync: 'batch' | 'none'; maxBatch: number };
  subjects: readonly string[];
  source: FrameSource;
  configSha256: string;
  log: Logger;
  /** Subject -> what may leave the hub (subjects[].consent); absent: everything, for every subject. */
  consent?: ReadonlyMap<string, readonly ConsentKind[]> | undefined;
  /** Signed commands from the twin server (commands.trust_file); absent: the hub takes none. */
  commands?: CommandSettings | undefined;
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

/** Where the hub is in its life, for /healthz: 'running' from the end of start() to the call of stop(). */
export type HubLifecycle = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** What the status frame says of the hub besides its state: the birth's content, also served on /status. */
export type StatusInfo = Omit<Status, 'state' | 'reason' | 'connection'>;

export class Hub {
  readonly #o: HubOptions;
  readonly #maker: FrameMaker;
  readonly #outbox: LevelOutbox;
  readonly #publisher: Publisher;
  #appendFailures = 0;
  /** Event ids recorded lately, for idempotent requests; loaded at start. */
  #events: RecentEvents | undefined;
  #stopping: Promise<void> | undefined;
  /** The keys this hub has signed with since its first rotation (key-rotation.ts); loaded at start. */
  #signingKeys: SigningKeyEntry[] | undefined;
  /** Rotations one at a time: each one's seq and record build on the one before. */
  #rotation: Promise<void> = Promise.resolve();
  #lifecycle: HubLifecycle = 'new';
  readonly #metrics: HubMetrics;
  readonly #consent: ConsentPolicy;
  readonly #commands: HubCommands;

  constructor(options: HubOptions) {
    this.#o = options;
    const clock = options.clock;
    this.#maker = new FrameMaker({
      hubId: options.hubId,
      clock,
      signer: new FrameSigner(options.key),
      sealTo: options.sealTo,
      ...(clock.takeJump ? { takeClockJump: () => clock.takeJump!() } : {}),
    });
    this.#outbox = new LevelOutbox({
      location: join(options.dataDir, 'outbox'),
      now: () => clock.wallMs(),
      ...options.outbox,
      makeGap: (seq, gap) => this.#maker.makeAsync(seq, HUB_SUBJECT, { gap }),
    });
    this.#metrics = new HubMetrics({ hubId: options.hubId, version: SOFTWARE_VERSION, clock, source: options.source, counters: () => this.stats(), commands: () => this.commandStats() });
    this.#publisher = new Publisher({
      outbox: this.#outbox,
      broker: options.broker,
      hubId: options.hubId,
      inflight: options.inflight,
      statusFrame: (state, reason, connection) => this.#statusFrame(state, reason, connection),
      log: options.log.child({ stage: 'publish' }),
      onAck: (ms) => this.#metrics.observeAckLatency(ms),
      // Refusals are counted and results stored by HubCommands; a store failure is the outbox's to report.
      ...(options.commands ? { onCommand: (payload: Uint8Array) => void this.handleCommand(payload).catch(() => {}) } : {}),
    });
    this.#consent = new ConsentPolicy(options.consent);
    this.#commands = new HubCommands({
      hubId: options.hubId, settings: options.commands, clock, consent: this.#consent, outbox: this.#outbox, maker: this.#maker,
      publisher: this.#publisher, source: options.source, events: () => this.#events, rotateKey: (key) => this.rotateKey(key),
      onStoreFailure: (e) => {
        this.#appendFailures++;
        if ((e as { code?: string }).code === 'OUTBOX_WRITE_FAILED') this.#o.onFatal?.(e as Error);
      },
      log: options.log,
    });
  }

  get keyId(): string {
    return this.#maker.keyId;
  }

  /** The birth's content now (versions, devices, profiles, encoders, config hash, last seq). */
  statusInfo(): StatusInfo {
    return {
      software_version: SOFTWARE_VERSION,
      config_sha256: this.#o.configSha256,
      subjects: [...this.#o.subjects],
      ...(this.#o.source.describe?.() ?? { devices: [] }),
      last_seq: this.#outbox.stats().lastSeq,
    };
  }

  #statusFrame(state: HubStatusState, reason: string, connection: number): Uint8Array {
    const status: Status = {
      state: state === 'online' ? HubState.ONLINE : HubState.OFFLINE,
      ...this.statusInfo(),
      reason,
      connection,
    };
    // Status frames are state, not history: seq 0, outside the sequence (see frame.proto). They
    // are signed by the key of the seq after their last_seq, and carry the handovers that lead
    // to it, for receivers that missed one.
    const withHandovers = { ...status, key_handovers: handoverFrames(this.#signingKeys ?? []) };
    return this.#maker.make(0, HUB_SUBJECT, { status: withHandovers }, (status.last_seq ?? 0) + 1);
  }

  async start(): Promise<void> {
    this.#lifecycle = 'starting';
    await mkdir(this.#o.dataDir, { recursive: true, mode: 0o700 });
    await this.#outbox.open();
    this.#events = await RecentEvents.load((key) => this.#outbox.getState(key));
    await this.#restoreSigningKeys();
    if (this.#events.damaged) this.#o.log.warn('the list of recent event ids was unreadable: a request resent from before now is recorded again');
    // Before any frame passes the consent policy and before any command can arrive.
    await this.#commands.load((key) => this.#outbox.getState(key));
    const s = this.#outbox.stats();
    this.#o.log.info({ hubId: this.#o.hubId, keyId: this.keyId, bootId: this.#o.clock.bootId, lastSeq: s.lastSeq, pending: s.pending }, 'hub starting');
    this.#publisher.start();
    this.#o.source.start((frames, state) => this.#append(frames, state), (key) => this.#outbox.getState(key));
    if (this.#lifecycle === 'starting') this.#lifecycle = 'running';
  }

  async #append(frames: readonly ProducedFrame[], state?: readonly StateWrite[]): Promise<void> {
    try {
      await this.#outbox.append(this.#consented(frames).map((f) => ({
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

  /** The frames as consent lets them leave: withheld parts stripped, withheld frames left out. */
  #consented(frames: readonly ProducedFrame[]): ProducedFrame[] {
    const out: ProducedFrame[] = [];
    for (const f of frames) {
      const payload = this.#consent.apply(f.subjectRef, f.payload);
      if (payload) out.push(payload === f.payload ? f : { subjectRef: f.subjectRef, payload });
    }
    return out;
  }

  /**
   * Carries out one signed command from the twin server (the publisher hands over each message
   * of twin/v1/<hub_id>/cmd); commands run one at a time. Resolves to what happened; rejects only
   * when its result could not be stored (then nothing of it happened).
   */
  handleCommand(payload: Uint8Array): Promise<HandledCommand> {
    return this.#commands.handle(payload);
  }

  /** Commands taken, carried out and refused by reason, and what consent withheld: for metrics. */
  commandStats(): CommandStats {
    return this.#commands.stats();
  }

  /** What may leave the hub for a subject now (config, or the twin server's last SetConsent). */
  consentOf(subjectRef: string): ConsentKind[] {
    return this.#consent.allowed(subjectRef);
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
    if (!this.#consent.apply(subjectRef, { event })) {
      return Promise.reject(new TwinedgeError('EVENT_NOT_CONSENTED', `the consent of '${subjectRef}' does not let events leave the hub; nothing was recorded`, { keyPath: 'subject_ref' }));
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

  /**
   * Rotates the signing key: appends a key handover (a status frame in the sequence, at seq H,
   * signed by the current key, announcing `newKey` from H + 1) and, in the same atomic outbox
   * batch, the record that `newKey` signs from H + 1 (key-rotation.ts). Every frame from H + 1
   * on is signed by `newKey`, births and wills included.
   *
   * Why this is safe across a crash at any point: the handover and the record land together or
   * not at all. Before the batch is durable, nothing signed by the new key can be durable either
   * (the outbox writes batches in seq order), and nothing that is not durable is ever published;
   * after a restart without the batch the hub signs with the old key and rotates again with a
   * new seq. With the batch, a restart reads the record and signs with the new key, and the
   * handover is published before any frame after it (the publisher holds later frames until the
   * broker has the handover). A key that is in no configured file is written, fsynced, to
   * <data_dir>/keys before the batch, so that the record never names a key the hub cannot load.
   * Births carry the handover only once it is durable: a birth made in between (a reconnect
   * while the batch is written) is signed by the new key without it, and a receiver that has
   * not seen the handover yet refuses that one birth (unknown_key), which costs nothing.
   *
   * Resolves once the batch is durable. Rotating to the key that signs now does nothing; to a key
   * this hub has used before rejects with KEY_ROTATION_INVALID (a receiver never trusts a retired
   * key again). Rejects with OUTBOX_CLOSED before start() or after stop().
   */
  rotateKey(newKey: HubKey): Promise<void> {
    const run = this.#rotation.then(() => this.#rotate(newKey));
    this.#rotation = run.catch(() => {});
    return run;
  }

  async #rotate(newKey: HubKey): Promise<void> {
    const keys = this.#signingKeys;
    if (!keys || this.#stopping) throw new TwinedgeError('OUTBOX_CLOSED', 'the hub is not running');
    if (newKey.keyId === this.keyId) return;
    if (keys.some((k) => k.key_id === newKey.keyId)) {
      throw new TwinedgeError('KEY_ROTATION_INVALID', `key ${newKey.keyId} signed this hub's frames before and was retired; rotate to a new key (twinedge keys rotate)`);
    }
    if (newKey.keyId !== this.#o.nextKey?.keyId) await saveRotatedKey(rotatedKeyDir(this.#o.dataDir), newKey);
    // Nothing can take a seq between here and the append below: both run in this one turn.
    const seq = this.#outbox.stats().lastSeq + 1;
    const oldKeyId = this.keyId;
    const base: Status = { state: HubState.ONLINE, ...this.statusInfo() };
    const frame = this.#maker.make(seq, HUB_SUBJECT, { status: handoverStatus(base, newKey, seq) });
    const record: SigningKeyEntry[] = [
      ...(keys.length === 0 ? [{ key_id: oldKeyId, from_seq: 1 }] : keys),
      { key_id: newKey.keyId, from_seq: seq + 1, handover: Buffer.from(frame).toString('base64') },
    ];
    const signer = new FrameSigner(newKey);
    let assigned: number[];
    try {
      assigned = await this.#outbox.append([{
        subjectRef: HUB_SUBJECT,
        kind: 'status',
        make: (given) => {
          if (given !== seq) throw new TypeError(`the key handover got seq ${given}, not ${seq}`);
          // Called as the seq is given, before any later append can take the next one.
          this.#maker.switchSigner(seq + 1, signer);
          return frame;
        },
      }], [{ key: SIGNING_KEYS_STATE, value: encodeSigningKeys(record) }]);
    } catch (e) {
      this.#appendFailures++;
      if ((e as { code?: string }).code === 'OUTBOX_WRITE_FAILED') this.#o.onFatal?.(e as Error);
      throw e;
    }
    this.#signingKeys = record;
    this.#o.log.info({ oldKeyId, keyId: newKey.keyId, handoverSeq: assigned[0], fromSeq: seq + 1 }, 'signing key rotated; add the new public key to the receivers\' trust');
  }

  /**
   * Signs on with the key the record names (a restart after a rotation), then rotates to
   * hub.next_key_file if this hub has not used that key yet.
   */
  async #restoreSigningKeys(): Promise<void> {
    const keys = decodeSigningKeys(await this.#outbox.getState(SIGNING_KEYS_STATE));
    const current = keys.at(-1);
    if (current && current.key_id !== this.#o.key.keyId) {
      const key = await findSigningKey(current.key_id, current.from_seq, [this.#o.key, this.#o.nextKey], rotatedKeyDir(this.#o.dataDir));
      this.#maker.switchSigner(current.from_seq, new FrameSigner(key));
    }
    this.#signingKeys = keys;
    const next = this.#o.nextKey;
    if (!next || next.keyId === this.keyId) return;
    if (keys.some((k) => k.key_id === next.keyId)) {
      this.#o.log.warn({ nextKeyId: next.keyId, keyId: this.keyId }, 'hub.next_key_file names a key this hub has retired; it is not used again (remove hub.next_key_file)');
      return;
    }
    await this.rotateKey(next);
  }

  stats(): HubStats {
    return { outbox: this.#outbox.stats(), publisher: this.#publisher.stats(), appendFailures: this.#appendFailures };
  }

  get publisher(): Publisher {
    return this.#publisher;
  }

  get hubId(): string {
    return this.#o.hubId;
  }

  get lifecycle(): HubLifecycle {
    return this.#lifecycle;
  }

  /** This hub's metrics (its own registry). */
  get metrics(): HubMetrics {
    return this.#metrics;
  }

  /** The configured input devices now: state and what their readers counted. */
  devices(): DeviceRow[] {
    return deviceRows(this.#o.source);
  }

  /** Graceful stop: inputs first, then what they produced is stored, then offline status, then the store. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#lifecycle = 'stopping';
      await this.#o.source.stop();
      await this.#publisher.stop();
      await this.#outbox.close();
      this.#lifecycle = 'stopped';
      this.#o.log.info({ lastSeq: this.#outbox.stats().lastSeq }, 'hub stopped');
    })();
    return this.#stopping;
  }
}

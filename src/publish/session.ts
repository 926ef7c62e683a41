import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Outbox, OutboxRecord } from '../outbox/outbox.js';
import type { Logger } from '../ops/log.js';
import { Backoff } from '../ops/backoff.js';
import { commandTopic, frameTopic, statusTopic } from './topics.js';

export interface BrokerOptions {
  url: string;
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string; rejectUnauthorized: boolean } | undefined;
  /**
   * 4 (MQTT 3.1.1, the default; aedes speaks nothing else), 5, or 'auto': 5, and 3.1.1 from the
   * first broker that refuses 5 as an unacceptable protocol version. Only MQTT 5 lets a broker
   * say that it refused a publish (a PUBACK reason code, e.g. 0x87 when its ACL denies the
   * topic); under 3.1.1 mosquitto acknowledges a denied publish as if it had taken it and drops it.
   */
  mqttVersion?: 4 | 5 | 'auto' | undefined;
  keepaliveS: number;
  connectTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export type HubStatusState = 'online' | 'offline';

const PUBLISH_OPTIONS = { qos: 1 } as const;

export interface PublisherOptions {
  outbox: Outbox;
  broker: BrokerOptions;
  hubId: string;
  /** Most frames published and not yet acknowledged at once. */
  inflight: number;
  /**
   * A signed status frame: the birth (online) or the last will and shutdown note (offline), for
   * the given connection number (1 for the first connection of this boot).
   */
  statusFrame: (state: HubStatusState, reason: string, connection: number) => Uint8Array;
  log: Logger;
  /**
   * Called with each message on twin/v1/<hub_id>/cmd (QoS 1), which the publisher subscribes to
   * on every connection when this is given. The sessions are clean: a command sent while the hub
   * is away is not kept for it, and its sender sees no result.
   */
  onCommand?: (payload: Uint8Array) => void;
  /** Called on each PUBACK with the milliseconds since that frame was published (for a latency histogram). */
  onAck?: (latencyMs: number) => void;
}

export interface PublisherStats {
  connected: boolean;
  published: number;
  acked: number;
  inflight: number;
  reconnects: number;
  /** Milliseconds from publish to PUBACK of the last acknowledged frame. */
  lastAckLatencyMs: number;
  /** Frames the broker refused (MQTT 5 PUBACK reason code >= 0x80): kept, sent again after a reconnect. */
  refused: number;
}

/**
 * Drains the outbox to the broker: QoS 1, in seq order, at most `inflight` frames unacknowledged,
 * each deleted from the outbox on its PUBACK. It owns reconnection (mqtt.js's own is off): after
 * any reconnect it starts again from the oldest unacknowledged frame, so a frame whose PUBACK was
 * lost with the connection is sent again and the receiver drops the duplicate.
 *
 * Events: 'connected', 'disconnected' (with the error, if any).
 */
export class Publisher extends EventEmitter {
  readonly #o: PublisherOptions;
  readonly #backoff: Backoff;
  #client: MqttClient | undefined;
  /** Bumped on every new connection: callbacks of an older one no longer count against the window. */
  #generation = 0;
  /** Connection attempts since this process started: numbers the birth and will of each. */
  #connections = 0;
  #connected = false;
  #stopping = false;
  /** Frames read from the outbox and not yet published, from #bufferAt on. */
  #buffer: OutboxRecord[] = [];
  #bufferAt = 0;
  /** The highest seq read into the buffer on this connection. */
  #readCursor = 0;
  #reading = false;
  #inflight = 0;
  #refillRun: number;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #acks: number[] = [];
  #ackScheduled = false;
  #unsubscribe: (() => void) | undefined;
  #downSince: number | undefined;
  #stats = { published: 0, acked: 0, reconnects: 0, lastAckLatencyMs: 0, refused: 0 };
  /** The MQTT version asked for at the next connection. */
  #version: 4 | 5;
  #retryNow = false;
  /** The window of this connection: `inflight`, or less if the broker's MQTT 5 Receive Maximum is. */
  #window: number;
  /** The reason code of the last refusal logged on this connection: one line per change, not per frame. */
  #refusalLogged: number | undefined;
  #idleWaiters: Array<() => void> = [];
  /**
   * The seq of a key handover (the one kind of status frame in the outbox) published and not yet
   * acknowledged: nothing after it is published until the broker has it. MQTT orders messages
   * per topic only, and the frames signed by the new key travel on other topics; once the broker
   * holds the handover it forwards it before anything it receives later.
   */
  #holdFor: number | undefined;
  readonly #topics = new Map<string, string>();

  constructor(options: PublisherOptions) {
    super();
    this.#o = options;
    this.#backoff = new Backoff(options.broker.reconnectMinMs, options.broker.reconnectMaxMs);
    this.#refillRun = Math.max(1, Math.min(64, options.inflight >> 3));
    this.#window = options.inflight;
    this.#version = options.broker.mqttVersion === 4 || options.broker.mqttVersion === undefined ? 4 : 5;
  }

  start(): void {
    this.#unsubscribe = this.#o.outbox.onDurable(() => this.#pump());
    this.#connect();
  }

  stats(): PublisherStats {
    return { connected: this.#connected, inflight: this.#inflight, ...this.#stats };
  }

  #clientOptions(connection: number): IClientOptions {
    const b = this.#o.broker;
    return {
      clientId: b.clientId,
      clean: true,
      protocolVersion: this.#version,
      reconnectPeriod: 0,
      connectTimeout: b.connectTimeoutMs,
      keepalive: b.keepaliveS,
      ...(b.username !== undefined ? { username: b.username } : {}),
      ...(b.password !== undefined ? { password: b.password } : {}),
      ...(b.tls ?? {}),
      will: {
        topic: statusTopic(this.#o.hubId),
        payload: Buffer.from(this.#o.statusFrame('offline', 'connection lost', connection)),
        qos: 1,
        retain: true,
      },
    };
  }

  #connect(): void {
    if (this.#stopping) return;
    const gen = ++this.#generation;
    const connection = ++this.#connections;
    const client = mqtt.connect(this.#o.broker.url, this.#clientOptions(connection));
    this.#client = client;
    if (this.#o.onCommand) {
      const topic = commandTopic(this.#o.hubId);
      client.on('message', (t, payload) => {
        if (gen === this.#generation && t === topic) this.#o.onCommand!(payload);
      });
    }
    client.on('connect', (connack) => {
      if (gen !== this.#generation) return;
      this.#connected = true;
      // mqtt.js does not hold back publishes beyond the broker's Receive Maximum (MQTT 5 3.2.2.3.3).
      this.#window = Math.min(this.#o.inflight, connack.properties?.receiveMaximum ?? Infinity);
      this.#refillRun = Math.max(1, Math.min(64, this.#window >> 3));
      this.#refusalLogged = undefined;
      this.#holdFor = undefined;
      // Start again from the oldest unacknowledged frame.
      this.#readCursor = 0;
      this.#buffer = [];
      this.#bufferAt = 0;
      this.#inflight = 0;
      this.#backoff.reset();
      const downMs = this.#downSince === undefined ? undefined : Date.now() - this.#downSince;
      this.#downSince = undefined;
      this.#o.log.info({ broker: this.#o.broker.url, downMs, pending: this.#o.outbox.stats().pending }, 'connected to broker');
      client.publish(statusTopic(this.#o.hubId), Buffer.from(this.#o.statusFrame('online', '', connection)), { qos: 1, retain: true });
      if (this.#o.onCommand) {
        client.subscribe(commandTopic(this.#o.hubId), { qos: 1 }, (err, granted) => {
          if (err || (granted?.[0]?.qos ?? 0x80) >= 0x80) this.#o.log.error({ err: err?.message, granted: granted?.[0]?.qos }, 'the broker refused the command subscription: the hub takes no commands (check the broker ACL)');
        });
      }
      this.emit('connected');
      this.#pump();
    });
    client.on('error', (err) => {
      if (gen !== this.#generation) return;
      // CONNACK return code 1 (3.1.1) or reason 0x84 (5): this broker does not speak MQTT 5.
      const code = (err as { code?: number }).code;
      if (this.#o.broker.mqttVersion === 'auto' && this.#version === 5 && (code === 1 || code === 0x84)) {
        this.#version = 4;
        this.#retryNow = true;
        this.#o.log.warn({ broker: this.#o.broker.url }, 'the broker does not speak MQTT 5: using 3.1.1, under which a frame the broker refuses (its ACL) cannot be told from one it took');
        return;
      }
      // The 'close' that follows does the work; one line per outage, not per attempt.
      if (this.#downSince === undefined || this.#backoff.attempts === 0) this.#o.log.warn({ err: err.message, broker: this.#o.broker.url }, 'broker connection error');
    });
    client.on('close', () => {
      if (gen !== this.#generation) return;
      const wasConnected = this.#connected;
      this.#connected = false;
      this.#inflight = 0;
      this.#generation++;
      client.removeAllListeners('connect');
      client.on('error', () => {});
      client.end(true);
      this.#releaseIdle();
      if (this.#stopping) return;
      this.#downSince ??= Date.now();
      if (wasConnected) {
        this.#stats.reconnects++;
        this.#o.log.warn({ pending: this.#o.outbox.stats().pending }, 'broker connection lost; frames stay in the outbox');
        this.emit('disconnected');
      }
      // Falling back to 3.1.1 is no outage: try again at once.
      const delay = this.#retryNow ? 0 : this.#backoff.next();
      this.#retryNow = false;
      this.#o.log.debug({ delayMs: delay, attempt: this.#backoff.attempts }, 'reconnecting to broker');
      this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
    });
  }

  /**
   * Keeps the window full from a read-ahead buffer: refilling the window never waits for the
   * disk, and the outbox is read in chunks of about two windows, one chunk at a time.
   */
  #pump(): void {
    this.#sendBuffered();
    if (this.#reading || !this.#connected || this.#stopping) return;
    if (this.#buffer.length - this.#bufferAt >= this.#o.inflight) return;
    this.#reading = true;
    const gen = this.#generation;
    this.#o.outbox.read(this.#readCursor, this.#o.inflight * 2).then((records) => {
      this.#reading = false;
      if (gen !== this.#generation) return this.#pump();
      if (records.length === 0) {
        this.#releaseIdle();
        return;
      }
      if (this.#bufferAt > 0) {
        this.#buffer = this.#buffer.slice(this.#bufferAt);
        this.#bufferAt = 0;
      }
      for (const r of records) this.#buffer.push(r);
      this.#readCursor = records[records.length - 1]!.seq;
      this.#pump();
    }, (e: unknown) => {
      this.#reading = false;
      this.#o.log.error({ err: (e as Error).message }, 'outbox read failed');
    });
  }

  #sendBuffered(): void {
    const window = this.#window;
    if (!this.#connected || this.#stopping) return;
    const client = this.#client!;
    const gen = this.#generation;
    while (this.#holdFor === undefined && this.#inflight < window && this.#bufferAt < this.#buffer.length) {
      const rec = this.#buffer[this.#bufferAt++]!;
      // Purged (or dropped by the quota) after it was read: it must not leave now.
      if (!this.#o.outbox.isPending(rec.seq)) continue;
      if (rec.kind === 'status') this.#holdFor = rec.seq;
      this.#inflight++;
      this.#stats.published++;
      const sentAt = performance.now();
      const payload = Buffer.isBuffer(rec.payload) ? rec.payload : Buffer.from(rec.payload.buffer, rec.payload.byteOffset, rec.payload.byteLength);
      client.publish(this.#topic(rec), payload, PUBLISH_OPTIONS, (err) => {
        if (!err) this.#onAck(rec.seq, sentAt);
        else this.#onRefused(rec.seq, err);
        if (gen !== this.#generation) return;
        if (this.#holdFor === rec.seq) this.#holdFor = undefined;
        this.#inflight--;
        if (this.#inflight === 0 && this.#bufferAt >= this.#buffer.length) this.#releaseIdle();
        // Refill in runs, so that one socket write carries many publishes rather than one each.
        if (this.#inflight <= window - this.#refillRun) this.#pump();
      });
    }
  }

  /** Topics are made once per subject and kind, not once per frame. */
  #topic(rec: OutboxRecord): string {
    const key = `${rec.kind}/${rec.subjectRef}`;
    let topic = this.#topics.get(key);
    if (topic === undefined) {
      topic = frameTopic(this.#o.hubId, rec.subjectRef, rec.kind);
      this.#topics.set(key, topic);
    }
    return topic;
  }

  #onAck(seq: number, sentAt: number): void {
    this.#stats.acked++;
    this.#stats.lastAckLatencyMs = performance.now() - sentAt;
    this.#o.onAck?.(this.#stats.lastAckLatencyMs);
    this.#acks.push(seq);
    if (!this.#ackScheduled) {
      this.#ackScheduled = true;
      setImmediate(() => {
        this.#ackScheduled = false;
        const seqs = this.#acks;
        this.#acks = [];
        this.#o.outbox.ack(seqs);
      });
    }
  }

  /**
   * A frame the broker refused stays in the outbox, where the read cursor has passed it: it is
   * sent again after the next reconnect, so a broker whose ACL is mended gets it then. Errors
   * without a reason code (the connection closed) need nothing here: the reconnect resends.
   */
  #onRefused(seq: number, err: Error & { code?: unknown }): void {
    if (typeof err.code !== 'number' || err.code < 0x80) return;
    this.#stats.refused++;
    if (this.#refusalLogged === err.code) return;
    this.#refusalLogged = err.code;
    this.#o.log.error({ seq, reasonCode: err.code, reason: err.message, hubId: this.#o.hubId },
      'the broker refused a frame; it stays in the outbox (check the broker ACL and this hub\'s certificate or user name)');
  }

  #releaseIdle(): void {
    if (this.#inflight > 0 && this.#connected) return;
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** Resolves when nothing is in flight (or the connection is gone). */
  /**
   * Publishes the birth status again (retained), for a twin server that asked for it. Resolves
   * to false when there is no connection to publish on; rejects when the publish fails.
   */
  async resendStatus(): Promise<boolean> {
    const client = this.#client;
    if (!client || !this.#connected || this.#stopping) return false;
    await client.publishAsync(statusTopic(this.#o.hubId), Buffer.from(this.#o.statusFrame('online', '', this.#connections)), { qos: 1, retain: true });
    return true;
  }

  whenIdle(): Promise<void> {
    if (this.#inflight === 0 || !this.#connected) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /**
   * Graceful stop: waits (bounded) for frames in flight, publishes the retained offline status,
   * and disconnects cleanly so the broker does not send the last will.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#reconnectTimer);
    this.#unsubscribe?.();
    const client = this.#client;
    const bounded = <T>(p: Promise<T>) => Promise.race([p, new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]);
    if (client && this.#connected) {
      await bounded(this.whenIdle());
      await bounded(client.publishAsync(statusTopic(this.#o.hubId), Buffer.from(this.#o.statusFrame('offline', 'shutdown', this.#connections)), { qos: 1, retain: true }).catch(() => {}));
    }
    if (this.#acks.length) {
      this.#o.outbox.ack(this.#acks);
      this.#acks = [];
    }
    this.#generation++;
    this.#connected = false;
    if (client) await bounded(client.endAsync().catch(() => {}));
  }
}

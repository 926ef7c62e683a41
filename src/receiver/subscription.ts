import mqtt, { type IConnackPacket, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { TwinedgeError } from '../ops/errors.js';
import type { Logger } from '../ops/log.js';
import { Backoff } from '../ops/backoff.js';

/** TLS options as node:tls takes them; rejectUnauthorized stays node's default (true) unless given. */
export interface ReceiverTls {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  servername?: string;
  rejectUnauthorized?: boolean;
}

export interface SubscriptionOptions {
  brokerUrl: string;
  clientId: string;
  /** The topic filter, shared (`$share/...`) or not. */
  filter: string;
  mqttVersion: 4 | 5;
  sessionExpiryS: number;
  username?: string | undefined;
  password?: string | undefined;
  /** For mqtts:// and wss://: the broker's CA, and the client certificate for mutual TLS. */
  tls?: ReceiverTls | undefined;
  keepaliveS: number;
  connectTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  log: Logger;
}

/**
 * What a BrokerSubscription calls. Never concurrently with itself for `message`: the next
 * message of a connection comes after `settle` was called for the previous one.
 */
export interface SubscriptionHandlers {
  /**
   * One QoS 1 (or 0) message. `settle()` sends its PUBACK; `settle(err)` sends none, and the
   * broker delivers the message again to the next session. Messages from a connection that was
   * replaced or closed are settled unacknowledged without reaching this handler.
   */
  message(topic: string, payload: Uint8Array, settle: (err?: Error) => void): void;
  /** The subscription is in place (or kept in a present session). */
  subscribed(sessionPresent: boolean): void;
  /** A connection that was up went down; a reconnect follows after a backoff. */
  disconnected(): void;
  /** A refusal retrying cannot fix; no reconnect follows. */
  refused(err: TwinedgeError): void;
}

// CONNACK codes that retrying will not change: protocol version, client id, credentials,
// authorisation (MQTT 3.1.1 3.2.2.3 return codes 1, 2, 4, 5; MQTT 5 3.2.2.2 reason codes).
const FATAL_CONNACK = new Set([1, 2, 4, 5, 0x84, 0x85, 0x86, 0x87, 0x8c]);

/**
 * One persistent MQTT session subscribed to one filter, kept up across broker outages.
 *
 * mqtt.js hands QoS 1 messages to `handleMessage` one at a time and sends the PUBACK only when
 * its callback is called (MQTT.js src/lib/handlers/publish.ts); it reads the next packet only
 * after that. Overriding `handleMessage` therefore orders the work and holds each PUBACK until
 * the handler settles it.
 *
 * Clean start is off with a long session expiry (MQTT 5), so messages published while the
 * receiver is away wait on the broker. The client never advertises a topic alias maximum, so
 * every PUBLISH carries its topic. Each connection is a new client, made after an exponential
 * backoff with jitter (mqtt.js's own reconnect runs at a fixed period).
 */
export class BrokerSubscription {
  readonly #o: SubscriptionOptions;
  readonly #h: SubscriptionHandlers;
  readonly #backoff: Backoff;
  #client: MqttClient | undefined;
  #generation = 0;
  #connected = false;
  #closed = false;
  #reconnectTimer: NodeJS.Timeout | undefined;

  constructor(opts: SubscriptionOptions, handlers: SubscriptionHandlers) {
    this.#o = opts;
    this.#h = handlers;
    this.#backoff = new Backoff(opts.reconnectMinMs, opts.reconnectMaxMs);
  }

  get connected(): boolean {
    return this.#connected;
  }

  open(): void {
    this.#connect();
  }

  /**
   * 'graceful': a normal DISCONNECT, which keeps the session (and sends no will), bounded in
   * time. 'force': drop the connection at once: nothing more is acknowledged.
   */
  async close(how: 'graceful' | 'force'): Promise<void> {
    this.#closed = true;
    this.#connected = false;
    clearTimeout(this.#reconnectTimer);
    const client = this.#client;
    this.#client = undefined;
    this.#generation++;
    if (!client) return;
    if (how === 'force' || !client.connected) {
      client.end(true);
      return;
    }
    if (!(await withinMs(client.endAsync(false).catch(() => {}), 2000))) client.end(true);
  }

  #clientOptions(): IClientOptions {
    const v5 = this.#o.mqttVersion === 5;
    return {
      clientId: this.#o.clientId,
      protocolVersion: v5 ? 5 : 4,
      clean: false,
      ...(v5 ? { properties: { sessionExpiryInterval: this.#o.sessionExpiryS } } : {}),
      // Our own backoff, and our own subscribe on connect (see #onConnect).
      reconnectPeriod: 0,
      resubscribe: false,
      manualConnect: true,
      keepalive: this.#o.keepaliveS,
      connectTimeout: this.#o.connectTimeoutMs,
      ...(this.#o.username !== undefined ? { username: this.#o.username } : {}),
      ...(this.#o.password !== undefined ? { password: this.#o.password } : {}),
      ...(this.#o.tls ?? {}),
    };
  }

  #connect(): void {
    if (this.#closed) return;
    const gen = ++this.#generation;
    const client = mqtt.connect(this.#o.brokerUrl, this.#clientOptions());
    this.#client = client;
    client.handleMessage = (packet: IPublishPacket, done: (err?: Error) => void) => {
      // mqtt.js reads on after done(err) but sends no PUBACK.
      if (gen !== this.#generation) return done(new Error('connection replaced'));
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      this.#h.message(packet.topic, payload, done);
    };
    client.on('connect', (connack) => this.#onConnect(gen, client, connack));
    client.on('close', () => this.#onClose(gen, client));
    client.on('error', (err) => this.#onError(gen, err));
    client.connect();
  }

  #onConnect(gen: number, client: MqttClient, connack: IConnackPacket): void {
    if (gen !== this.#generation) return;
    this.#connected = true;
    this.#backoff.reset();
    const sessionPresent = connack.sessionPresent;
    this.#o.log.info({ sessionPresent }, 'connected to broker');
    const v5 = this.#o.mqttVersion === 5;
    // A present session already has the subscription. MQTT 5 subscribes anyway (a changed
    // share group then takes effect) with retain handling 1: retained messages only if new.
    // MQTT 3.1.1 has no such option and would resend the retained status, so it does not.
    if (!v5 && sessionPresent) {
      this.#subscribed(sessionPresent);
      return;
    }
    client.subscribeAsync(this.#o.filter, v5 ? { qos: 1, rh: 1 } : { qos: 1 }).then(
      (granted) => {
        if (gen !== this.#generation) return;
        const code = granted[0]?.qos ?? 0x80;
        if (code >= 0x80) {
          this.#refuse(new TwinedgeError('BROKER_REFUSED', `the broker refused the subscription to ${this.#o.filter} (reason code ${code})`));
          return;
        }
        this.#subscribed(sessionPresent);
      },
      (err: Error) => this.#o.log.warn({ err: err.message }, 'subscribe failed; retrying on the next connection'),
    );
  }

  #subscribed(sessionPresent: boolean): void {
    this.#o.log.info({ filter: this.#o.filter, sessionPresent }, 'subscribed');
    this.#h.subscribed(sessionPresent);
  }

  #onClose(gen: number, client: MqttClient): void {
    if (gen !== this.#generation) return;
    client.end(true);
    if (this.#connected) {
      this.#connected = false;
      this.#o.log.warn('disconnected from broker');
      this.#h.disconnected();
    }
    if (this.#closed) return;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => this.#connect(), this.#backoff.next());
  }

  #onError(gen: number, err: Error & { code?: unknown }): void {
    if (gen !== this.#generation) return;
    if (typeof err.code === 'number' && FATAL_CONNACK.has(err.code)) {
      const hint = err.code === 1 || err.code === 0x84 ? ' (a broker without MQTT 5, such as aedes, needs MQTT version 3.1.1)' : '';
      this.#refuse(new TwinedgeError('BROKER_REFUSED', `the broker refused the connection: ${err.message}${hint}`, {}, { cause: err }));
      return;
    }
    // The 'close' that follows reconnects; one line per outage, not per attempt.
    if (this.#connected || this.#backoff.attempts <= 1) this.#o.log.warn({ err: err.message, broker: this.#o.brokerUrl }, 'broker connection error');
  }

  #refuse(err: TwinedgeError): void {
    void this.close('force');
    this.#h.refused(err);
  }
}

/** Whether `p` settled within `ms`. */
export async function withinMs(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((r) => { timer = setTimeout(() => r(false), ms); });
  try {
    return await Promise.race([p.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

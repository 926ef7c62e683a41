import type { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { ClockStatus, encodeBody, GapReason, HubState, SCHEMA_VERSION, type FrameBody, type FrameKind, type Payload, type SeqRange } from '../../src/frames/codec.js';
import { FrameMaker, HUB_SUBJECT } from '../../src/frames/frame-maker.js';
import { generateHubKey, type HubKey } from '../../src/frames/keys.js';
import { FrameSigner } from '../../src/frames/sign.js';
import { ManualClock } from '../../src/ops/clock.js';
import { frameTopic, statusTopic } from '../../src/publish/topics.js';
import type { Sink } from '../../src/receiver/sinks/sink.js';
import { TrustStore } from '../../src/receiver/trust.js';
import type { AcceptedFrame } from '../../src/receiver/verify.js';


export interface Message { topic: string; payload: Uint8Array }

/** A hub for tests: its key, a hand-moved clock and the real FrameMaker. */
export class TestHub {
  readonly key: HubKey;
  readonly clock = new ManualClock(Date.UTC(2026, 10, 23, 8, 0, 0), 'synced');
  readonly maker: FrameMaker;

  constructor(readonly hubId: string, key: HubKey = generateHubKey()) {
    this.key = key;
    this.maker = new FrameMaker({ hubId, clock: this.clock, signer: new FrameSigner(key) });
  }

  get keyId(): string {
    return this.key.keyId;
  }

  make(seq: number, subjectRef: string, payload: Payload, kind: FrameKind): Message {
    this.clock.advance(1000);
    return { topic: frameTopic(this.hubId, subjectRef, kind), payload: this.maker.make(seq, subjectRef, payload) };
  }

  crossSection(seq: number, subjectRef = 'subj-1'): Message {
    return this.make(seq, subjectRef, {
      cross_section: {
        window_start_ms: 1_795_000_000_000 + seq * 10_000, window_end_ms: 1_795_000_010_000 + seq * 10_000,
        features: [{ code: 'hr.mean', value: 60 + seq, unit: '/min', coverage: 1, n: 10 }],
      },
    }, 'cross_section');
  }

  gap(seq: number, dropped: SeqRange[]): Message {
    return this.make(seq, HUB_SUBJECT, { gap: { reason: GapReason.QUOTA_FULL, dropped, frames: 0, bytes: 0 } }, 'gap');
  }

  status(state: 'online' | 'offline', lastSeq: number): Message {
    this.clock.advance(1000);
    const payload = this.maker.make(0, HUB_SUBJECT, { status: { state: state === 'online' ? HubState.ONLINE : HubState.OFFLINE, last_seq: lastSeq, software_version: '0.1.0' } });
    return { topic: statusTopic(this.hubId), payload };
  }

  /** Signs any body bytes with this hub's key, for frames FrameMaker refuses to make. */
  signRaw(body: Uint8Array): Uint8Array {
    return new FrameSigner(this.key).sign(body);
  }

  /** A header as FrameMaker makes it, to build odd bodies from. */
  header(seq: number, subjectRef = 'subj-1'): Omit<FrameBody, keyof Payload> {
    return { schema_version: SCHEMA_VERSION, hub_id: this.hubId, subject_ref: subjectRef, seq, boot_id: this.clock.bootId, wall_ms: this.clock.wallMs(), mono_ms: this.clock.monoMs(), clock_status: ClockStatus.SYNCED };
  }

  encode(body: FrameBody): Uint8Array {
    return encodeBody(body);
  }
}

export function trustFor(...bindings: Array<[hubId: string, hub: TestHub]>): TrustStore {
  return new TrustStore(bindings.map(([hubId, hub]) => ({ hubId, publicKey: hub.key.publicKey, source: 'test' })));
}

/** A plain mqtt.js client publishing QoS 1: the producer side, without our publisher. */
export async function producer(url: string, protocolVersion: 4 | 5 = 4): Promise<{ client: MqttClient; send(msgs: Message[], opts?: { retain?: boolean }): Promise<void>; close(): Promise<void> }> {
  const client = await mqtt.connectAsync(url, { protocolVersion, clean: true, reconnectPeriod: 0 });
  return {
    client,
    async send(msgs, opts = {}) {
      for (const m of msgs) await client.publishAsync(m.topic, Buffer.from(m.payload), { qos: 1, retain: opts.retain ?? false });
    },
    close: () => client.endAsync(),
  };
}

/** A sink that keeps what it gets; `hold()` makes the next writes wait until `release()`. */
export class RecordingSink implements Sink {
  readonly frames: AcceptedFrame[] = [];
  closed = false;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  #onWrite: Array<() => void> = [];

  hold(): void {
    this.#gate = new Promise((r) => { this.#open = r; });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  /** Resolves when a write (held or not) has begun. */
  writeStarted(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#onWrite.push(resolve);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  async write(frame: AcceptedFrame): Promise<void> {
    for (const f of this.#onWrite.splice(0)) f();
    if (this.#gate) await this.#gate;
    this.frames.push(frame);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.release();
  }

  get seqs(): number[] {
    return this.frames.map((f) => f.seq);
  }
}

/**
 * Resolves once `cond()` holds, checking now and after each of `events` on the emitters. Rejects
 * when `signal` aborts (pass the test's t.signal), so that a failure ends the test and its
 * clean-up runs instead of leaving the process waiting.
 */
export function until(on: EventEmitter | EventEmitter[], events: string[], cond: () => boolean, signal?: AbortSignal): Promise<void> {
  if (cond()) return Promise.resolve();
  const emitters = Array.isArray(on) ? on : [on];
  return new Promise((resolve, reject) => {
    const done = () => {
      for (const em of emitters) for (const e of events) em.off(e, check);
      signal?.removeEventListener('abort', abort);
    };
    const check = () => {
      if (!cond()) return;
      done();
      resolve();
    };
    const abort = () => {
      done();
      reject(signal!.reason ?? new Error('aborted'));
    };
    for (const em of emitters) for (const e of events) em.on(e, check);
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/** `p`, or a rejection when `signal` aborts first (a test that timed out). */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason ?? new Error('aborted'));
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** Flips one bit of a copy. */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const b = Buffer.from(bytes);
  b[bit >> 3]! ^= 1 << (bit & 7);
  return b;
}

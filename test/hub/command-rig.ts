// What the command, consent and purge tests share: a real Hub on a real LevelDB outbox in a
// temporary folder, fed by a source the test drives; the twin server's key; signed commands made
// as the twin server makes them; a TCP link to the broker that the test can cut; and a reader of
// every frame the outbox holds on disk.
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Level } from 'level';
import type { CommandBody, CommandPayload } from '../../src/commands/command-codec.js';
import { makeSignedCommand } from '../../src/commands/command-sign.js';
import type { ConsentKind } from '../../src/commands/consent.js';
import { decodeBody, decodeSigned, SCHEMA_VERSION, VectorEncoding, type CrossSection, type DecodedBody, type Event, type Exposure } from '../../src/frames/codec.js';
import { generateHubKey, type HubKey } from '../../src/frames/keys.js';
import type { EmitFrames, FrameSource, ProducedFrame } from '../../src/hub/frame-source.js';
import { Hub } from '../../src/hub/hub.js';
import type { StateWrite } from '../../src/outbox/outbox.js';
import { decodeSegment, SEGMENT_RANGE, seqOfKey } from '../../src/outbox/segment.js';
import { ManualClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import type { AfterHook } from '../helpers/tmp.js';

export const HUB_ID = 'hub-cmd';
export const NOW = Date.UTC(2026, 4, 2, 9, 0, 0);
export const SUBJECTS = ['p-1', 'p-2'] as const;
export const WINDOW_MS = 300_000;

/** A source the test drives: `emit` appends through the hub's own append path (consent included). */
export class DrivenSource implements FrameSource {
  readonly name = 'driven';
  readonly forgotten: string[] = [];
  #emit: EmitFrames | undefined;

  start(emit: EmitFrames): void {
    this.#emit = emit;
  }

  async stop(): Promise<void> {}

  async forgetSubject(subjectRef: string): Promise<void> {
    this.forgotten.push(subjectRef);
  }

  emit(frames: readonly ProducedFrame[], state?: readonly StateWrite[]): Promise<void> {
    if (!this.#emit) throw new Error('the hub has not started the source');
    return this.#emit(frames, state);
  }
}

let windowCount = 0;

/** A cross-section with one embedding and one feature, each window a new one. */
export function crossSection(): CrossSection {
  const start = NOW + WINDOW_MS * windowCount++;
  return {
    window_start_ms: start,
    window_end_ms: start + 30_000,
    embeddings: [{ modality: 'cardiac', encoder_name: 'cardiac-v1', encoder_version: '1', encoder_sha256: 'ab'.repeat(32), dim: 4, encoding: VectorEncoding.FLOAT32, values: [0.1, 0.2, 0.3, 0.4], quality: 1 }],
    features: [{ code: 'hr.mean', value: 61, unit: '/min', coverage: 1, n: 30 }],
    sources: [{ device_id: 'serial:/dev/ttyUSB0', profile_id: 'test/hr', profile_version: '1' }],
    quality: [{ modality: 'cardiac', coverage: 1 }],
  };
}

export function exposure(): Exposure {
  return { period_start_ms: NOW, period_end_ms: NOW + WINDOW_MS, time_zone: 'UTC', local_date: '2026-05-02', accumulators: [{ code: 'light.dose', value: 12, unit: 'lx.h', covered_s: 300 }] };
}

export function event(id = randomBytes(8).toString('hex')): Event {
  return { event_id: id, kind: 1, code: 'ATC:N02BE01', at_ms: NOW, source: 'cli' };
}

export interface HubRig {
  readonly hub: Hub;
  readonly source: DrivenSource;
  readonly clock: ManualClock;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface HubRigOptions {
  dir: string;
  brokerUrl: string;
  hubKey: HubKey;
  /** The twin server's key the hub trusts; none: the hub takes no commands. */
  serverKey?: HubKey;
  clock?: ManualClock;
  consent?: ReadonlyMap<string, readonly ConsentKind[]>;
}

export async function startHub(t: AfterHook, o: HubRigOptions): Promise<HubRig> {
  const clock = o.clock ?? new ManualClock(NOW, 'synced');
  const source = new DrivenSource();
  const dataDir = join(o.dir, 'hub');
  const hub = new Hub({
    hubId: HUB_ID, dataDir, key: o.hubKey, clock,
    broker: { url: o.brokerUrl, clientId: `${HUB_ID}-pub`, keepaliveS: 10, connectTimeoutMs: 2000, reconnectMinMs: 20, reconnectMaxMs: 100 },
    inflight: 16, outbox: { quotaBytes: 64 << 20, sync: 'batch', maxBatch: 100 },
    subjects: [...SUBJECTS], source, configSha256: '', log: silentLogger(),
    consent: o.consent ?? new Map(SUBJECTS.map((s) => [s, ['embeddings', 'features', 'exposure', 'events']])),
    ...(o.serverKey ? { commands: { trustKey: o.serverKey.publicKey, windowMs: WINDOW_MS } } : {}),
  });
  await hub.start();
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= hub.stop());
  t.after(stop);
  return { hub, source, clock, dataDir, stop };
}

/** A signed command as the twin server makes it; header fields can be overridden. */
export function signedCommand(key: HubKey, payload: CommandPayload, header: Partial<Omit<CommandBody, keyof CommandPayload>> = {}): { bytes: Uint8Array; nonce: Uint8Array } {
  const nonce = header.nonce ?? randomBytes(16);
  const body = { schema_version: SCHEMA_VERSION, hub_id: HUB_ID, issued_at_ms: NOW, ...header, nonce, ...payload } as CommandBody;
  return { bytes: makeSignedCommand(key, body), nonce };
}

export const consentPayload = (subject: string, allowed: number[]): CommandPayload => ({ set_consent: { subject_ref: subject, allowed } });
export const purgePayload = (subject: string): CommandPayload => ({ purge_subject: { subject_ref: subject } });

export interface StoredFrame {
  readonly seq: number;
  readonly subjectRef: string;
  readonly kind: string;
  readonly payload: Buffer;
  readonly body: DecodedBody;
}

/**
 * Every frame in the outbox's LevelDB, decoded from the bytes on disk (acknowledged ones not yet
 * cleared included), and the hub state it holds. The hub must be stopped: LevelDB is locked.
 */
export async function readOutbox(dataDir: string): Promise<{ frames: StoredFrame[]; state: Map<string, Buffer> }> {
  const db = new Level<string, Uint8Array>(join(dataDir, 'outbox'), { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  try {
    const frames: StoredFrame[] = [];
    for await (const [key, value] of db.iterator(SEGMENT_RANGE)) {
      const records = decodeSegment(seqOfKey(key), value);
      if (!records) throw new Error(`damaged segment ${key}`);
      for (const r of records) {
        const payload = Buffer.from(r.payload);
        frames.push({ seq: r.seq, subjectRef: r.subjectRef, kind: r.kind, payload, body: decodeBody(decodeSigned(payload).body) });
      }
    }
    const state = new Map<string, Buffer>();
    for await (const [key, value] of db.iterator({ gt: 's!', lt: 's"' })) state.set(key.slice(2), Buffer.from(value));
    return { frames: frames.sort((a, b) => a.seq - b.seq), state };
  } finally {
    await db.close();
  }
}

/** A TCP link from the hub to the broker that the test can cut and mend: a real network fault. */
export interface BrokerLink {
  readonly url: string;
  cut(): void;
  mend(): void;
  close(): Promise<void>;
}

export async function brokerLink(t: AfterHook, brokerPort: number): Promise<BrokerLink> {
  let up = true;
  const pairs = new Set<Socket>();
  const server = createServer((inbound) => {
    if (!up) return inbound.destroy();
    const outbound = connect(brokerPort, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      pairs.add(s);
      s.once('close', () => pairs.delete(s));
      s.on('error', () => {});
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.once('close', () => outbound.destroy());
    outbound.once('close', () => inbound.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  let closing: Promise<void> | undefined;
  const link: BrokerLink = {
    url: `mqtt://127.0.0.1:${port}`,
    cut() {
      up = false;
      for (const s of pairs) s.destroy();
    },
    mend() {
      up = true;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        up = false;
        for (const s of pairs) s.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
  t.after(() => link.close());
  return link;
}

export { generateHubKey };

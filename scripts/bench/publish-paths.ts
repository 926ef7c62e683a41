// The hub's publishing paths, measured end to end against a broker: used by publish.bench.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubState, type Payload } from '../../src/frames/codec.js';
import { FrameMaker } from '../../src/frames/frame-maker.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { FrameSigner } from '../../src/frames/sign.js';
import { LevelOutbox } from '../../src/outbox/level-outbox.js';
import { SystemClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { Publisher } from '../../src/publish/session.js';

export interface PathOptions { url: string; frames: number; inflight: number; bodyBytes: number }

/** A cross-section payload whose encoded FrameBody is about `bodyBytes` long (an int8 embedding). */
export function payloadOfSize(bodyBytes: number): Payload {
  const packed = new Uint8Array(Math.max(0, bodyBytes - 130)).fill(7);
  return {
    cross_section: {
      window_start_ms: Date.now(), window_end_ms: Date.now() + 10_000,
      embeddings: [{ modality: 'motion', encoder_name: 'bench', encoder_version: '1', encoder_sha256: 'ab'.repeat(32), dim: packed.length, encoding: 3, packed, scale: 0.01 }],
      features: [{ code: 'hr.mean', value: 61.5, unit: '/min' }],
    },
  };
}

async function rig(o: PathOptions) {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-bench-'));
  const maker = new FrameMaker({ hubId: 'bench-hub', clock: new SystemClock(), signer: new FrameSigner(generateHubKey()) });
  const outbox = new LevelOutbox({ location: join(dir, 'outbox'), quotaBytes: 8e9, sync: 'batch', maxBatch: 1000, makeGap: (s, gap) => maker.makeAsync(s, '_hub', { gap }) });
  await outbox.open();
  const publisher = new Publisher({
    outbox, hubId: 'bench-hub', inflight: o.inflight, log: silentLogger(),
    broker: { url: o.url, clientId: `bench-hub-${process.pid}`, keepaliveS: 30, connectTimeoutMs: 5000, reconnectMinMs: 100, reconnectMaxMs: 1000 },
    statusFrame: (st, reason) => maker.make(0, '_hub', { status: { state: st === 'online' ? HubState.ONLINE : HubState.OFFLINE, reason } }),
  });
  const payload = payloadOfSize(o.bodyBytes);
  const entries = (n: number) => Array.from({ length: n }, () => ({ subjectRef: 'bench-subject', kind: 'cross_section' as const, make: (seq: number) => maker.makeAsync(seq, 'bench-subject', payload) }));
  const acked = (n: number) => new Promise<void>((resolve) => {
    const check = () => (publisher.stats().acked >= n && outbox.stats().pending === 0 ? resolve() : setTimeout(check, 1));
    check();
  });
  return {
    outbox, publisher, entries, acked,
    async close() { await publisher.stop(1000); await outbox.close(); await rm(dir, { recursive: true, force: true }); },
  };
}

/** Frames made (encoded, signed), appended with an fsync per batch, published and acknowledged, per second. */
export async function publishFull(o: PathOptions): Promise<number> {
  const r = await rig(o);
  try {
    r.publisher.start();
    const t0 = performance.now();
    // A producer that hands the outbox 100 frames at a time, as fast as it is let.
    for (let made = 0; made < o.frames; made += 100) {
      void r.outbox.append(r.entries(Math.min(100, o.frames - made)));
      if (made % 2000 === 0) await new Promise((res) => setImmediate(res));
    }
    await r.acked(o.frames);
    return o.frames / ((performance.now() - t0) / 1000);
  } finally {
    await r.close();
  }
}

/** A backlog of already signed and stored frames, drained after the broker comes back, per second. */
export async function publishDrain(o: PathOptions): Promise<number> {
  const r = await rig(o);
  try {
    for (let made = 0; made < o.frames; made += 1000) await r.outbox.append(r.entries(Math.min(1000, o.frames - made)));
    const connected = new Promise<void>((res) => r.publisher.once('connected', () => res()));
    const t0 = performance.now();
    r.publisher.start();
    await connected;
    await r.acked(o.frames);
    return o.frames / ((performance.now() - t0) / 1000);
  } finally {
    await r.close();
  }
}

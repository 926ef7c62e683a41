// Full quota: the hub cannot reach the broker (it refuses the hub's connection) while it keeps
// producing into a small outbox. When the broker lets it in, the receiver must account for every
// seq: received, or named by a gap frame that reached it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAedes } from '../helpers/aedes.js';
import { until } from '../helpers/wait.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { Hub } from '../../src/hub/hub.js';
import { SimulatedSource } from '../../src/hub/simulated-source.js';
import { SystemClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { Receiver } from '../../src/receiver/receiver.js';
import type { Sink } from '../../src/receiver/sinks/sink.js';
import { TrustStore } from '../../src/receiver/trust.js';
import type { AcceptedFrame } from '../../src/receiver/verify.js';


test('a full outbox drops its oldest frames and the receiver is told exactly which', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-quota-'));
  let admitHub = false;
  const broker = await startAedes({ broker: {
    // A real refusal (CONNACK "not authorized"): the hub retries with backoff meanwhile.
    authenticate: (client, _u, _p, done) => (client.id.startsWith('hub-') && !admitHub ? done(Object.assign(new Error('not yet'), { returnCode: 5 }), false) : done(null, true)),
  } });
  const url = broker.url;

  const key = generateHubKey();
  const received: AcceptedFrame[] = [];
  const sink: Sink = { write: (f) => { received.push(f); }, close: async () => {} };
  const receiver = new Receiver({
    brokerUrl: url, mqttVersion: 4, clientId: 'twin-receiver', stateDir: join(dir, 'receiver'), sink,
    trust: new TrustStore([{ hubId: 'hub-q', publicKey: key.publicKey, source: 'test' }]), log: silentLogger(),
  });
  const declared: Array<{ first: number; last: number }> = [];
  receiver.on('gap', (e) => { if (e.type === 'declared') declared.push(...e.ranges); });
  const clock = new SystemClock('assume-synced');
  const hub = new Hub({
    hubId: 'hub-q', dataDir: join(dir, 'hub'), key, clock,
    broker: { url, clientId: 'hub-q', keepaliveS: 10, connectTimeoutMs: 2000, reconnectMinMs: 20, reconnectMaxMs: 100 },
    inflight: 32,
    // About 30 frames of the simulated source fit.
    outbox: { quotaBytes: 30 * 1024, sync: 'batch', maxBatch: 1000 },
    subjects: ['s1', 's2'],
    source: new SimulatedSource({ subjects: ['s1', 's2'], windowMs: 10, clock }),
    configSha256: '', log: silentLogger(),
  });
  try {
    await receiver.start();
    await hub.start();
    await until(() => hub.stats().outbox.droppedFrames > 200, 'the quota to drop frames');
    assert.equal(received.length, 0, 'nothing got through while the broker refused the hub');
    admitHub = true;
    await until(() => received.some((f) => f.kind === 'gap'), 'a gap frame at the receiver');
    await hub.stop();
    const last = hub.stats().outbox.lastSeq;
    await until(() => (receiver.watermark('hub-q') ?? 0) >= last, `the receiver to account for seq ${last}`);

    const got = new Set(received.filter((f) => f.kind !== 'status').map((f) => f.seq));
    const lost = new Set<number>();
    for (const r of declared) for (let s = r.first; s <= r.last; s++) lost.add(s);
    assert.ok(lost.size >= 200, `gap frames name the dropped frames (${lost.size})`);
    // Every seq is accounted for. A frame that was already in flight when the quota dropped it
    // may arrive as well as be declared dropped; at most a publish window and a read-ahead of them.
    let both = 0;
    for (let s = 1; s <= last; s++) {
      assert.ok(got.has(s) || lost.has(s), `seq ${s}: received or declared dropped`);
      if (got.has(s) && lost.has(s)) both++;
    }
    assert.ok(both <= 32 * 3, `${both} frames both arrived and were declared dropped`);
    assert.deepEqual(receiver.missing('hub-q'), []);
    assert.equal(hub.stats().outbox.droppedFrames, lost.size, 'the hub counted what it dropped');
  } finally {
    await hub.stop().catch(() => {});
    await receiver.stop().catch(() => {});
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

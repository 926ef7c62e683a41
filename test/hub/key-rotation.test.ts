// Key rotation end to end: a real Hub (LevelDB outbox, simulated source), aedes, and the real
// Receiver with its LevelDB state. The hub rotates mid-stream; the receiver must take every seq,
// in order, with no gap, follow the handover to the new key, and refuse what the old key signs
// after it, across restarts of both.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { HubState } from '../../src/frames/codec.js';
import { FrameMaker } from '../../src/frames/frame-maker.js';
import { generateHubKey, type HubKey } from '../../src/frames/keys.js';
import { FrameSigner } from '../../src/frames/sign.js';
import { Hub } from '../../src/hub/hub.js';
import { SimulatedSource } from '../../src/hub/simulated-source.js';
import { ManualClock, SystemClock } from '../../src/ops/clock.js';
import { isTwinedgeError } from '../../src/ops/errors.js';
import { silentLogger } from '../../src/ops/log.js';
import { frameTopic } from '../../src/publish/topics.js';
import type { RejectReason } from '../../src/receiver/reasons.js';
import { Receiver } from '../../src/receiver/receiver.js';
import type { Sink } from '../../src/receiver/sinks/sink.js';
import { TrustStore } from '../../src/receiver/trust.js';
import type { AcceptedFrame } from '../../src/receiver/verify.js';
import { startAedesFor, type AedesBroker } from '../helpers/aedes.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';

const HUB_ID = 'hub-rot';
const TIMEOUT = { timeout: 60_000 };

interface Rig {
  broker: AedesBroker;
  dir: string;
  frames: AcceptedFrame[];
  rejected: RejectReason[];
  hub(key: HubKey, extra?: { nextKey?: HubKey }): Hub;
  receiver(trust: HubKey[]): Receiver;
  /** Sequenced frames accepted, in the order they came. */
  seqs(): number[];
}

async function rig(t: TestContext): Promise<Rig> {
  const broker = await startAedesFor(t);
  const dir = await tempDir(t, 'twinedge-rotation-');
  const frames: AcceptedFrame[] = [];
  const rejected: RejectReason[] = [];
  const stops: Array<() => Promise<void>> = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  });
  const sink: Sink = { write: (f) => { frames.push(f); }, close: async () => {} };
  return {
    broker, dir, frames, rejected,
    hub(key, extra = {}) {
      const clock = new SystemClock('assume-synced');
      const hub = new Hub({
        hubId: HUB_ID, dataDir: join(dir, 'hub'), key, ...extra, clock,
        broker: { url: broker.url, clientId: HUB_ID, keepaliveS: 10, connectTimeoutMs: 2000, reconnectMinMs: 20, reconnectMaxMs: 100 },
        inflight: 16,
        outbox: { quotaBytes: 64 << 20, sync: 'batch', maxBatch: 100 },
        subjects: ['s1', 's2'],
        source: new SimulatedSource({ subjects: ['s1', 's2'], windowMs: 10, clock }),
        configSha256: '', log: silentLogger(),
      });
      stops.push(() => hub.stop());
      return hub;
    },
    receiver(trust) {
      const r = new Receiver({
        brokerUrl: broker.url, mqttVersion: 4, clientId: 'twin-rx', stateDir: join(dir, 'receiver'), sink,
        trust: new TrustStore(trust.map((k) => ({ hubId: HUB_ID, publicKey: k.publicKey, source: 'test' }))),
        reconnectMinMs: 20, reconnectMaxMs: 100, log: silentLogger(),
      });
      r.on('rejected', (reason) => rejected.push(reason));
      stops.push(() => r.stop(1000));
      return r;
    },
    seqs: () => frames.filter((f) => f.seq > 0).map((f) => f.seq),
  };
}

/** A cross-section for seq `seq`, made and signed with `key` as the hub's own code would. */
function forged(key: HubKey, seq: number): { topic: string; payload: Uint8Array } {
  const maker = new FrameMaker({ hubId: HUB_ID, clock: new ManualClock(Date.now(), 'synced'), signer: new FrameSigner(key) });
  return { topic: frameTopic(HUB_ID, 's1', 'cross_section'), payload: maker.make(seq, 's1', { cross_section: { window_start_ms: 0, window_end_ms: 10 } }) };
}

async function publishRaw(url: string, m: { topic: string; payload: Uint8Array }): Promise<void> {
  const client = await mqtt.connectAsync(url, { clean: true, reconnectPeriod: 0 });
  await client.publishAsync(m.topic, Buffer.from(m.payload), { qos: 1 });
  await client.endAsync();
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const keyedBy = (frames: AcceptedFrame[], key: HubKey) => frames.filter((f) => f.key_id === key.keyId);

test('a hub rotates mid-stream: every seq arrives in order, the old key is refused after the switch, and both restart on the new key', TIMEOUT, async (t) => {
  const r = rig(t);
  const { broker, frames, rejected, seqs, hub: makeHub, receiver: makeReceiver, dir } = await r;
  const oldKey = generateHubKey();
  const newKey = generateHubKey();

  const receiver = makeReceiver([oldKey]);
  await receiver.start();
  const hub = makeHub(oldKey);
  await hub.start();
  await until(() => seqs().length >= 20, 'frames signed by the old key');
  await hub.rotateKey(newKey);
  assert.equal(hub.keyId, newKey.keyId);
  const handover = frames.length;
  await until(() => keyedBy(frames.slice(handover), newKey).length >= 20, 'frames signed by the new key');

  // The old key, taken by someone, signs a frame after the switch.
  const beyond = hub.stats().outbox.lastSeq + 1000;
  await publishRaw(broker.url, forged(oldKey, beyond));
  await until(() => rejected.includes('key_retired'), 'the forged frame to be refused');
  assert.equal(receiver.counters().rejected.key_retired, 1);

  await hub.stop();
  const last = hub.stats().outbox.lastSeq;
  await until(() => (receiver.watermark(HUB_ID) ?? 0) >= last && receiver.latestStatus(HUB_ID)?.body.status?.state === HubState.OFFLINE, `every seq up to ${last}`);
  assert.deepEqual(seqs(), range(1, last), 'every seq once, in order');
  assert.deepEqual(receiver.missing(HUB_ID), []);

  const handovers = frames.filter((f) => f.seq > 0 && f.kind === 'status');
  assert.equal(handovers.length, 1);
  const h = handovers[0]!;
  assert.equal(h.key_id, oldKey.keyId, 'the handover is signed by the key it retires');
  assert.equal(h.body.status?.next_key?.key_id, newKey.keyId);
  assert.equal(h.body.status?.next_key?.from_seq, h.seq + 1);
  for (const f of frames.filter((x) => x.seq > 0)) assert.equal(f.key_id, f.seq <= h.seq ? oldKey.keyId : newKey.keyId, `seq ${f.seq}`);
  const statuses = frames.filter((f) => f.seq === 0);
  assert.equal(statuses[0]!.key_id, oldKey.keyId, 'the birth before the rotation');
  assert.equal(statuses.at(-1)!.key_id, newKey.keyId, 'the shutdown status after it');
  assert.equal(statuses.at(-1)!.body.status?.key_handovers?.length, 1, 'births and wills carry the handover');
  await receiver.stop();

  // Both restart. The hub is given its old key file only: it finds the key its record names in
  // the folder where a rotation at run time keeps it.
  assert.deepEqual((await readdir(join(dir, 'hub', 'keys'))).sort(), [`${newKey.keyId}.key`, `${newKey.keyId}.pub`]);
  const before = frames.length;
  const receiver2 = makeReceiver([oldKey]);
  await receiver2.start();
  const hub2 = makeHub(oldKey);
  await hub2.start();
  assert.equal(hub2.keyId, newKey.keyId);
  await until(() => seqs().length >= last + 10, 'frames after the restart');
  await publishRaw(broker.url, forged(oldKey, hub2.stats().outbox.lastSeq + 1000));
  await until(() => receiver2.counters().rejected.key_retired === 1, 'the old key refused after the restart');
  await hub2.stop();
  const last2 = hub2.stats().outbox.lastSeq;
  await until(() => (receiver2.watermark(HUB_ID) ?? 0) >= last2, `every seq up to ${last2}`);
  assert.deepEqual(seqs(), range(1, last2));
  assert.deepEqual(frames.slice(before).map((f) => f.key_id).filter((k) => k !== newKey.keyId), [], 'only the new key after the restart');
  assert.deepEqual(receiver2.counters().rejected.unknown_key, 0);
});

test('hub.next_key_file: the hub rotates at its first start only, and refuses keys it cannot account for', TIMEOUT, async (t) => {
  const { frames, seqs, hub: makeHub, receiver: makeReceiver } = await rig(t);
  const oldKey = generateHubKey();
  const newKey = generateHubKey();
  const receiver = makeReceiver([oldKey]);
  await receiver.start();

  const starts: Array<{ key: HubKey; nextKey?: HubKey }> = [{ key: oldKey, nextKey: newKey }, { key: oldKey, nextKey: newKey }, { key: newKey }];
  for (const [i, opts] of starts.entries()) {
    const hub = makeHub(opts.key, opts.nextKey ? { nextKey: opts.nextKey } : {});
    await hub.start();
    assert.equal(hub.keyId, newKey.keyId, `start ${i + 1}`);
    const seen = seqs().length;
    await until(() => seqs().length >= seen + 5, `frames of start ${i + 1}`);
    await assert.rejects(hub.rotateKey(oldKey), (e: unknown) => isTwinedgeError(e) && e.code === 'KEY_ROTATION_INVALID', 'a retired key is not used again');
    await hub.stop();
    const last = hub.stats().outbox.lastSeq;
    await until(() => (receiver.watermark(HUB_ID) ?? 0) >= last, `start ${i + 1}: every seq up to ${last}`);
  }
  const handovers = frames.filter((f) => f.seq > 0 && f.kind === 'status');
  assert.deepEqual(handovers.map((f) => f.seq), [1], 'announced once, before any other frame');
  assert.equal(keyedBy(frames.filter((f) => f.seq > 1), oldKey).length, 0);
  assert.deepEqual(receiver.missing(HUB_ID), []);

  // Given the old key alone, the hub cannot sign on: its record names the new key, which it
  // was only ever given in a file, not kept in its data folder.
  const lost = makeHub(oldKey);
  await assert.rejects(lost.start(), (e: unknown) => isTwinedgeError(e) && e.code === 'KEY_ROTATION_INVALID' && e.message.includes(newKey.keyId));
});

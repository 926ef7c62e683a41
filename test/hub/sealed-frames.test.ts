// Sealed payloads end to end: a real Hub with hub.seal_to, aedes, and three real receivers: one
// with the twin server's open key, one without any, one with the wrong key. A raw subscriber
// stands for the broker's view, and for someone who tampers with what passes through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { decodeBody, decodeSigned, encodeBody, encodeSigned, type FrameBody } from '../../src/frames/codec.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { generateSealKey, OpenKeys, sealRecipientOf } from '../../src/frames/seal.js';
import { FrameSigner } from '../../src/frames/sign.js';
import { Hub } from '../../src/hub/hub.js';
import { SimulatedSource } from '../../src/hub/simulated-source.js';
import { SystemClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import type { RejectReason } from '../../src/receiver/reasons.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { jsonlRecord } from '../../src/receiver/sinks/jsonl-sink.js';
import type { Sink } from '../../src/receiver/sinks/sink.js';
import { TrustStore } from '../../src/receiver/trust.js';
import type { AcceptedFrame } from '../../src/receiver/verify.js';
import { startAedesFor } from '../helpers/aedes.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';

const HUB_ID = 'hub-seal';

test('sealed frames: opened with the server key, kept sealed without one, refused with the wrong one or when tampered with', { timeout: 60_000 }, async (t) => {
  const broker = await startAedesFor(t);
  const dir = await tempDir(t, 'twinedge-sealed-');
  const hubKey = generateHubKey();
  const server = generateSealKey();
  const trust = new TrustStore([{ hubId: HUB_ID, publicKey: hubKey.publicKey, source: 'test' }]);
  const stops: Array<() => Promise<void>> = [];
  t.after(async () => { for (const s of stops.reverse()) await s().catch(() => {}); });

  const receiver = (name: string, openKeys?: OpenKeys) => {
    const frames: AcceptedFrame[] = [];
    const rejected: RejectReason[] = [];
    const sink: Sink = { write: (f) => { frames.push(f); }, close: async () => {} };
    const r = new Receiver({
      brokerUrl: broker.url, mqttVersion: 4, clientId: `rx-${name}`, stateDir: join(dir, name), sink, trust,
      ...(openKeys ? { openKeys } : {}), log: silentLogger(),
    });
    r.on('rejected', (reason) => rejected.push(reason));
    stops.push(() => r.stop(1000));
    return { r, frames, rejected };
  };
  const opener = receiver('open', new OpenKeys([server]));
  const keeper = receiver('closed');
  const stranger = receiver('wrong', new OpenKeys([generateSealKey()]));
  for (const x of [opener, keeper, stranger]) await x.r.start();

  const wire: Array<{ topic: string; payload: Buffer }> = [];
  const raw = await mqtt.connectAsync(broker.url, { clean: true, reconnectPeriod: 0 });
  stops.push(() => raw.endAsync());
  raw.on('message', (topic, payload) => wire.push({ topic, payload }));
  await raw.subscribeAsync('twin/v1/#', { qos: 1 });

  const clock = new SystemClock('assume-synced');
  const hub = new Hub({
    hubId: HUB_ID, dataDir: join(dir, 'hub'), key: hubKey, sealTo: sealRecipientOf(server.publicKey), clock,
    broker: { url: broker.url, clientId: HUB_ID, keepaliveS: 10, connectTimeoutMs: 2000, reconnectMinMs: 20, reconnectMaxMs: 100 },
    inflight: 16, outbox: { quotaBytes: 64 << 20, sync: 'batch', maxBatch: 100 },
    subjects: ['s1'], source: new SimulatedSource({ subjects: ['s1'], windowMs: 10, clock }),
    configSha256: '', log: silentLogger(),
  });
  stops.push(() => hub.stop());
  await hub.start();
  await until(() => opener.frames.filter((f) => f.kind === 'cross_section').length >= 10, 'opened cross-sections');
  await hub.stop();
  const last = hub.stats().outbox.lastSeq;
  await until(() => [opener, keeper].every((x) => (x.r.watermark(HUB_ID) ?? 0) >= last), `every seq up to ${last}`);
  await until(() => stranger.rejected.length >= last, 'the wrong key to refuse every sealed frame');

  // With the open key: the payload as the hub made it.
  const opened = opener.frames.filter((f) => f.kind === 'cross_section');
  assert.equal(opened.length, last);
  for (const f of opened) {
    assert.equal(f.sealed, 'opened');
    assert.equal(f.body.sealed, undefined);
    assert.ok((f.body.cross_section?.features ?? []).some((x) => x.code === 'hr.mean'), `seq ${f.seq} opened to its features`);
  }
  assert.equal(opener.frames.find((f) => f.kind === 'status')?.sealed, undefined, 'status frames are never sealed');
  assert.equal(jsonlRecord(opened[0]!).sealed, 'opened');

  // Without it: accepted, de-duplicated and gap-checked all the same, and kept sealed.
  const kept = keeper.frames.filter((f) => f.kind === 'cross_section');
  assert.deepEqual(kept.map((f) => f.seq), opened.map((f) => f.seq));
  assert.ok(kept.every((f) => f.sealed === 'closed' && f.body.cross_section === undefined && f.body.sealed?.recipient_key_id === server.keyId));
  const record = jsonlRecord(kept[0]!);
  assert.equal(record.sealed, 'closed');
  assert.equal((record.payload as { recipient_key_id: string }).recipient_key_id, server.keyId);
  assert.deepEqual(keeper.r.missing(HUB_ID), []);

  // With the wrong key: every sealed frame refused by name; the hub's status still accepted.
  assert.deepEqual([...new Set(stranger.rejected)], ['seal_wrong_key']);
  assert.equal(stranger.r.counters().rejected.seal_wrong_key, last);
  assert.ok(stranger.frames.length > 0 && stranger.frames.every((f) => f.kind === 'status'));

  // What the broker saw: routing in clear, no clinical value.
  const sealedOnWire = wire.filter((m) => m.topic.endsWith('/cross-section'));
  assert.equal(sealedOnWire.length, last);
  for (const m of sealedOnWire) {
    assert.equal(m.payload.includes('hr.mean'), false, 'no feature code in what the broker carries');
    const body = decodeBody(decodeSigned(m.payload).body);
    assert.deepEqual([body.hub_id, body.subject_ref, body.kind], [HUB_ID, 's1', 'cross_section']);
  }

  // Tampering: a flipped ciphertext byte breaks the signature; re-signed, it fails GCM.
  const sample = sealedOnWire[0]!;
  const signed = decodeSigned(sample.payload);
  const body = decodeBody(signed.body);
  const ciphertext = Buffer.from(body.sealed!.ciphertext);
  ciphertext[0]! ^= 0x80;
  const { kind: _kind, ...header } = body;
  const tampered = encodeBody({ ...header, sealed: { ...body.sealed!, ciphertext } } as FrameBody);
  const before = opener.r.counters().rejected;
  await raw.publishAsync(sample.topic, Buffer.from(encodeSigned({ ...signed, body: tampered })), { qos: 1 });
  await raw.publishAsync(sample.topic, Buffer.from(new FrameSigner(hubKey).sign(tampered)), { qos: 1 });
  await until(() => opener.r.counters().rejected.seal_open_failed === before.seal_open_failed + 1, 'the re-signed frame to fail GCM');
  const after = opener.r.counters().rejected;
  assert.equal(after.bad_signature, before.bad_signature + 1, 'the flipped byte alone: the signature covers the sealed bytes');
  assert.equal(after.seal_open_failed, before.seal_open_failed + 1);
  assert.equal(opener.frames.filter((f) => f.kind === 'cross_section').length, last, 'nothing tampered was accepted');
});

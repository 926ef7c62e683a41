import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { ClockStatus, decodeSigned, encodeSigned, EventKind, GapReason } from '../../src/frames/codec.js';
import { frameTopic } from '../../src/publish/topics.js';
import type { GapEvent } from '../../src/receiver/dedupe.js';
import { REJECT_REASONS, type RejectReason } from '../../src/receiver/reasons.js';
import { Receiver, type ReceiverOptions } from '../../src/receiver/receiver.js';
import type { Sink } from '../../src/receiver/sinks/sink.js';
import { startAedes } from '../helpers/aedes.js';
import { abortable, flipBit, producer, RecordingSink, TestHub, trustFor, until } from './helpers.js';
import { makeTempDir } from '../helpers/tmp.js';

const TIMEOUT = { timeout: 10_000 };
const hubA = new TestHub('hub-a');
const hubB = new TestHub('hub-b');
// hub-a's key is also trusted for hub-c: a hub-a frame on a hub-c topic gets past the key check.
const trust = trustFor(['hub-a', hubA], ['hub-b', hubB], ['hub-c', hubA]);

function processed(r: Receiver): number {
  const c = r.counters();
  return c.accepted + Object.values(c.rejected).reduce((a, b) => a + b, 0);
}

/** Waits until the receiver has settled `n` messages in all (accepted or rejected). */
const settled = (r: Receiver, n: number, signal: AbortSignal) => until(r, ['accepted', 'rejected'], () => processed(r) >= n, signal);

function rejectedOnly(r: Receiver): Partial<Record<RejectReason, number>> {
  return Object.fromEntries(Object.entries(r.counters().rejected).filter(([, n]) => n > 0));
}

async function setup() {
  const broker = await startAedes();
  const dir = await makeTempDir('twinedge-receiver-');
  const receivers: Receiver[] = [];
  const pub = await producer(broker.url);
  const receiver = (sink: Sink, opts: Partial<ReceiverOptions> = {}) => {
    const r = new Receiver({
      brokerUrl: broker.url, trust, sink, stateDir: join(dir.path, 'state'),
      mqttVersion: 4, reconnectMinMs: 20, reconnectMaxMs: 100, ...opts,
    });
    receivers.push(r);
    return r;
  };
  return {
    broker, pub, receiver,
    async cleanup() {
      for (const r of receivers) await r.stop(1000);
      await pub.close();
      await broker.close();
      await dir.remove();
    },
  };
}

test('accepted frames reach the sink in order with every field, the retained status first', TIMEOUT, async (t) => {
  const h = await setup();
  try {
    await h.pub.send([hubA.status('online', 0)], { retain: true });
    const sink = new RecordingSink();
    const r = h.receiver(sink);
    const gaps: GapEvent[] = [];
    r.on('gap', (g) => gaps.push(g));
    await abortable(r.start(), t.signal);
    const exposure = hubA.make(4, 'subj-1', { exposure: { period_start_ms: 0, period_end_ms: 86_400_000, time_zone: 'Europe/Paris', local_date: '2026-11-23', accumulators: [{ code: 'light.dose', value: 1200, unit: 'lx.h' }] } }, 'exposure');
    const event = hubA.make(5, 'subj-2', { event: { event_id: 'e-1', kind: EventKind.MEDICATION, code: 'ATC:N02BE01', at_ms: 1_795_000_000_000 } }, 'event');
    const sent = [hubA.crossSection(1), hubA.crossSection(2), hubA.crossSection(3), exposure, event, hubA.gap(7, [{ first: 6, last: 6 }])];
    await h.pub.send(sent);
    await settled(r, 7, t.signal);
    assert.deepEqual(sink.frames.map((f) => [f.seq, f.kind, f.subject_ref]), [
      [0, 'status', '_hub'], [1, 'cross_section', 'subj-1'], [2, 'cross_section', 'subj-1'], [3, 'cross_section', 'subj-1'],
      [4, 'exposure', 'subj-1'], [5, 'event', 'subj-2'], [7, 'gap', '_hub'],
    ]);
    for (const [i, f] of sink.frames.entries()) {
      assert.equal(f.hub_id, 'hub-a');
      assert.equal(f.key_id, hubA.keyId);
      assert.equal(f.body.boot_id, hubA.clock.bootId);
      assert.equal(f.body.clock_status, ClockStatus.SYNCED);
      // The exact bytes that were signed, not a re-encoding.
      if (i > 0) assert.deepEqual(Buffer.from(f.bodyBytes), Buffer.from(decodeSigned(sent[i - 1]!.payload).body));
    }
    assert.equal(sink.frames[1]!.body.cross_section?.features?.[0]?.value, 61);
    assert.equal(sink.frames[4]!.body.exposure?.accumulators?.[0]?.code, 'light.dose');
    assert.equal(sink.frames[5]!.body.event?.code, 'ATC:N02BE01');
    assert.deepEqual(gaps, [{ type: 'declared', hubId: 'hub-a', seq: 7, reason: GapReason.QUOTA_FULL, ranges: [{ first: 6, last: 6 }] }]);
    assert.deepEqual(r.counters(), { accepted: 7, rejected: Object.fromEntries(REJECT_REASONS.map((x) => [x, 0])) });
    assert.equal(r.watermark('hub-a'), 7);
    assert.deepEqual(r.missing('hub-a'), []);
    assert.equal(r.latestStatus('hub-a')?.mark.state, 1);
  } finally {
    await h.cleanup();
  }
});

test('every tampered, misrouted or repeated frame is rejected with its own reason and the receiver keeps going', TIMEOUT, async (t) => {
  const h = await setup();
  try {
    const sink = new RecordingSink();
    const r = h.receiver(sink);
    const rejections: Array<[RejectReason, string]> = [];
    r.on('rejected', (reason, topic) => rejections.push([reason, topic]));
    await abortable(r.start(), t.signal);
    const [f1, f2, f3] = [hubA.crossSection(1), hubA.crossSection(2), hubA.crossSection(3)];
    const f4 = hubA.crossSection(4);
    const f5 = hubA.crossSection(5);
    const s4 = decodeSigned(f4.payload);
    const impostor = new TestHub('hub-a', hubB.key).crossSection(4); // hub-b's key, hub-a's name
    const stranger = new TestHub('hub-a').crossSection(4);
    const bad: Array<[RejectReason, { topic: string; payload: Uint8Array }]> = [
      ['bad_signature', { topic: f4.topic, payload: encodeSigned({ ...s4, body: flipBit(s4.body, 61) }) }],
      ['bad_signature', { topic: f4.topic, payload: encodeSigned({ ...s4, signature: flipBit(s4.signature, 200) }) }],
      ['unknown_key', stranger],
      ['key_hub_mismatch', impostor],
      ['key_hub_mismatch', { topic: frameTopic('hub-b', 'subj-1', 'cross_section'), payload: f4.payload }],
      ['topic_hub_mismatch', { topic: frameTopic('hub-c', 'subj-1', 'cross_section'), payload: f4.payload }],
      ['topic_mismatch', { topic: frameTopic('hub-a', 'subj-9', 'cross_section'), payload: f4.payload }],
      ['topic_mismatch', { topic: frameTopic('hub-a', 'subj-1', 'event'), payload: f4.payload }],
      ['malformed', { topic: f4.topic, payload: f4.payload.subarray(0, f4.payload.length - 20) }],
      ['malformed', { topic: f4.topic, payload: Buffer.from('{"not":"protobuf"} and then some bytes \u0000\u00ff') }],
      ['bad_topic', { topic: 'twin/v1/hub-a/subj-1', payload: f4.payload }],
    ];
    await h.pub.send([f1, f2, f3, ...bad.map(([, m]) => m), f5, f1, f5, f4, hubA.crossSection(6)]);
    await settled(r, 3 + bad.length + 5, t.signal);
    assert.deepEqual(sink.seqs, [1, 2, 3, 5, 4, 6]);
    assert.deepEqual(rejections.map(([reason]) => reason), [...bad.map(([reason]) => reason), 'replay', 'duplicate']);
    assert.deepEqual(rejectedOnly(r), {
      bad_signature: 2, unknown_key: 1, key_hub_mismatch: 2, topic_hub_mismatch: 1, topic_mismatch: 2, malformed: 2, bad_topic: 1, replay: 1, duplicate: 1,
    });
    assert.equal(r.counters().accepted, 6);
    assert.deepEqual(r.missing('hub-a'), []);
  } finally {
    await h.cleanup();
  }
});

test('a duplicate delivered after the receiver restarts on the same state is still recognised', TIMEOUT, async (t) => {
  const h = await setup();
  try {
    const first = new RecordingSink();
    const r1 = h.receiver(first);
    await abortable(r1.start(), t.signal);
    const m = [1, 2, 3, 5].map((s) => hubA.crossSection(s));
    await h.pub.send(m);
    await settled(r1, 4, t.signal);
    await r1.stop();
    assert.equal(first.closed, true);

    const second = new RecordingSink();
    const r2 = h.receiver(second);
    await abortable(r2.start(), t.signal);
    assert.equal(r2.clientId, r1.clientId, 'the client id is kept in the state folder');
    assert.deepEqual(r2.missing('hub-a'), [{ first: 4, last: 4 }]);
    await h.pub.send([m[3]!, m[1]!, hubA.crossSection(4)]);
    await settled(r2, 3, t.signal);
    assert.deepEqual(rejectedOnly(r2), { duplicate: 1, replay: 1 });
    assert.deepEqual(second.seqs, [4]);
    assert.equal(r2.watermark('hub-a'), 5);
  } finally {
    await h.cleanup();
  }
});

test('skipped seqs are reported as gaps and by missing(); a gap frame declaring them resolves them', TIMEOUT, async (t) => {
  const h = await setup();
  try {
    const r = h.receiver(new RecordingSink());
    const gaps: GapEvent[] = [];
    r.on('gap', (g) => gaps.push(g));
    await abortable(r.start(), t.signal);
    await h.pub.send([1, 2, 5, 6, 9].map((s) => hubA.crossSection(s)));
    await settled(r, 5, t.signal);
    assert.deepEqual(r.missing('hub-a'), [{ first: 3, last: 4 }, { first: 7, last: 8 }]);
    assert.deepEqual(gaps, [{ type: 'seq_gap', hubId: 'hub-a', first: 3, last: 4 }, { type: 'seq_gap', hubId: 'hub-a', first: 7, last: 8 }]);
    await h.pub.send([hubA.gap(10, [{ first: 3, last: 4 }, { first: 7, last: 8 }])]);
    await settled(r, 6, t.signal);
    assert.deepEqual(r.missing('hub-a'), []);
    assert.equal(r.watermark('hub-a'), 10);
    assert.equal(gaps.length, 3);
    assert.equal(gaps[2]!.type, 'declared');
  } finally {
    await h.cleanup();
  }
});

test('frames published while the receiver is away wait in its persistent session', TIMEOUT, async (t) => {
  const h = await setup();
  try {
    const r1 = h.receiver(new RecordingSink());
    await abortable(r1.start(), t.signal);
    await r1.stop();
    await h.pub.send(Array.from({ length: 20 }, (_, i) => hubA.crossSection(i + 1)));
    const sink = new RecordingSink();
    const r2 = h.receiver(sink);
    await abortable(r2.start(), t.signal);
    await settled(r2, 20, t.signal);
    assert.deepEqual(sink.seqs, Array.from({ length: 20 }, (_, i) => i + 1));
  } finally {
    await h.cleanup();
  }
});

test('no PUBACK leaves before the sink has the frame: a connection lost mid-write gets the frame again', TIMEOUT, async (t) => {
  const h = await setup();
  try {
    const sink = new RecordingSink();
    // Keepalive 1 s: the receiver's PINGREQ is the sync point below.
    const r = h.receiver(sink, { keepaliveS: 1 });
    await abortable(r.start(), t.signal);
    let acks = 0;
    let pings = 0;
    h.broker.aedes.on('ack', (_packet, client) => { if (client?.id === r.clientId) acks++; });
    h.broker.aedes.on('ping', (_packet, client) => { if (client?.id === r.clientId) pings++; });
    sink.hold();
    const written = sink.writeStarted(t.signal);
    await h.pub.send([hubA.crossSection(1)]);
    await written;
    // The broker handles a client's packets in order: once it has the PINGREQ sent after the
    // write began, it has any PUBACK sent before it.
    const pingsBefore = pings;
    await until(h.broker.aedes, ['ping'], () => pings > pingsBefore, t.signal);
    assert.equal(acks, 0, 'not acknowledged while the sink holds it');
    // The connection drops with the frame unacknowledged: the broker keeps it for the session.
    const reconnected = once(r, 'connected', { signal: t.signal });
    (h.broker.aedes as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients[r.clientId]!.conn.destroy();
    await reconnected;
    sink.release();
    await h.pub.send([hubA.crossSection(2)]);
    await until(r, ['accepted'], () => sink.seqs.includes(2), t.signal);
    assert.deepEqual(sink.seqs, [1, 2]);
    // Frame 1 came again (a replay: everything up to it was accepted), so it had not been acked.
    assert.deepEqual(rejectedOnly(r), { replay: 1 }, 'the broker sent frame 1 again: it had not been acknowledged');
  } finally {
    await h.cleanup();
  }
});

test('a sink that fails stops the receiver without acknowledging; the next run gets the frame', TIMEOUT, async (t) => {
  const h = await setup();
  try {
    const diskFull = new Error('disk full');
    const failing: Sink = { write: () => { throw diskFull; }, close: async () => {} };
    const r1 = h.receiver(failing);
    await abortable(r1.start(), t.signal);
    const failed = once(r1, 'error', { signal: t.signal });
    await h.pub.send([hubA.crossSection(1)]);
    const [err] = await failed;
    assert.equal((err as { code?: string }).code, 'RECEIVE_SINK_FAILED');
    assert.equal((err as Error).cause, diskFull);
    assert.equal(r1.counters().accepted, 0);
    await r1.stop();
    const sink = new RecordingSink();
    const r2 = h.receiver(sink);
    await abortable(r2.start(), t.signal);
    // Frame 2 is sent after the session resumed: frame 1, if the broker still had it, is before it.
    await h.pub.send([hubA.crossSection(2)]);
    await until(r2, ['accepted', 'rejected'], () => sink.seqs.includes(2), t.signal);
    assert.deepEqual(sink.seqs, [1, 2]);
  } finally {
    await h.cleanup();
  }
});

test('a broker that refuses MQTT 5 (aedes) fails start with BROKER_REFUSED instead of retrying forever', TIMEOUT, async (t) => {
  const h = await setup();
  try {
    const r = h.receiver(new RecordingSink(), { mqttVersion: 5 });
    await assert.rejects(abortable(r.start(), t.signal), { code: 'BROKER_REFUSED' });
  } finally {
    await h.cleanup();
  }
});

test('a share group with MQTT wildcards is refused before anything starts', () => {
  assert.throws(() => new Receiver({ brokerUrl: 'mqtt://127.0.0.1:1', trust, sink: new RecordingSink(), stateDir: '/nonexistent', share: 'a/b' }), { code: 'USAGE_BAD_ARGUMENT' });
});

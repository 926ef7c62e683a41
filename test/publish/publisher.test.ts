import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { AedesOptions } from 'aedes';
import mqtt from 'mqtt';
import { decodeBody, decodeSigned, HubState } from '../../src/frames/codec.js';
import { FrameMaker } from '../../src/frames/frame-maker.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { FrameSigner } from '../../src/frames/sign.js';
import { LevelOutbox } from '../../src/outbox/level-outbox.js';
import { ManualClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { Publisher } from '../../src/publish/session.js';
import { startAedes } from '../helpers/aedes.js';

async function startBroker(port = 0, broker: AedesOptions = {}) {
  return startAedes({ port, broker });
}

async function setup(brokerUrl: string, inflight = 64) {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-pub-'));
  const maker = new FrameMaker({ hubId: 'hub-p', clock: new ManualClock(Date.UTC(2026, 10, 1)), signer: new FrameSigner(generateHubKey()) });
  const outbox = new LevelOutbox({ location: join(dir, 'db'), quotaBytes: 1e9, sync: 'batch', maxBatch: 1000, makeGap: (seq, gap) => maker.make(seq, '_hub', { gap }) });
  await outbox.open();
  const publisher = new Publisher({
    outbox, hubId: 'hub-p', inflight, log: silentLogger(),
    broker: { url: brokerUrl, clientId: 'hub-p-test', keepaliveS: 5, connectTimeoutMs: 2000, reconnectMinMs: 50, reconnectMaxMs: 400 },
    statusFrame: (state, reason, connection) => maker.make(0, '_hub', { status: { state: state === 'online' ? HubState.ONLINE : HubState.OFFLINE, reason, connection } }),
  });
  const append = (n: number) => outbox.append(Array.from({ length: n }, () => ({
    subjectRef: 's1', kind: 'cross_section' as const,
    make: (seq: number) => maker.make(seq, 's1', { cross_section: { window_start_ms: seq * 1000, window_end_ms: seq * 1000 + 1000 } }),
  })));
  return { dir, outbox, publisher, append, async cleanup() { await publisher.stop(500); await outbox.close(); await rm(dir, { recursive: true, force: true }); } };
}

/** A subscriber recording the seq of every frame it gets, and the status frames. */
async function subscriber(url: string, clientId: string) {
  const seqs: number[] = [];
  const statuses: { state: number; reason: string; connection: number }[] = [];
  const client = await mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 100 });
  client.on('message', (topic, payload) => {
    const body = decodeBody(decodeSigned(payload).body);
    if (body.kind === 'status') statuses.push({ state: body.status!.state, reason: body.status!.reason ?? '', connection: body.status!.connection ?? 0 });
    else seqs.push(body.seq);
  });
  await client.subscribeAsync('twin/v1/#', { qos: 1 });
  const waitFor = async (pred: () => boolean) => { while (!pred()) await new Promise((r) => setTimeout(r, 10)); };
  return { seqs, statuses, client, waitFor };
}

test('frames reach a subscriber once each, in seq order, and are deleted from the outbox on PUBACK', async () => {
  const broker = await startBroker();
  const h = await setup(broker.url);
  const sub = await subscriber(broker.url, 'sub-1');
  try {
    h.publisher.start();
    await h.append(300);
    await h.append(200);
    await sub.waitFor(() => sub.seqs.length >= 500);
    assert.deepEqual(sub.seqs, Array.from({ length: 500 }, (_, i) => i + 1));
    await sub.waitFor(() => h.outbox.stats().pending === 0);
    assert.equal(h.publisher.stats().acked, 500);
    assert.deepEqual(sub.statuses.map((s) => s.state), [HubState.ONLINE]);
  } finally {
    await sub.client.endAsync();
    await h.cleanup();
    await broker.close();
  }
});

test('never more than the in-flight window is unacknowledged', async () => {
  const held: Array<() => void> = [];
  let maxHeld = 0;
  const broker = await startBroker(0, {
    // The broker sends no PUBACK until authorizePublish calls back: hold them to see the window.
    authorizePublish: (_client, packet, cb) => {
      if (!packet.topic.endsWith('/cross-section')) return cb(null);
      held.push(() => cb(null));
      maxHeld = Math.max(maxHeld, held.length);
    },
  });
  const h = await setup(broker.url, 16);
  try {
    h.publisher.start();
    await h.append(100);
    let released = 0;
    while (released < 100) {
      await new Promise((r) => setTimeout(r, 5));
      const batch = held.splice(0);
      released += batch.length;
      for (const f of batch) f();
    }
    assert.equal(maxHeld, 16, 'the window fills up to its bound and not beyond');
    while (h.outbox.stats().pending > 0) await new Promise((r) => setTimeout(r, 5));
  } finally {
    await h.cleanup();
    await broker.close();
  }
});

test('after the broker goes away and comes back on the same port, publishing resumes and nothing is lost', async () => {
  let broker = await startBroker();
  const port = broker.port;
  const h = await setup(broker.url, 32);
  try {
    h.publisher.start();
    await h.append(100);
    while (h.outbox.stats().pending > 0) await new Promise((r) => setTimeout(r, 5));
    await broker.close();
    // Frames made while the broker is down wait in the outbox.
    await h.append(150);
    assert.equal(h.outbox.stats().pending, 150);
    broker = await startBroker(port);
    const sub = await subscriber(broker.url, 'sub-2');
    await h.append(50);
    await sub.waitFor(() => new Set(sub.seqs).size >= 200);
    const got = [...new Set(sub.seqs)].sort((a, b) => a - b);
    assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i + 101));
    assert.ok(h.publisher.stats().reconnects >= 1);
    await sub.client.endAsync();
  } finally {
    await h.cleanup();
    await broker.close();
  }
});

test('a lost connection publishes the retained last will (offline); a graceful stop publishes offline "shutdown"', async () => {
  const broker = await startBroker();
  const h = await setup(broker.url);
  const sub = await subscriber(broker.url, 'sub-3');
  try {
    h.publisher.start();
    await sub.waitFor(() => sub.statuses.length === 1);
    // Cut the hub's TCP connection at the broker side: the broker must send the will.
    const clients = (broker.aedes as unknown as { clients: Record<string, { conn: Socket }> }).clients;
    assert.ok(clients['hub-p-test'], 'the hub is connected');
    clients['hub-p-test'].conn.destroy();
    await sub.waitFor(() => sub.statuses.some((s) => s.state === HubState.OFFLINE));
    const will = sub.statuses.find((s) => s.state === HubState.OFFLINE)!;
    assert.equal(will.reason, 'connection lost');
    // The will carries its connection's number, the same as that connection's birth.
    assert.equal(will.connection, sub.statuses[0]!.connection);
    assert.equal(will.connection, 1);
    // It reconnects and says it is online again; then a graceful stop.
    await sub.waitFor(() => sub.statuses.filter((s) => s.state === HubState.ONLINE).length === 2);
    assert.equal(sub.statuses.filter((s) => s.state === HubState.ONLINE)[1]!.connection, 2);
    await h.publisher.stop();
    await sub.waitFor(() => sub.statuses.at(-1)?.reason === 'shutdown');
    assert.equal(sub.statuses.at(-1)?.state, HubState.OFFLINE);
    // A new subscriber gets the retained status: the hub is offline.
    const late = await subscriber(broker.url, 'sub-late');
    await late.waitFor(() => late.statuses.length === 1);
    assert.deepEqual(late.statuses[0], { state: HubState.OFFLINE, reason: 'shutdown', connection: 2 });
    await late.client.endAsync();
  } finally {
    await sub.client.endAsync();
    await h.cleanup();
    await broker.close();
  }
});

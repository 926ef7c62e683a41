import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Receiver, type ReceiverOptions } from '../../src/receiver/receiver.js';
import { MosquittoBroker } from '../helpers/mosquitto.js';
import { skipUnless } from '../helpers/tools.js';
import { abortable, producer, RecordingSink, TestHub, trustFor, until } from './helpers.js';
import { makeTempDir } from '../helpers/tmp.js';

// MQTT 5 against mosquitto: aedes has neither MQTT 5 nor shared subscriptions.
const OPTIONS = { timeout: 15_000, skip: skipUnless('mosquitto') };
const hub = new TestHub('hub-m');
const trust = trustFor(['hub-m', hub]);

async function setup() {
  const broker = await MosquittoBroker.start();
  const dir = await makeTempDir('twinedge-rx-mosquitto-');
  const pub = await producer(broker.url, 5);
  const receivers: Receiver[] = [];
  const receiver = (sink: RecordingSink, stateName: string, opts: Partial<ReceiverOptions> = {}) => {
    const r = new Receiver({ brokerUrl: broker.url, trust, sink, stateDir: join(dir.path, stateName), mqttVersion: 5, reconnectMinMs: 20, reconnectMaxMs: 100, ...opts });
    receivers.push(r);
    return r;
  };
  return {
    pub, receiver,
    async cleanup() {
      for (const r of receivers) await r.stop(1000);
      await pub.close();
      await broker.close();
      await dir.remove();
    },
  };
}

test('two receivers in one share group together receive every frame exactly once', OPTIONS, async (t) => {
  const h = await setup();
  try {
    const [s1, s2] = [new RecordingSink(), new RecordingSink()];
    const r1 = h.receiver(s1, 'state-1', { share: 'twin' });
    const r2 = h.receiver(s2, 'state-2', { share: 'twin' });
    await abortable(Promise.all([r1.start(), r2.start()]), t.signal);
    assert.notEqual(r1.clientId, r2.clientId);
    const n = 200;
    await h.pub.send(Array.from({ length: n }, (_, i) => hub.crossSection(i + 1)));
    const total = () => s1.frames.length + s2.frames.length;
    await until([r1, r2], ['accepted'], () => total() >= n, t.signal);
    const all = [...s1.seqs, ...s2.seqs].sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: n }, (_, i) => i + 1), 'every frame once, none twice');
    assert.ok(s1.frames.length > 0 && s2.frames.length > 0, 'the broker shared the frames between both');
    assert.equal(r1.counters().rejected.duplicate + r2.counters().rejected.duplicate, 0);
  } finally {
    await h.cleanup();
  }
});

test('MQTT 5 session expiry keeps frames published while the receiver is away; the retained status is not sent twice', OPTIONS, async (t) => {
  const h = await setup();
  try {
    await h.pub.send([hub.status('online', 0)], { retain: true });
    const first = new RecordingSink();
    const r1 = h.receiver(first, 'state', { sessionExpiryS: 600 });
    await abortable(r1.start(), t.signal);
    await until(r1, ['accepted'], () => first.frames.length === 1, t.signal);
    assert.equal(first.frames[0]!.kind, 'status');
    await r1.stop();
    await h.pub.send(Array.from({ length: 50 }, (_, i) => hub.crossSection(i + 1)));
    const second = new RecordingSink();
    const r2 = h.receiver(second, 'state', { sessionExpiryS: 600 });
    await abortable(r2.start(), t.signal);
    // Frame 51 is published after the subscription was acknowledged, so a retained copy sent
    // for that subscription would come before it.
    await h.pub.send([hub.crossSection(51)]);
    await until(r2, ['accepted'], () => second.seqs.includes(51), t.signal);
    assert.deepEqual(second.seqs, Array.from({ length: 51 }, (_, i) => i + 1));
    assert.equal(r2.counters().rejected.duplicate, 0, 'resubscribing with retain handling 1 sends no retained copy');
  } finally {
    await h.cleanup();
  }
});

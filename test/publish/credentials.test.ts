// Username and password against a real mosquitto that refuses anonymous clients: a hub with the
// wrong password is refused (and keeps its frames, retrying); with the right one its frames
// reach the receiver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { generateHubKey } from '../../src/frames/keys.js';
import { Hub } from '../../src/hub/hub.js';
import { SimulatedSource } from '../../src/hub/simulated-source.js';
import { SystemClock } from '../../src/ops/clock.js';
import { createLogger, silentLogger } from '../../src/ops/log.js';
import { Receiver } from '../../src/receiver/receiver.js';
import type { Sink } from '../../src/receiver/sinks/sink.js';
import { TrustStore } from '../../src/receiver/trust.js';
import { MosquittoBroker } from '../helpers/mosquitto.js';
import { makeTempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

test('the hub authenticates with username and password; a wrong password is refused and retried', { skip: skipUnless('mosquitto', 'mosquitto_passwd') }, async () => {
  const dir = await makeTempDir('creds');
  const passwords = join(dir.path, 'passwd');
  for (const [user, pw] of [['hub-c', 'right horse battery'], ['twin', 'twin-pw']] as const) {
    const r = spawnSync('mosquitto_passwd', [...(user === 'hub-c' ? ['-c'] : []), '-b', passwords, user, pw]);
    assert.equal(r.status, 0, String(r.stderr));
  }
  const broker = await MosquittoBroker.start({ extraConfig: ['allow_anonymous false', `password_file ${passwords}`] });
  const key = generateHubKey();
  const seqs: number[] = [];
  const sink: Sink = { write: (f) => { if (f.kind !== 'status') seqs.push(f.seq); }, close: async () => {} };
  const receiver = new Receiver({
    brokerUrl: broker.url, username: 'twin', password: 'twin-pw', clientId: 'twin-rx', stateDir: join(dir.path, 'rx'), sink,
    trust: new TrustStore([{ hubId: 'hub-c', publicKey: key.publicKey, source: 'test' }]), log: silentLogger(),
  });
  const makeHub = (password: string, logs: string[] = []) => {
    const clock = new SystemClock('assume-synced');
    const log = createLogger('warn', new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } }));
    return new Hub({
      hubId: 'hub-c', dataDir: join(dir.path, 'hub'), key, clock,
      broker: { url: broker.url, clientId: 'hub-c', username: 'hub-c', password, keepaliveS: 10, connectTimeoutMs: 2000, reconnectMinMs: 50, reconnectMaxMs: 200 },
      inflight: 16, outbox: { quotaBytes: 1 << 20, sync: 'batch', maxBatch: 100 }, subjects: ['s1'],
      source: new SimulatedSource({ subjects: ['s1'], windowMs: 50, clock }), configSha256: '', log,
    });
  };
  try {
    await receiver.start();
    const logs: string[] = [];
    const wrong = makeHub('wrong', logs);
    await wrong.start();
    await until(() => logs.some((l) => /broker connection error/.test(l) && /authori[sz]ed/i.test(l)), 'the refusal to be logged');
    await until(() => wrong.stats().outbox.pending >= 5, 'frames kept while refused');
    assert.equal(wrong.stats().publisher.connected, false);
    await wrong.stop();
    assert.deepEqual(seqs, [], 'nothing got through with the wrong password');

    const right = makeHub('right horse battery');
    await right.start();
    await until(() => seqs.length >= 10, 'frames with the right password');
    await right.stop();
    // The frames made while refused were kept and are delivered first, in order.
    assert.deepEqual(seqs.slice(0, 10), Array.from({ length: 10 }, (_, i) => i + 1));
  } finally {
    await receiver.stop().catch(() => {});
    await broker.close();
    await dir.remove();
  }
});

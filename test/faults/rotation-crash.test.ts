// Key rotation under SIGKILL: a real `twinedge run` with hub.next_key_file rotates at start, and
// is killed at random moments (before the rotation can have been stored, just after its handover
// was published, later), then restarted on the same data folder. Afterwards the receiver holds
// every seq from 1 to the hub's last, the hub announced its new key exactly once, every frame up
// to the handover is signed by the old key and every frame after it by the new one, and no seq
// was ever used for two different frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { decodeBody, decodeSigned, HubState } from '../../src/frames/codec.js';
import { generateHubKey, writeKeyFiles } from '../../src/frames/keys.js';
import { silentLogger } from '../../src/ops/log.js';
import { Receiver } from '../../src/receiver/receiver.js';
import type { Sink } from '../../src/receiver/sinks/sink.js';
import { TrustStore } from '../../src/receiver/trust.js';
import { startAedes } from '../helpers/aedes.js';
import { until } from '../helpers/wait.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;

function startDaemon(config: string): ChildProcess {
  return spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function kill(daemon: ChildProcess): Promise<void> {
  if (daemon.exitCode === null && daemon.signalCode === null) {
    daemon.kill('SIGKILL');
    await once(daemon, 'exit');
  }
}

test('a daemon SIGKILLed around its key rotation announces the new key once and loses nothing', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-rotation-crash-'));
  const broker = await startAedes();
  const oldKey = generateHubKey();
  const newKey = generateHubKey();
  await writeKeyFiles(join(dir, 'hub'), oldKey);
  await writeKeyFiles(join(dir, 'hub-next'), newKey);
  const config = join(dir, 'hub.yaml');
  await writeFile(config, [
    'hub:', '  id: hub-rc', `  data_dir: ${join(dir, 'data')}`, `  key_file: ${join(dir, 'hub.key')}`, `  next_key_file: ${join(dir, 'hub-next.key')}`,
    'subjects:', '  - ref: s1', '  - ref: s2',
    'broker:', `  url: ${broker.url}`, '  reconnect_min_ms: 50', '  reconnect_max_ms: 200',
    'source:', '  simulated:', '    window_s: 0.02',
    'log:', '  level: warn', '',
  ].join('\n'));

  const keyOf = new Map<number, string>();
  const sink: Sink = { write: (f) => { if (f.seq > 0) keyOf.set(f.seq, f.key_id); }, close: async () => {} };
  // The receiver trusts the old key only: it must follow the handover to the new one.
  const receiver = new Receiver({
    brokerUrl: broker.url, mqttVersion: 4, clientId: 'twin-receiver', stateDir: join(dir, 'receiver'), sink,
    trust: new TrustStore([{ hubId: 'hub-rc', publicKey: oldKey.publicKey, source: 'test' }]), log: silentLogger(),
  });
  // A raw subscriber sees every copy of every frame, accepted or not.
  const bodiesBySeq = new Map<number, string>();
  const reused: number[] = [];
  const handoverSeqs = new Set<number>();
  const raw = await mqtt.connectAsync(broker.url, { clientId: 'raw-witness', clean: false });
  raw.on('message', (_t, payload) => {
    const body = decodeSigned(payload).body;
    const decoded = decodeBody(body);
    if (decoded.seq === 0) return;
    if (decoded.status?.next_key) handoverSeqs.add(decoded.seq);
    const digest = createHash('sha256').update(body).digest('hex');
    const known = bodiesBySeq.get(decoded.seq);
    if (known !== undefined && known !== digest) reused.push(decoded.seq);
    bodiesBySeq.set(decoded.seq, digest);
  });
  await raw.subscribeAsync('twin/v1/#', { qos: 1 });

  let daemon: ChildProcess | undefined;
  try {
    await receiver.start();
    // 1: killed at a random moment of its start, before or after the rotation was stored.
    daemon = startDaemon(config);
    await new Promise((r) => setTimeout(r, Math.random() * 1500));
    await kill(daemon);
    // 2: killed as soon as its handover was published.
    daemon = startDaemon(config);
    await until(() => handoverSeqs.size > 0, 'the handover to be published');
    await kill(daemon);
    // 3 and 4: killed at random after producing more.
    for (let round = 0; round < 2; round++) {
      daemon = startDaemon(config);
      const before = keyOf.size;
      await until(() => keyOf.size > before + 5, `round ${round} to publish`);
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      await kill(daemon);
    }
    // A last run that ends gracefully, so the hub's final seq is known from its offline status.
    daemon = startDaemon(config);
    const before = keyOf.size;
    await until(() => keyOf.size > before + 5, 'the last run to publish');
    daemon.kill('SIGTERM');
    const [code] = await once(daemon, 'exit');
    assert.equal(code, 0, 'a graceful stop exits 0');
    await until(() => receiver.latestStatus('hub-rc')?.body.status?.state === HubState.OFFLINE && receiver.latestStatus('hub-rc')?.body.status?.reason === 'shutdown', 'the shutdown status');
    const last = receiver.latestStatus('hub-rc')!.body.status!.last_seq!;
    await until(() => (receiver.watermark('hub-rc') ?? 0) >= last, `every seq up to ${last}`);

    assert.deepEqual([...handoverSeqs], [[...handoverSeqs][0]], 'one handover, whatever was killed when');
    const h = [...handoverSeqs][0]!;
    assert.deepEqual([...keyOf.keys()].sort((a, b) => a - b), Array.from({ length: last }, (_, i) => i + 1), 'every seq 1..last received once');
    for (const [seq, keyId] of keyOf) assert.equal(keyId, seq <= h ? oldKey.keyId : newKey.keyId, `seq ${seq} (handover at ${h})`);
    assert.deepEqual(reused, [], 'no seq was used for two different frames');
    assert.deepEqual(receiver.missing('hub-rc'), []);
    const rejected = receiver.counters().rejected;
    assert.deepEqual([rejected.unknown_key, rejected.key_retired, rejected.key_not_yet_valid, rejected.bad_handover], [0, 0, 0, 0]);
  } finally {
    if (daemon) await kill(daemon);
    await raw.endAsync();
    await receiver.stop().catch(() => {});
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

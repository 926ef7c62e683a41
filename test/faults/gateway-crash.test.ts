// Gateway crash: the daemon (a real `twinedge run` process) is SIGKILLed at random moments while
// it produces, and restarted on the same data folder each time. Afterwards the receiver holds
// every seq from 1 to the last one the hub ever appended, and no seq was ever used for two
// different frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAedes } from '../helpers/aedes.js';
import { until } from '../helpers/wait.js';
import mqtt from 'mqtt';
import { decodeBody, decodeSigned, HubState } from '../../src/frames/codec.js';
import { generateHubKey, writeKeyFiles } from '../../src/frames/keys.js';
import { silentLogger } from '../../src/ops/log.js';
import { Receiver } from '../../src/receiver/receiver.js';
import type { Sink } from '../../src/receiver/sinks/sink.js';
import { TrustStore } from '../../src/receiver/trust.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;


function startDaemon(config: string): ChildProcess {
  return spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
}

test('a daemon SIGKILLed again and again loses no appended frame and never reuses a seq', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-crash-'));
  const broker = await startAedes();
  const url = broker.url;

  const key = generateHubKey();
  await writeKeyFiles(join(dir, 'hub'), key);
  const config = join(dir, 'hub.yaml');
  await writeFile(config, [
    'hub:', '  id: hub-crash', `  data_dir: ${join(dir, 'data')}`, `  key_file: ${join(dir, 'hub.key')}`,
    'subjects:', '  - ref: s1', '  - ref: s2',
    'broker:', `  url: ${url}`, '  reconnect_min_ms: 50', '  reconnect_max_ms: 200',
    'source:', '  simulated:', '    window_s: 0.02',
    'log:', '  level: warn', '',
  ].join('\n'));

  const accepted = new Set<number>();
  const sink: Sink = { write: (f) => { if (f.kind !== 'status') accepted.add(f.seq); }, close: async () => {} };
  const receiver = new Receiver({
    brokerUrl: url, mqttVersion: 4, clientId: 'twin-receiver', stateDir: join(dir, 'receiver'), sink,
    trust: new TrustStore([{ hubId: 'hub-crash', publicKey: key.publicKey, source: 'test' }]), log: silentLogger(),
  });
  // A second, raw subscriber sees every copy of every frame: a seq reused for another frame
  // would show up as two different bodies under one seq.
  const bodiesBySeq = new Map<number, string>();
  const reused: number[] = [];
  const offline: string[] = [];
  const raw = await mqtt.connectAsync(url, { clientId: 'raw-witness', clean: false });
  raw.on('message', (_t, payload) => {
    const body = decodeSigned(payload).body;
    const decoded = decodeBody(body);
    if (decoded.kind === 'status') {
      if (decoded.status!.state === HubState.OFFLINE) offline.push(decoded.status!.reason ?? '');
      return;
    }
    const digest = createHash('sha256').update(body).digest('hex');
    const known = bodiesBySeq.get(decoded.seq);
    if (known !== undefined && known !== digest) reused.push(decoded.seq);
    bodiesBySeq.set(decoded.seq, digest);
  });
  await raw.subscribeAsync('twin/v1/#', { qos: 1 });

  try {
    await receiver.start();
    for (let round = 0; round < 4; round++) {
      const daemon = startDaemon(config);
      const before = accepted.size;
      // Kill at a random moment after it has produced something new.
      await until(() => accepted.size > before + 5, `round ${round} to publish`);
      await new Promise((r) => setTimeout(r, Math.random() * 400));
      daemon.kill('SIGKILL');
      await once(daemon, 'exit');
    }
    // A last run that ends gracefully, so the hub's final seq is known from its offline status.
    const daemon = startDaemon(config);
    const before = accepted.size;
    await until(() => accepted.size > before + 5, 'the last run to publish');
    daemon.kill('SIGTERM');
    const [code] = await once(daemon, 'exit');
    assert.equal(code, 0, 'a graceful stop exits 0');
    await until(() => receiver.latestStatus('hub-crash')?.body.status?.state === HubState.OFFLINE, 'the shutdown status');
    const last = receiver.latestStatus('hub-crash')!.body.status!.last_seq!;
    await until(() => (receiver.watermark('hub-crash') ?? 0) >= last, `every seq up to ${last}`);

    assert.ok(last > 20);
    assert.deepEqual([...accepted].sort((a, b) => a - b), Array.from({ length: last }, (_, i) => i + 1), 'every seq 1..last received once');
    assert.deepEqual(receiver.missing('hub-crash'), []);
    assert.deepEqual(reused, [], 'no seq was used for two different frames');
    assert.ok(offline.filter((r) => r === 'connection lost').length >= 1, 'the broker sent the last will of a killed hub');
    assert.equal(offline.at(-1), 'shutdown');
  } finally {
    await raw.endAsync();
    await receiver.stop().catch(() => {});
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

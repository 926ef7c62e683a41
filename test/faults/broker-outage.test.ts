// Broker down: a real mosquitto process is stopped for several seconds while the daemon (a real
// `twinedge run` process) keeps producing, then started again on the same port. Afterwards the
// receiver holds every seq from the first to the last, none twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubState } from '../../src/frames/codec.js';
import { generateHubKey, writeKeyFiles } from '../../src/frames/keys.js';
import { silentLogger } from '../../src/ops/log.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { JsonlSink } from '../../src/receiver/sinks/jsonl-sink.js';
import { TrustStore } from '../../src/receiver/trust.js';
import { MosquittoBroker } from '../helpers/mosquitto.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;

test('a broker stopped mid-stream and restarted: every seq arrives, none twice', { skip: skipUnless('mosquitto') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-outage-'));
  const broker = await MosquittoBroker.start();
  const key = generateHubKey();
  await writeKeyFiles(join(dir, 'hub'), key);
  const config = join(dir, 'hub.yaml');
  await writeFile(config, [
    'hub:', '  id: hub-outage', '  data_dir: data', '  key_file: hub.key',
    'subjects:', '  - ref: s1', '  - ref: s2', '  - ref: s3',
    'broker:', `  url: ${broker.url}`, '  reconnect_min_ms: 100', '  reconnect_max_ms: 500',
    'source:', '  simulated:', '    window_s: 0.02',
    'log:', '  level: warn', '',
  ].join('\n'));
  const out = join(dir, 'frames.jsonl');
  const receiver = new Receiver({
    brokerUrl: broker.url, clientId: 'twin-receiver', stateDir: join(dir, 'receiver'), sink: new JsonlSink({ path: out }),
    trust: new TrustStore([{ hubId: 'hub-outage', publicKey: key.publicKey, source: 'test' }]),
    reconnectMinMs: 100, reconnectMaxMs: 500, log: silentLogger(),
  });
  let accepted = 0;
  receiver.on('accepted', (f) => { if (f.kind !== 'status') accepted++; });
  const daemon = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await receiver.start();
    await until(() => accepted > 100, 'frames before the outage');
    await broker.stop();
    // Several seconds down while the hub keeps producing (about 150 frames/s) into its outbox.
    await new Promise((r) => setTimeout(r, 3000));
    const beforeRestart = accepted;
    await broker.start();
    await until(() => accepted > beforeRestart + 600, 'the backlog and new frames after the restart');
    daemon.kill('SIGTERM');
    const [code] = await once(daemon, 'exit');
    assert.equal(code, 0);
    await until(() => receiver.latestStatus('hub-outage')?.body.status?.reason === 'shutdown', 'the shutdown status');
    const last = receiver.latestStatus('hub-outage')!.body.status!.last_seq!;
    await until(() => (receiver.watermark('hub-outage') ?? 0) >= last, `every seq up to ${last}`);
    await receiver.stop();

    const seqs = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; seq: number })
      .filter((r) => r.kind !== 'status').map((r) => r.seq);
    assert.ok(last > 700, `the hub produced through the outage (last seq ${last})`);
    assert.equal(new Set(seqs).size, seqs.length, 'no seq reached the sink twice');
    assert.deepEqual([...seqs].sort((a, b) => a - b), Array.from({ length: last }, (_, i) => i + 1), 'every seq from 1 to the last');
    assert.deepEqual(receiver.missing('hub-outage'), []);
    assert.equal(receiver.latestStatus('hub-outage')!.body.status!.state, HubState.OFFLINE);
  } finally {
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
    await receiver.stop().catch(() => {});
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

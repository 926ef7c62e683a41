// twinedge mark as a child process against `twinedge run` as another, with a real broker
// (aedes) and the reference receiver: an event is checked locally first (a bad flag is named and
// nothing is sent), posted with the hub's token, recorded once per id, and reaches the receiver
// as a verified event frame; without a hub, the command says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EventKind } from '../../src/frames/codec.js';
import { generateHubKey, writeKeyFiles } from '../../src/frames/keys.js';
import { silentLogger } from '../../src/ops/log.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { TrustStore } from '../../src/receiver/trust.js';
import type { AcceptedFrame } from '../../src/receiver/verify.js';
import { startAedesFor } from '../helpers/aedes.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
const ENV = { ...process.env, TWINEDGE_BROKER_URL: '', TWINEDGE_KEY_FILE: '' };

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const [code] = await once(child, 'exit');
  return { code: code as number, stdout, stderr };
}

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('mark records an event on the running hub once per id; a bad flag is refused before anything is sent', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const key = generateHubKey();
  await writeKeyFiles(join(dir, 'hub'), key);
  const port = await freePort();
  const config = join(dir, 'c.yaml');
  await writeFile(config, [
    'hub:', '  id: hub-mark', '  key_file: hub.key', '  data_dir: data', '  clock_sync: assume-synced',
    'subjects:', '  - ref: p-1', `broker:`, `  url: ${broker.url}`, '  reconnect_min_ms: 50',
    'source:', '  simulated:', '    window_s: 3600', 'http:', `  port: ${port}`, '',
  ].join('\n'));

  const frames: AcceptedFrame[] = [];
  const receiver = new Receiver({
    brokerUrl: broker.url, mqttVersion: 4, clientId: 'twin-rx-mark', stateDir: join(dir, 'rx'),
    sink: { write: (f) => { frames.push(f); }, close: async () => {} },
    trust: new TrustStore([{ hubId: 'hub-mark', publicKey: key.publicKey, source: 'test' }]), log: silentLogger(),
  });
  await receiver.start();
  t.after(() => receiver.stop());

  const hub: ChildProcess = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
  let hubOut = '';
  let hubErr = '';
  hub.stdout!.on('data', (d: Buffer) => (hubOut += d));
  hub.stderr!.on('data', (d: Buffer) => (hubErr += d));
  const hubExit = once(hub, 'exit');
  t.after(() => { if (hub.exitCode === null) hub.kill('SIGKILL'); });
  await until(() => hubOut.includes('"msg":"HTTP listening"') || hub.exitCode !== null, 'the hub to serve HTTP');
  assert.equal(hub.exitCode, null, hubErr);
  const hubLog = () => hubOut.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; port?: number; eventId?: string; repeated?: boolean });
  assert.equal(hubLog().find((l) => l.msg === 'HTTP listening')!.port, port);

  const recorded = await run(['mark', '--config', config, '--subject', 'p-1', '--kind', 'medication', '--code', 'ATC:N02BE01', '--dose', '500', '--unit', 'mg', '--note', 'evening dose', '--json']);
  assert.equal(recorded.code, 0, recorded.stderr);
  const answer = JSON.parse(recorded.stdout) as { seq: number; repeated: boolean; event: Record<string, unknown> };
  assert.equal(answer.repeated, false);
  assert.deepEqual({ ...answer.event, event_id: 'x', at_ms: 0, at: '' }, { event_id: 'x', kind: 'medication', code: 'ATC:N02BE01', dose: 500, dose_unit: 'mg', at_ms: 0, at: '', note: 'evening dose', source: 'cli' });

  // An hour ago, in whole seconds: inside the hub's limits whatever this machine's date.
  const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000).toISOString();
  const once1 = await run(['mark', '--config', config, '--subject', 'p-1', '--kind', 'meal', '--at', at, '--id', 'meal-1']);
  const once2 = await run(['mark', '--url', `http://127.0.0.1:${port}`, '--token-file', join(dir, 'data', 'http.token'), '--subject', 'p-1', '--kind', 'meal', '--at', at, '--id', 'meal-1']);
  assert.equal(once1.code, 0, once1.stderr);
  const seq1 = new RegExp(`^recorded: meal at ${at.replace(/\./g, '\\.')} for p-1, seq (\\d+), event meal-1\n$`).exec(once1.stdout)?.[1];
  assert.ok(seq1 !== undefined && Number(seq1) > answer.seq, once1.stdout);
  assert.equal(once2.code, 0, once2.stderr);
  assert.equal(once2.stdout, `already recorded: meal at ${at} for p-1, seq ${seq1}, event meal-1\n`);

  const bad = await run(['mark', '--config', config, '--subject', 'p-2', '--kind', 'pill', '--dose=-1', '--unit', 'mg']);
  assert.equal(bad.code, 2);
  assert.deepEqual(bad.stderr.trim().split('\n').map((l) => /^twinedge mark: (--\w+): .*\[EVENT_INVALID\]$/.exec(l)?.[1]), ['--subject', '--kind', '--dose']);
  await writeFile(join(dir, 'other.token'), `${'f'.repeat(64)}\n`, { mode: 0o600 });
  const wrongToken = await run(['mark', '--url', `http://127.0.0.1:${port}`, '--token-file', join(dir, 'other.token'), '--subject', 'p-1', '--kind', 'sleep']);
  assert.equal(wrongToken.code, 2);
  assert.match(wrongToken.stderr, /\[HTTP_TOKEN_REFUSED\]/);
  const foreign = await run(['mark', '--url', 'http://192.0.2.1:8470', '--token-file', join(dir, 'other.token'), '--subject', 'p-1', '--kind', 'sleep']);
  assert.equal(foreign.code, 2, 'the token is never sent off the machine');
  assert.match(foreign.stderr, /loopback.*\[USAGE_BAD_ARGUMENT\]/);

  const recordedIds = hubLog().filter((l) => l.msg === 'event recorded').map((l) => l.eventId);
  const expected = 2;
  assert.equal(recordedIds.length, expected, 'only the good marks reached the hub, each once');
  await until(() => frames.filter((f) => f.kind === 'event').length >= expected, 'the event frames at the receiver');
  const events = frames.filter((f) => f.kind === 'event');
  assert.equal(events.length, expected);
  assert.equal(events[0]!.seq, answer.seq);
  assert.equal(events[0]!.body.subject_ref, 'p-1');
  assert.equal(events[0]!.body.event!.kind, EventKind.MEDICATION);
  assert.equal(events[0]!.body.event!.code, 'ATC:N02BE01');
  assert.equal(events[0]!.body.event!.event_id, answer.event.event_id);
  assert.equal(events[0]!.body.event!.source, 'cli');

  hub.kill('SIGTERM');
  const [code] = await hubExit;
  assert.equal(code, 0, hubErr);
  const down = await run(['mark', '--config', config, '--subject', 'p-1', '--kind', 'meal']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach the hub at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): is the hub running\? \[HUB_UNREACHABLE\]/);
});

test('mark needs the hub\'s config, or its URL and token file', async () => {
  const neither = await run(['mark', '--subject', 'p-1', '--kind', 'meal']);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /--config FILE .* or --url URL with --token-file FILE \[USAGE_BAD_ARGUMENT\]/);
  const both = await run(['mark', '--config', 'c.yaml', '--url', 'http://127.0.0.1:1', '--subject', 'p-1', '--kind', 'meal']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /not both \[USAGE_BAD_ARGUMENT\]/);
});

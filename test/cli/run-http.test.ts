// The daemon's HTTP endpoint as `twinedge run` starts it: a token file others can read stops the
// hub before anything starts (exit 2); --http-port 0 picks a port and logs it; a port already
// taken is logged and the hub runs on without HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { generateHubKey, writeKeyFiles } from '../../src/frames/keys.js';
import { tempDir } from '../helpers/tmp.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;

interface Line { level: number; msg: string; port?: number; code?: string; lastSeq?: number }

/** Runs `twinedge run`; sends SIGTERM once `stopWhen` holds for the log so far. */
async function run(args: string[], stopWhen?: (lines: Line[]) => boolean) {
  const child = spawn(process.execPath, [CLI, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TWINEDGE_BROKER_URL: '', TWINEDGE_KEY_FILE: '' } });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  const lines = () => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    if (!signalled && stopWhen?.(lines())) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const [code] = await once(child, 'exit');
  return { code: code as number, stdout, stderr, lines: lines() };
}

async function hubDir(t: { after(fn: () => Promise<void>): void }, http: string): Promise<{ dir: string; config: string }> {
  const dir = await tempDir(t);
  await writeKeyFiles(join(dir, 'hub'), generateHubKey());
  const config = join(dir, 'c.yaml');
  // Port 9 refuses connections: the hub keeps running and retrying the broker.
  await writeFile(config, `hub:\n  id: h1\n  key_file: hub.key\n  data_dir: data\nbroker:\n  url: mqtt://127.0.0.1:9\n  reconnect_min_ms: 50\n  reconnect_max_ms: 100\nsource:\n  simulated:\n    window_s: 3600\n${http}`);
  return { dir, config };
}

test('a token file that others can read stops the hub before it starts, exit 2', async (t) => {
  const { dir, config } = await hubDir(t, 'http:\n  token_file: secret/token\n');
  await mkdir(join(dir, 'secret'));
  await writeFile(join(dir, 'secret', 'token'), `${'a'.repeat(64)}\n`, { mode: 0o644 });
  const r = await run(['--config', config]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /secret\/token: other users can read or write the token file \(mode 0644\); run chmod 600 .*\[HTTP_TOKEN_EXPOSED\]/);
  assert.equal(r.stdout, '', 'nothing started');
  const badPort = await run(['--config', config, '--http-port', '70000']);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--http-port must be a port.*\[USAGE_BAD_ARGUMENT\]/);
});

test('--http-port 0 picks a port and logs it; the token file is made 0600 beside the config', async (t) => {
  const { dir, config } = await hubDir(t, 'http:\n  enabled: off\n  token_file: run/token\n');
  const r = await run(['--config', config, '--http-port', '0'], (lines) => lines.some((l) => l.msg === 'HTTP listening'));
  assert.equal(r.code, 0, r.stderr);
  const listening = r.lines.find((l) => l.msg === 'HTTP listening');
  assert.ok(listening && listening.port! > 0, 'the chosen port is logged');
  assert.equal((await stat(join(dir, 'run', 'token'))).mode & 0o777, 0o600);
});

test('a port already taken is logged and the hub runs on without HTTP', async (t) => {
  const taken = createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  t.after(() => new Promise<void>((r) => taken.close(() => r())));
  const port = (taken.address() as { port: number }).port;
  const { config } = await hubDir(t, `http:\n  port: ${port}\n`);
  const r = await run(['--config', config], (lines) => lines.some((l) => l.msg === 'broker connection error') && lines.some((l) => l.code === 'HTTP_LISTEN_FAILED'));
  assert.equal(r.code, 0, r.stderr);
  const failed = r.lines.find((l) => l.code === 'HTTP_LISTEN_FAILED');
  assert.ok(failed, 'the failure is logged with its code');
  assert.equal(failed.level, 50);
  assert.ok(r.lines.some((l) => l.msg === 'hub stopped'), 'the hub ran and stopped gracefully');
});

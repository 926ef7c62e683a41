import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHubKey, writeKeyFiles } from '../../src/frames/keys.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;

async function run(args: string[], opts: { killAfterStdout?: RegExp } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TWINEDGE_BROKER_URL: '' } });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    // Once: a second SIGTERM means "exit now" (status 1).
    if (!signalled && opts.killAfterStdout?.test(stdout)) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const [code] = await once(child, 'exit');
  return { code: code as number, stdout, stderr };
}

test('twinedge run refuses each kind of bad config before starting anything, exit 2, one line each', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-run-'));
  try {
    const cases: Array<[string, string, RegExp]> = [
      ['unknown key', 'hub:\n  id: h1\n  kee_file: x\n', /c\.yaml:3 hub\.kee_file: unknown key .*\[CONFIG_KEY_UNKNOWN\]/],
      ['wrong type', 'hub:\n  id: h1\npublish:\n  inflight: many\n', /c\.yaml:4 publish\.inflight: .*\[CONFIG_VALUE_INVALID\]/],
      ['missing key', 'subjects:\n  - ref: a\nhub:\n  data_dir: x\n', /c\.yaml:\d+ hub\.id: .*\[CONFIG_KEY_MISSING\]/],
      ['yaml syntax', 'hub:\n  id: [\n', /c\.yaml:\d+: .*\[CONFIG_YAML_SYNTAX\]/],
    ];
    for (const [what, text, expected] of cases) {
      await writeFile(join(dir, 'c.yaml'), text);
      const r = await run(['run', '--config', join(dir, 'c.yaml')]);
      assert.equal(r.code, 2, what);
      assert.match(r.stderr, expected, what);
      assert.equal(r.stdout, '', `${what}: nothing started, nothing logged`);
    }
    const missing = await run(['run', '--config', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yaml: cannot read config: ENOENT \[CONFIG_FILE_UNREADABLE\]/);
    const usage = await run(['run']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /\[USAGE_BAD_ARGUMENT\]/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('twinedge run refuses a missing, unreadable-by-others or foreign key with exit 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-run-'));
  try {
    const config = join(dir, 'c.yaml');
    await writeFile(config, `hub:\n  id: h1\n  key_file: hub.key\n  data_dir: data\nbroker:\n  url: mqtt://127.0.0.1:9\n`);
    let r = await run(['run', '--config', config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /hub\.key: cannot read key file: ENOENT \[KEY_FILE_UNREADABLE\]/);
    await writeKeyFiles(join(dir, 'hub'), generateHubKey());
    await chmod(join(dir, 'hub.key'), 0o644);
    r = await run(['run', '--config', config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\[KEY_FILE_EXPOSED\]/);
    await writeFile(join(dir, 'hub.key'), 'not a key', { mode: 0o600 });
    await chmod(join(dir, 'hub.key'), 0o600);
    r = await run(['run', '--config', config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\[KEY_FILE_INVALID\]/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('with a good config and no broker, twinedge run starts, keeps its frames and stops cleanly on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-run-'));
  try {
    await writeKeyFiles(join(dir, 'hub'), generateHubKey());
    const config = join(dir, 'c.yaml');
    // Port 9 (discard) refuses connections: the hub must keep running and retrying.
    await writeFile(config, `hub:\n  id: h1\n  key_file: hub.key\n  data_dir: data\nbroker:\n  url: mqtt://127.0.0.1:9\n  reconnect_min_ms: 50\n  reconnect_max_ms: 100\nsource:\n  simulated:\n    window_s: 0.05\n`);
    const r = await run(['run', '--config', config], { killAfterStdout: /"msg":"broker connection error"/ });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; lastSeq?: number });
    assert.equal(lines[0]!.msg, 'hub starting');
    const stopped = lines.find((l) => l.msg === 'hub stopped');
    assert.ok(stopped, 'logged its graceful stop');
    assert.ok((stopped.lastSeq ?? 0) >= 1, 'frames were appended while the broker was unreachable');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

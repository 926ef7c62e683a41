import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, cp, lstat, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ID_PATTERN_SOURCE } from '../../src/config/schema.js';
import { loadHubKey } from '../../src/frames/keys.js';
import { tempDir } from '../helpers/tmp.js';

const REPO = new URL('../..', import.meta.url).pathname;
// One real install: npm ci, the TypeScript build and the prune, as on a hub.
const TIMEOUT = { timeout: 600_000 };
const NOT_SOURCES = new Set(['.git', 'node_modules', 'dist', 'data', 'test']);

/**
 * A copy of the checkout without its installed or built parts: the script installs from the
 * folder it is in, and a copy cannot change between the two runs that must match.
 */
async function checkout(dir: string): Promise<string> {
  const copy = join(dir, 'checkout');
  await cp(REPO, copy, { recursive: true, filter: (p) => !NOT_SOURCES.has(relative(REPO, p)) });
  return copy;
}

async function install(source: string, ...args: string[]) {
  const child = spawn('bash', [join(source, 'scripts/install.sh'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = await once(child, 'close');
  return { code: code as number, stdout, stderr };
}

async function run(cmd: string, args: string[]) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.resume();
  const [code] = await once(child, 'close');
  return { code: code as number, stdout };
}

/** Every path under `dir` with its type, mode, owner, size and modification time. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (p: string): Promise<void> => {
    const s = await lstat(p);
    out.set(p.slice(dir.length) || '/', `${s.mode.toString(8)} ${s.uid}:${s.gid} ${s.size} ${s.mtimeMs}`);
    if (s.isDirectory()) for (const e of await readdir(p)) await walk(join(p, e));
  };
  await walk(dir);
  return out;
}

const mode = async (p: string) => ((await stat(p)).mode & 0o777).toString(8);

test('install.sh --dry-run says what it would do and leaves the staging root untouched', TIMEOUT, async (t) => {
  const root = join(await tempDir(t), 'root');
  const r = await install(REPO, '--root', root, '--dry-run');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(root), false, 'nothing was created');
  for (const what of ['etc/twinedge', 'var/lib/twinedge', 'opt/twinedge', 'config.yaml', 'hub.key', 'twinedge.service']) {
    assert.match(r.stderr, new RegExp(`would: .*${what.replace('.', '\\.')}`), what);
  }
});

test('install.sh --root lays out a hub: the built app, a config the loader accepts, a 0600 key, the unit; a second run changes nothing, and a loosened key is tightened', TIMEOUT, async (t) => {
  const dir = await tempDir(t, 'twinedge-install-');
  const source = await checkout(dir);
  const root = join(dir, 'root');
  const first = await install(source, '--root', root);
  assert.equal(first.code, 0, first.stderr);

  const app = join(root, 'opt/twinedge');
  assert.ok(existsSync(join(app, 'dist/src/cli/main.js')), 'the compiled app');
  assert.equal(existsSync(join(app, 'src/cli/main.ts')), false, 'no sources: the launcher runs the build');
  assert.ok(existsSync(join(app, 'src/embeddings/models')), 'the shipped encoders');
  assert.equal(existsSync(join(app, 'node_modules/typescript')), false, 'dev dependencies pruned');
  const hr = await run(process.execPath, [join(app, 'scripts/twinedge.js'), 'decode', '--profile', 'bluetooth-sig/heart-rate', '--hex', '0048', '--json']);
  assert.equal(hr.code, 0);
  assert.deepEqual((JSON.parse(hr.stdout) as { samples: unknown[] }).samples, [{ channel: 'hr', value: 72, unit: '/min' }]);

  assert.equal(await mode(join(root, 'etc/twinedge')), '750');
  assert.equal(await mode(join(root, 'var/lib/twinedge')), '700');
  assert.deepEqual(readdirSync(join(root, 'var/lib/twinedge')), []);
  assert.equal(await mode(join(root, 'etc/twinedge/config.yaml')), '640');
  assert.equal(await mode(join(root, 'etc/twinedge/hub.key')), '600');
  assert.ok(existsSync(join(root, 'etc/twinedge/hub.pub')));
  assert.equal(
    readFileSync(join(root, 'etc/systemd/system/twinedge.service'), 'utf8'),
    readFileSync(join(source, 'scripts/systemd/twinedge.service'), 'utf8'),
  );

  // What `twinedge run --config /etc/twinedge/config.yaml` reads first, checked by its own loader.
  const config = await loadConfig(join(root, 'etc/twinedge/config.yaml'), {});
  assert.equal(config.hub.data_dir, '/var/lib/twinedge');
  assert.equal(config.hub.key_file, '/etc/twinedge/hub.key');
  assert.match(config.hub.id, new RegExp(ID_PATTERN_SOURCE));
  assert.notEqual(config.hub.id, 'bedside-01', 'the example id is replaced');
  const key = await loadHubKey(join(root, config.hub.key_file));
  assert.ok(first.stdout.includes(key.keyId), 'the key_id is printed');

  const before = await snapshot(root);
  const second = await install(source, '--root', root);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /nothing to change/);
  assert.deepEqual(await snapshot(root), before);

  // The hub refuses a key that others can read, and says so; a re-run sets it back to 0600.
  const keyFile = join(root, config.hub.key_file);
  await chmod(keyFile, 0o644);
  await assert.rejects(loadHubKey(keyFile), { code: 'KEY_FILE_EXPOSED' });
  const dry = await install(source, '--root', root, '--dry-run');
  assert.match(dry.stderr, /would: chmod 0600 .*hub\.key/);
  assert.equal(await mode(keyFile), '644', 'a dry run changes nothing');
  const third = await install(source, '--root', root);
  assert.equal(third.code, 0, third.stderr);
  assert.equal(await mode(keyFile), '600');
  assert.equal((await loadHubKey(keyFile)).keyId, key.keyId, 'the same key, never a new one');
});

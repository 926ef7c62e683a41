// twinedge keys generate --x25519, twinedge keys rotate, and receive --open-key's checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { loadHubKey } from '../../src/frames/keys.js';
import { loadOpenKey, loadSealRecipient } from '../../src/frames/seal.js';
import { tempDir } from '../helpers/tmp.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
const TIMEOUT = { timeout: 30_000 };
const twinedge = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('keys generate --x25519 makes the twin server\'s sealing pair', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  const r = twinedge('keys', 'generate', '--x25519', '--out', join(dir, 'server'));
  assert.equal(r.status, 0, r.stderr);
  const keyId = r.stdout.trim();
  assert.match(keyId, /^[0-9a-f]{16}$/);
  assert.equal((await stat(join(dir, 'server.key'))).mode & 0o777, 0o600);
  assert.equal((await loadOpenKey(join(dir, 'server.key'))).keyId, keyId);
  assert.equal((await loadSealRecipient(join(dir, 'server.pub'))).keyId, keyId);
  // A sealing key is no signing key.
  await assert.rejects(loadHubKey(join(dir, 'server.key')), { code: 'KEY_FILE_INVALID' });
});

test('receive --open-key refuses a key that is not X25519 before connecting', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'trust'));
  assert.equal(twinedge('keys', 'generate', '--out', join(dir, 'trust', 'hub-a')).status, 0);
  const r = twinedge('receive', '--broker', 'mqtt://127.0.0.1:1', '--trust', join(dir, 'trust'), '--state', join(dir, 'state'), '--open-key', join(dir, 'trust', 'hub-a.key'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /SEAL_KEY_INVALID/);
});

test('keys rotate writes the next key beside the current one and sets hub.next_key_file, once', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  assert.equal(twinedge('keys', 'generate', '--out', join(dir, 'keys', 'hub')).status, 0);
  const config = join(dir, 'hub.yaml');
  await writeFile(config, [
    '## The hub of bed 7.',
    'hub:',
    '  id: bedside-07',
    '  ## Its signing key.',
    '  key_file: keys/hub.key',
    'subjects:',
    '  - ref: p-1',
    '',
  ].join('\n'), { mode: 0o640 });

  const r = twinedge('keys', 'rotate', '--config', config);
  assert.equal(r.status, 0, r.stderr);
  const keyId = r.stdout.trim();
  const nextFile = join(dir, 'keys', `bedside-07-${keyId}.key`);
  assert.equal((await loadHubKey(nextFile)).keyId, keyId);
  assert.equal((await stat(nextFile)).mode & 0o777, 0o600);
  assert.match(await readFile(join(dir, 'keys', `bedside-07-${keyId}.pub`), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
  const text = await readFile(config, 'utf8');
  assert.match(text, /## The hub of bed 7\./, 'comments are kept');
  assert.match(text, /## Its signing key\./);
  assert.equal((await stat(config)).mode & 0o777, 0o640, 'the config keeps its mode');
  const loaded = await loadConfig(config);
  assert.equal(loaded.hub.next_key_file, nextFile);
  assert.equal(loaded.hub.key_file, join(dir, 'keys', 'hub.key'), 'the current key stays');
  assert.match(r.stderr, new RegExp(`restart the hub.*${keyId}`, 's'));

  const again = twinedge('keys', 'rotate', '--config', config);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /next_key_file is already set/);
});

test('run refuses a hub.seal_to that is not an X25519 public key, before anything starts', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  assert.equal(twinedge('keys', 'generate', '--out', join(dir, 'hub')).status, 0);
  const config = join(dir, 'hub.yaml');
  await writeFile(config, ['hub:', '  id: bedside-07', '  key_file: hub.key', '  data_dir: data', '  seal_to: hub.pub', 'subjects:', '  - ref: p-1', ''].join('\n'));
  const r = twinedge('run', '--config', config);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /SEAL_KEY_INVALID/);
  assert.match(r.stderr, /hub\.pub/);
});

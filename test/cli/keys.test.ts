import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyIdOf, loadHubKey, loadPublicKey } from '../../src/frames/keys.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
const twinedge = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('keys generate writes a 0600 PKCS#8 key and an SPKI public key and prints the key_id', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-keys-'));
  try {
    const r = twinedge('keys', 'generate', '--out', join(dir, 'sub', 'hub'));
    assert.equal(r.status, 0, r.stderr);
    const keyId = r.stdout.trim();
    assert.match(keyId, /^[0-9a-f]{16}$/);
    assert.equal((await stat(join(dir, 'sub', 'hub.key'))).mode & 0o777, 0o600);
    assert.match(await readFile(join(dir, 'sub', 'hub.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.match(await readFile(join(dir, 'sub', 'hub.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    assert.equal((await loadHubKey(join(dir, 'sub', 'hub.key'))).keyId, keyId);
    assert.equal(keyIdOf(await loadPublicKey(join(dir, 'sub', 'hub.pub'))), keyId);

    const again = twinedge('keys', 'generate', '--out', join(dir, 'sub', 'hub'));
    assert.equal(again.status, 2, 'an existing key is never overwritten');
    assert.match(again.stderr, /already exists/);
    assert.equal(twinedge('keys', 'generate').status, 2);
    assert.equal(twinedge('keys', 'rotate', '--out', join(dir, 'x')).status, 2);
    assert.equal(twinedge('frobnicate').status, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a hub key is refused when others can read it, when it is not a key, missing, or not Ed25519', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-keys-'));
  try {
    assert.equal(twinedge('keys', 'generate', '--out', join(dir, 'hub')).status, 0);
    await chmod(join(dir, 'hub.key'), 0o640);
    await assert.rejects(loadHubKey(join(dir, 'hub.key')), { code: 'KEY_FILE_EXPOSED' });
    await writeFile(join(dir, 'junk.key'), 'hello', { mode: 0o600 });
    await assert.rejects(loadHubKey(join(dir, 'junk.key')), { code: 'KEY_FILE_INVALID' });
    await assert.rejects(loadHubKey(join(dir, 'none.key')), { code: 'KEY_FILE_UNREADABLE' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' });
    await writeFile(join(dir, 'ec.key'), ec, { mode: 0o600 });
    await assert.rejects(loadHubKey(join(dir, 'ec.key')), { code: 'KEY_FILE_INVALID' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

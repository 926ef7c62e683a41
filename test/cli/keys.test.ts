// twinedge keys generate, and the checks the daemon makes when it loads a hub key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { keyIdOf, loadHubKey, loadPublicKey } from '../../src/frames/keys.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
const TIMEOUT = { timeout: 30_000 };
const twinedge = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

/** key_id computed here from the SPKI PEM: SHA-256 of the raw 32-byte key, first 8 bytes, hex. */
function keyIdFromPem(pem: string): string {
  const raw = Buffer.from(createPublicKey(pem).export({ format: 'jwk' }).x!, 'base64url');
  assert.equal(raw.length, 32);
  return createHash('sha256').update(raw).digest().subarray(0, 8).toString('hex');
}

test('keys generate writes PREFIX.key (PKCS#8, mode 0600) and PREFIX.pub (SPKI), and prints the key_id', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, 'sub', 'hub');
  const r = twinedge('keys', 'generate', '--out', prefix);
  assert.equal(r.status, 0, r.stderr);
  const keyId = r.stdout.trim();
  assert.match(keyId, /^[0-9a-f]{16}$/);
  assert.equal(r.stdout, `${keyId}\n`, 'stdout holds the key_id alone');

  assert.equal((await stat(`${prefix}.key`)).mode & 0o777, 0o600);
  const privatePem = await readFile(`${prefix}.key`, 'utf8');
  const publicPem = await readFile(`${prefix}.pub`, 'utf8');
  assert.match(privatePem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
  assert.equal(keyIdFromPem(publicPem), keyId);

  const key = await loadHubKey(`${prefix}.key`);
  assert.equal(key.privateKey.asymmetricKeyType, 'ed25519');
  assert.equal(key.keyId, keyId);
  assert.equal(keyIdOf(await loadPublicKey(`${prefix}.pub`)), keyId);
});

test('keys generate makes a new key each time', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  const a = twinedge('keys', 'generate', '--out', join(dir, 'a'));
  const b = twinedge('keys', 'generate', '--out', join(dir, 'b'));
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  assert.notEqual(a.stdout.trim(), b.stdout.trim());
});

test('keys generate never overwrites an existing key: exit 2, the key file unchanged', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, 'hub');
  assert.equal(twinedge('keys', 'generate', '--out', prefix).status, 0);
  const before = await readFile(`${prefix}.key`, 'utf8');
  const again = twinedge('keys', 'generate', '--out', prefix);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /\[USAGE_BAD_ARGUMENT\]/);
  assert.equal(again.stdout, '');
  assert.equal(await readFile(`${prefix}.key`, 'utf8'), before);
});

test('keys: usage errors exit 2 before anything is written', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  const noOut = twinedge('keys', 'generate');
  assert.equal(noOut.status, 2);
  assert.match(noOut.stderr, /--out/);
  assert.match(noOut.stderr, /\[USAGE_BAD_ARGUMENT\]/);

  const unknown = twinedge('keys', 'rotate', '--out', join(dir, 'x'));
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /\[USAGE_BAD_ARGUMENT\]/);
  assert.equal(existsSync(join(dir, 'x.key')), false);

  const none = twinedge('keys');
  assert.equal(none.status, 2);
  const badFlag = twinedge('keys', 'generate', '--out', join(dir, 'y'), '--force');
  assert.equal(badFlag.status, 2);
  assert.equal(existsSync(join(dir, 'y.key')), false);
  assert.equal(twinedge('frobnicate').status, 2);
});

test('loadHubKey refuses a key others can read (KEY_FILE_EXPOSED), then accepts it after chmod 600', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  assert.equal(twinedge('keys', 'generate', '--out', join(dir, 'hub')).status, 0);
  await chmod(join(dir, 'hub.key'), 0o644);
  await assert.rejects(loadHubKey(join(dir, 'hub.key')), { code: 'KEY_FILE_EXPOSED' });
  await chmod(join(dir, 'hub.key'), 0o640);
  await assert.rejects(loadHubKey(join(dir, 'hub.key')), { code: 'KEY_FILE_EXPOSED' });
  await chmod(join(dir, 'hub.key'), 0o600);
  assert.match((await loadHubKey(join(dir, 'hub.key'))).keyId, /^[0-9a-f]{16}$/);
});

test('loadHubKey refuses garbage (KEY_FILE_INVALID), a missing file (KEY_FILE_UNREADABLE) and a non-Ed25519 key (KEY_FILE_INVALID)', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'junk.key'), 'hello\n', { mode: 0o600 });
  await assert.rejects(loadHubKey(join(dir, 'junk.key')), { code: 'KEY_FILE_INVALID' });
  await assert.rejects(loadHubKey(join(dir, 'none.key')), { code: 'KEY_FILE_UNREADABLE' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' });
  await writeFile(join(dir, 'ec.key'), ec, { mode: 0o600 });
  await assert.rejects(loadHubKey(join(dir, 'ec.key')), { code: 'KEY_FILE_INVALID' });
  // A public key where the private key belongs.
  assert.equal(twinedge('keys', 'generate', '--out', join(dir, 'hub')).status, 0);
  await chmod(join(dir, 'hub.pub'), 0o600);
  await assert.rejects(loadHubKey(join(dir, 'hub.pub')), { code: 'KEY_FILE_INVALID' });
});

test('keys made by openssl: an EC P-256 PKCS#8 key is refused, an Ed25519 one is accepted with the same key_id', { ...TIMEOUT, skip: requireTool('openssl') }, async (t) => {
  const dir = await tempDir(t);
  const openssl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'ec.key'));
  assert.match(await readFile(join(dir, 'ec.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  await chmod(join(dir, 'ec.key'), 0o600);
  await assert.rejects(loadHubKey(join(dir, 'ec.key')), { code: 'KEY_FILE_INVALID' });

  openssl('genpkey', '-algorithm', 'ED25519', '-out', join(dir, 'ed.key'));
  openssl('pkey', '-in', join(dir, 'ed.key'), '-pubout', '-out', join(dir, 'ed.pub'));
  await chmod(join(dir, 'ed.key'), 0o600);
  const key = await loadHubKey(join(dir, 'ed.key'));
  assert.equal(key.keyId, keyIdFromPem(await readFile(join(dir, 'ed.pub'), 'utf8')));
});

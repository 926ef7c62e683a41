import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TwinedgeError } from '../ops/errors.js';

/**
 * Ed25519 keys as files: the private key PKCS#8 PEM (mode 0600), the public key SPKI PEM, so
 * that openssl and any Ed25519 library can use them without our code.
 */

export interface HubKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/** The 32 raw bytes of an Ed25519 or X25519 public key (RFC 8032, RFC 7748), taken from its JWK form. */
export function rawCurveKey(publicKey: KeyObject, curve: 'Ed25519' | 'X25519'): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.crv !== curve || typeof jwk.x !== 'string') throw new TypeError(`not an ${curve} public key`);
  return Buffer.from(jwk.x, 'base64url');
}

/** The 32 raw bytes of an Ed25519 public key (RFC 8032). */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  return rawCurveKey(publicKey, 'Ed25519');
}

/** Lowercase hex of the first 8 bytes of SHA-256 over raw public key bytes (DESIGN.md's key_id). */
export function keyIdOfRaw(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest().subarray(0, 8).toString('hex');
}

/** An Ed25519 public key's key_id. */
export function keyIdOf(publicKey: KeyObject): string {
  return keyIdOfRaw(rawPublicKey(publicKey));
}

export function generateHubKey(): HubKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** Writes PREFIX.key (0600) and PREFIX.pub; refuses to overwrite an existing private key. */
export async function writeKeyFiles(prefix: string, key: HubKey): Promise<{ keyFile: string; pubFile: string }> {
  const keyFile = `${prefix}.key`;
  const pubFile = `${prefix}.pub`;
  await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
  const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  try {
    await writeFile(keyFile, pem, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${keyFile} already exists; choose another --out or remove it first`, { file: keyFile });
    }
    throw e;
  }
  await chmod(keyFile, 0o600);
  await writeFile(pubFile, key.publicKey.export({ format: 'pem', type: 'spki' }) as string, { mode: 0o644 });
  return { keyFile, pubFile };
}

export async function readKeyText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new TwinedgeError('KEY_FILE_UNREADABLE', `cannot read key file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file }, { cause: e });
  }
}

/**
 * Loads a hub's private key. A key that other users can read is refused: whoever reads it can
 * sign frames as this hub.
 */
export async function loadHubKey(file: string): Promise<HubKey> {
  const { privateKey, publicKey } = await loadPrivateKeyFile(file, 'ed25519', 'KEY_FILE_INVALID', 'an Ed25519 key');
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/**
 * A private key file (PKCS#8 PEM) of one type: refused, with the code given, when it is not
 * one, and refused when others can read it (whoever reads it holds the key).
 */
export async function loadPrivateKeyFile(file: string, type: 'ed25519' | 'x25519', invalid: 'KEY_FILE_INVALID' | 'SEAL_KEY_INVALID', expected: string): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  const text = await readKeyText(file);
  const st = await stat(file);
  if ((st.mode & 0o077) !== 0) {
    throw new TwinedgeError('KEY_FILE_EXPOSED', `private key is readable by others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${file}`, { file });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch (e) {
    throw new TwinedgeError(invalid, 'not a PEM private key', { file }, { cause: e });
  }
  if (privateKey.asymmetricKeyType !== type) {
    throw new TwinedgeError(invalid, `expected ${expected}, found ${privateKey.asymmetricKeyType ?? 'unknown'}`, { file });
  }
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Loads an SPKI PEM Ed25519 public key (a trust entry). */
export async function loadPublicKey(file: string): Promise<KeyObject> {
  return parsePublicKey(await readKeyText(file), file);
}

export function parsePublicKey(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new TwinedgeError('KEY_FILE_INVALID', 'not a PEM public key', { file }, { cause: e });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TwinedgeError('KEY_FILE_INVALID', `expected an Ed25519 key, found ${key.asymmetricKeyType ?? 'unknown'}`, { file });
  }
  return key;
}

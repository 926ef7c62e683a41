import { open, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Status } from '../frames/codec.js';
import { loadHubKey, type HubKey } from '../frames/keys.js';
import { TwinedgeError } from '../ops/errors.js';

/**
 * The hub's side of key rotation: which key signs which seqs, kept in the outbox's state so that
 * the record and the handover frame that announces a switch are one atomic batch (hub.ts).
 *
 * The record is the list of the keys this hub has signed with since its first rotation, oldest
 * first, each with the first seq it signs and (from the second on) the handover frame that
 * announced it. The last entry is the key that signs now. Before any rotation there is no
 * record, and the key of hub.key_file signs everything.
 */

export const SIGNING_KEYS_STATE = 'signing-keys';

export interface SigningKeyEntry {
  readonly key_id: string;
  readonly from_seq: number;
  /** The handover frame (serialized SignedFrame, base64) that announced this key. */
  readonly handover?: string;
}

export function encodeSigningKeys(entries: readonly SigningKeyEntry[]): Uint8Array {
  return Buffer.from(JSON.stringify({ keys: entries }), 'utf8');
}

export function decodeSigningKeys(bytes: Uint8Array | undefined): SigningKeyEntry[] {
  if (!bytes) return [];
  try {
    const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as { keys?: SigningKeyEntry[] };
    if (Array.isArray(parsed.keys) && parsed.keys.every((k) => typeof k.key_id === 'string' && Number.isSafeInteger(k.from_seq))) return parsed.keys;
  } catch {
    // Handled below: signing on with a guessed key could sign with a retired one.
  }
  throw new TwinedgeError('KEY_ROTATION_INVALID', `the hub's record of its signing keys (outbox state '${SIGNING_KEYS_STATE}') is unreadable; restore the data folder from a backup`);
}

/** The handover frames of a record, for Status.key_handovers. */
export function handoverFrames(entries: readonly SigningKeyEntry[]): Uint8Array[] {
  return entries.filter((e) => e.handover !== undefined).map((e) => Buffer.from(e.handover!, 'base64'));
}

/** The Status of a handover at seq `seq`: it announces `next` from seq + 1. */
export function handoverStatus(base: Status, next: HubKey, seq: number): Status {
  return {
    ...base,
    last_seq: seq - 1,
    next_key: { public_key: next.publicKey.export({ format: 'der', type: 'spki' }), key_id: next.keyId, from_seq: seq + 1 },
  };
}

/**
 * Keys a rotation at run time brings (Hub.rotateKey with a key that is in no configured file)
 * are kept in <data_dir>/keys/<key_id>.key, so that a restart finds the key its record names.
 */
export function rotatedKeyDir(dataDir: string): string {
  return join(dataDir, 'keys');
}

/** Writes the key (PKCS#8 PEM, 0600) and its public half, fsynced, before the record can name it. */
export async function saveRotatedKey(dir: string, key: HubKey): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${key.keyId}.key`);
  await writeSynced(file, key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
  await writeSynced(join(dir, `${key.keyId}.pub`), key.publicKey.export({ format: 'pem', type: 'spki' }) as string, 0o644);
  // The directory entry too: a file that is synced but not yet linked is lost in a power cut.
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
  return file;
}

async function writeSynced(file: string, text: string, mode: number): Promise<void> {
  const f = await open(file, 'w', mode);
  try {
    await f.writeFile(text);
    await f.chmod(mode);
    await f.sync();
  } finally {
    await f.close();
  }
}

/**
 * The key the record says signs now, from the configured files or the rotated-key folder.
 * Throws KEY_ROTATION_INVALID naming the key when none of them holds it.
 */
export async function findSigningKey(keyId: string, fromSeq: number, configured: ReadonlyArray<HubKey | undefined>, dir: string): Promise<HubKey> {
  for (const k of configured) if (k?.keyId === keyId) return k;
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    // No rotation at run time ever happened here.
  }
  if (names.includes(`${keyId}.key`)) {
    const key = await loadHubKey(join(dir, `${keyId}.key`));
    if (key.keyId === keyId) return key;
  }
  const given = configured.filter((k): k is HubKey => k !== undefined).map((k) => k.keyId).join(', ');
  throw new TwinedgeError('KEY_ROTATION_INVALID', `this hub's frames from seq ${fromSeq} on are signed by key ${keyId}, but the configured key files hold ${given || 'no key'}: point hub.key_file at that key's file (and hub.next_key_file, if set, at a key to rotate to)`);
}

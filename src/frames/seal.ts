import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { TwinedgeError } from '../ops/errors.js';
import { FrameBodyType, SealAlgorithm, type DecodedBody, type FrameKind, type Payload, type Sealed } from './codec.js';
import { keyIdOfRaw, loadPrivateKeyFile, rawCurveKey, readKeyText } from './keys.js';

/**
 * Payload sealing to the twin server (frame.proto, Sealed): X25519, HKDF-SHA256, AES-256-GCM,
 * all from node:crypto. The hub holds only the server's public key; the server (the receiver
 * with --open-key) holds the private one.
 *
 * One ephemeral key pair per frame, not per batch: a frame is one MQTT message that is stored,
 * delivered, dropped and opened on its own, so it has to carry its ephemeral public key anyway,
 * and a per-batch key would only save the key generation (about 80 µs with the Diffie-Hellman,
 * at most a few frames a second per subject) at the price of GCM nonce bookkeeping across the
 * frames of a batch. A fresh key per frame makes every AES key used once.
 */

/** An X25519 key pair: the twin server's (its private half opens frames). */
export interface SealKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

/** Where the hub seals to: the server's public key, parsed once. */
export interface SealRecipient {
  readonly publicKey: KeyObject;
  /** The 32 raw bytes (RFC 7748), for the HKDF salt. */
  readonly raw: Buffer;
  readonly keyId: string;
}

/** The clear header fields a sealed payload is bound to (HKDF info and GCM additional data). */
export interface SealContext {
  readonly hubId: string;
  readonly subjectRef: string;
  readonly kind: FrameKind;
  readonly seq: number;
}

export const SEAL_LABEL = 'twin.v1.sealed';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const X25519_BYTES = 32;

export function rawX25519(publicKey: KeyObject): Buffer {
  return rawCurveKey(publicKey, 'X25519');
}

/** The same rule as an Ed25519 key_id: first 8 bytes of SHA-256 over the raw key, lowercase hex. */
export function sealKeyIdOf(publicKey: KeyObject): string {
  return keyIdOfRaw(rawX25519(publicKey));
}

export function generateSealKey(): SealKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey, keyId: sealKeyIdOf(publicKey) };
}

export function sealRecipientOf(publicKey: KeyObject): SealRecipient {
  return { publicKey, raw: rawX25519(publicKey), keyId: sealKeyIdOf(publicKey) };
}

function x25519PublicFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** NUL-separated fields: none of them can hold a NUL (ids match ID_PATTERN, kinds are names). */
function joined(...parts: string[]): Buffer {
  return Buffer.from(parts.join('\0'), 'utf8');
}

/** HKDF-SHA256 from the X25519 shared secret to the AES-256 key (frame.proto, SealAlgorithm). */
export function sealKey(shared: Uint8Array, ephemeralRaw: Uint8Array, recipientRaw: Uint8Array, hubId: string, recipientKeyId: string): Buffer {
  const salt = Buffer.concat([ephemeralRaw, recipientRaw]);
  const info = joined(SEAL_LABEL, String(SealAlgorithm.X25519_HKDF_SHA256_AES_256_GCM), hubId, recipientKeyId);
  return Buffer.from(hkdfSync('sha256', shared, salt, info, 32));
}

/** GCM additional data: what the receiver routes by, so a sealed payload cannot move to another frame. */
export function sealAad(ctx: SealContext): Buffer {
  return joined(ctx.subjectRef, ctx.kind, String(ctx.seq));
}

/** The plaintext: a FrameBody that holds the payload and no header. */
export function sealedPlaintext(payload: Payload): Uint8Array {
  // The body around the seal is checked by encodeBody; what is inside it is checked here.
  const problem = FrameBodyType.verify(payload);
  if (problem) throw new TwinedgeError('FRAME_INVALID', `sealed payload: ${problem}`);
  return FrameBodyType.encode(payload).finish();
}

/**
 * Seals one payload. `fixed` is for test vectors only: a given ephemeral private key and nonce
 * instead of fresh ones (reusing either with the same recipient would break GCM).
 */
export function seal(recipient: SealRecipient, ctx: SealContext, payload: Payload, fixed?: { ephemeral: KeyObject; nonce: Buffer }): Sealed {
  const ephemeral = fixed?.ephemeral ?? generateKeyPairSync('x25519').privateKey;
  const ephemeralRaw = rawX25519(createPublicKey(ephemeral));
  const shared = diffieHellman({ privateKey: ephemeral, publicKey: recipient.publicKey });
  const key = sealKey(shared, ephemeralRaw, recipient.raw, ctx.hubId, recipient.keyId);
  const nonce = fixed?.nonce ?? randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(sealAad(ctx));
  const ciphertext = Buffer.concat([cipher.update(sealedPlaintext(payload)), cipher.final()]);
  return {
    algorithm: SealAlgorithm.X25519_HKDF_SHA256_AES_256_GCM,
    kind: ctx.kind,
    recipient_key_id: recipient.keyId,
    ephemeral_public_key: ephemeralRaw,
    nonce,
    ciphertext,
    tag: cipher.getAuthTag(),
  };
}

/**
 * Why a sealed payload did not open. Stable, like the receiver's other reasons:
 * - seal_wrong_key: sealed to a key this receiver does not hold (recipient_key_id), or with an
 *   algorithm it does not know.
 * - seal_open_failed: the GCM tag does not check out (the bytes, the key or the clear header
 *   they are bound to differ from what was sealed), or what opened is not a payload of the kind
 *   the frame claims.
 */
export type OpenFailure = 'seal_wrong_key' | 'seal_open_failed';

/** Keys a receiver opens with, by recipient key id. */
export class OpenKeys {
  readonly #byId = new Map<string, SealKeyPair>();

  constructor(keys: Iterable<SealKeyPair>) {
    for (const k of keys) this.#byId.set(k.keyId, k);
  }

  keyIds(): string[] {
    return [...this.#byId.keys()].sort();
  }

  /** The payload inside, as a decoded body holds it, or why it did not open. */
  open(ctx: SealContext, sealed: Sealed): { ok: true; payload: Partial<DecodedBody> } | { ok: false; reason: OpenFailure } {
    const key = this.#byId.get(sealed.recipient_key_id);
    if (!key || sealed.algorithm !== SealAlgorithm.X25519_HKDF_SHA256_AES_256_GCM) return { ok: false, reason: 'seal_wrong_key' };
    if (sealed.ephemeral_public_key.length !== X25519_BYTES || sealed.nonce.length !== NONCE_BYTES || sealed.tag.length !== TAG_BYTES) {
      return { ok: false, reason: 'seal_open_failed' };
    }
    let plaintext: Buffer;
    try {
      // OpenSSL refuses an all-zero shared secret (a low-order ephemeral point) here.
      const shared = diffieHellman({ privateKey: key.privateKey, publicKey: x25519PublicFromRaw(sealed.ephemeral_public_key) });
      const aesKey = sealKey(shared, sealed.ephemeral_public_key, rawX25519(key.publicKey), ctx.hubId, key.keyId);
      const decipher = createDecipheriv('aes-256-gcm', aesKey, sealed.nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(sealAad(ctx));
      decipher.setAuthTag(sealed.tag);
      plaintext = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
    } catch {
      return { ok: false, reason: 'seal_open_failed' };
    }
    let inner: Record<string, unknown>;
    try {
      inner = FrameBodyType.toObject(FrameBodyType.decode(plaintext), OPEN_OPTIONS) as Record<string, unknown>;
    } catch {
      return { ok: false, reason: 'seal_open_failed' };
    }
    if (inner.payload !== ctx.kind) return { ok: false, reason: 'seal_open_failed' };
    return { ok: true, payload: { [ctx.kind]: inner[ctx.kind] } };
  }
}

const OPEN_OPTIONS = { longs: Number, enums: Number, bytes: Uint8Array as unknown as typeof Array, defaults: true, arrays: true, oneofs: true };


/** The twin server's X25519 public key (SPKI PEM), for hub.seal_to. */
export async function loadSealRecipient(file: string): Promise<SealRecipient> {
  const text = await readKeyText(file);
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new TwinedgeError('SEAL_KEY_INVALID', 'this is a private key; the hub needs the twin server\'s public key only (the .pub file)', { file });
  }
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch (e) {
    throw new TwinedgeError('SEAL_KEY_INVALID', 'not a PEM public key', { file }, { cause: e });
  }
  if (key.asymmetricKeyType !== 'x25519') {
    throw new TwinedgeError('SEAL_KEY_INVALID', `expected an X25519 public key (twinedge keys generate --x25519), found ${key.asymmetricKeyType ?? 'unknown'}`, { file });
  }
  return sealRecipientOf(key);
}

/** The twin server's X25519 private key (PKCS#8 PEM, mode 0600), for receive --open-key. */
export async function loadOpenKey(file: string): Promise<SealKeyPair> {
  const { privateKey, publicKey } = await loadPrivateKeyFile(file, 'x25519', 'SEAL_KEY_INVALID', 'an X25519 private key (twinedge keys generate --x25519)');
  return { privateKey, publicKey, keyId: sealKeyIdOf(publicKey) };
}

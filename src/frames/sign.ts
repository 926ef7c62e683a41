import { sign, verify, type KeyObject } from 'node:crypto';
import type { SignedFrame } from './codec.js';
import type { HubKey } from './keys.js';

/** "twin.v1.frame" then one zero byte: a signature over a body can never be taken for another protocol's. */
export const SIGNING_DOMAIN = Buffer.from('twin.v1.frame\0', 'ascii');

function signedMessage(body: Uint8Array): Buffer {
  const msg = Buffer.allocUnsafe(SIGNING_DOMAIN.length + body.length);
  SIGNING_DOMAIN.copy(msg, 0);
  msg.set(body, SIGNING_DOMAIN.length);
  return msg;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n >>>= 7;
    len++;
  }
  return len;
}

/**
 * twin.v1.SignedFrame written directly (fields 1 body, 2 signature, 3 key_id, all
 * length-delimited): the same bytes protobufjs writes, without a writer per frame on the hot path.
 * The tests decode it with protobufjs and protoc.
 */
export function encodeSignedFrame(body: Uint8Array, signature: Uint8Array, keyId: Uint8Array): Buffer {
  // proto3 leaves an empty bytes field out.
  const bodyField = body.length > 0 ? 1 + varintLength(body.length) + body.length : 0;
  const out = Buffer.allocUnsafe(bodyField + 2 + signature.length + 2 + keyId.length);
  let at = 0;
  if (bodyField > 0) {
    out[at++] = 0x0a;
    let n = body.length;
    while (n >= 0x80) {
      out[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out[at++] = n;
    out.set(body, at);
    at += body.length;
  }
  out[at++] = 0x12;
  out[at++] = signature.length;
  out.set(signature, at);
  at += signature.length;
  out[at++] = 0x1a;
  out[at++] = keyId.length;
  out.set(keyId, at);
  return out;
}

/** Signs frame bodies with one KeyObject made once (parsing the PEM per call is ~15x slower). */
export class FrameSigner {
  readonly keyId: string;
  readonly #keyIdBytes: Buffer;
  readonly #privateKey: KeyObject;

  constructor(key: HubKey) {
    this.keyId = key.keyId;
    this.#keyIdBytes = Buffer.from(key.keyId, 'ascii');
    this.#privateKey = key.privateKey;
  }

  /** Returns the serialized SignedFrame: the bytes an MQTT message carries. */
  sign(body: Uint8Array): Uint8Array {
    const signature = sign(null, signedMessage(body), this.#privateKey);
    return encodeSignedFrame(body, signature, this.#keyIdBytes);
  }

  /**
   * The same, with the Ed25519 work on libuv's thread pool: the main thread that publishes is
   * not the one that signs, and on a multi-core hub several frames are signed at once.
   */
  signAsync(body: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      sign(null, signedMessage(body), this.#privateKey, (err, signature) => {
        if (err) reject(err);
        else resolve(encodeSignedFrame(body, signature, this.#keyIdBytes));
      });
    });
  }
}

/** Ed25519 check of a body exactly as received. */
export function verifyBody(body: Uint8Array, signature: Uint8Array, publicKey: KeyObject): boolean {
  if (signature.length !== 64) return false;
  return verify(null, signedMessage(body), publicKey, signature);
}

export type { SignedFrame };

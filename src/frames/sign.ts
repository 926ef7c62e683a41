import { sign, verify, type KeyObject } from 'node:crypto';
import { encodeSigned, type SignedFrame } from './codec.js';
import type { HubKey } from './keys.js';

/** "twin.v1.frame" then one zero byte: a signature over a body can never be taken for another protocol's. */
export const SIGNING_DOMAIN = Buffer.from('twin.v1.frame\0', 'ascii');

function signedMessage(body: Uint8Array): Buffer {
  const msg = Buffer.allocUnsafe(SIGNING_DOMAIN.length + body.length);
  SIGNING_DOMAIN.copy(msg, 0);
  msg.set(body, SIGNING_DOMAIN.length);
  return msg;
}

/** Signs frame bodies with one KeyObject made once (parsing the PEM per call is ~15x slower). */
export class FrameSigner {
  readonly keyId: string;
  readonly #privateKey: KeyObject;

  constructor(key: HubKey) {
    this.keyId = key.keyId;
    this.#privateKey = key.privateKey;
  }

  /** Returns the serialized SignedFrame: the bytes an MQTT message carries. */
  sign(body: Uint8Array): Uint8Array {
    const signature = sign(null, signedMessage(body), this.#privateKey);
    return encodeSigned({ body, signature, key_id: this.keyId });
  }

  /**
   * The same, with the Ed25519 work on libuv's thread pool: the main thread that publishes is
   * not the one that signs, and on a multi-core hub several frames are signed at once.
   */
  signAsync(body: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      sign(null, signedMessage(body), this.#privateKey, (err, signature) => {
        if (err) reject(err);
        else resolve(encodeSigned({ body, signature, key_id: this.keyId }));
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

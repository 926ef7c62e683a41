import { sign, verify, type KeyObject } from 'node:crypto';
import type { HubKey } from '../frames/keys.js';
import { encodeCommandBody, encodeSignedCommand, type CommandBody } from './command-codec.js';

/**
 * "twin.v1.command" then one zero byte. Frames are signed under "twin.v1.frame\0": the two
 * contexts differ in their bytes before any body byte, so no signature made for one can verify
 * as the other, even when a twin server key and a hub key were ever the same key.
 */
export const COMMAND_SIGNING_DOMAIN = Buffer.from('twin.v1.command\0', 'ascii');

function signedMessage(body: Uint8Array): Buffer {
  return Buffer.concat([COMMAND_SIGNING_DOMAIN, body]);
}

export function signCommandBody(body: Uint8Array, privateKey: KeyObject): Buffer {
  return sign(null, signedMessage(body), privateKey);
}

/** Ed25519 check of a command body exactly as received. */
export function verifyCommandBody(body: Uint8Array, signature: Uint8Array, publicKey: KeyObject): boolean {
  if (signature.length !== 64) return false;
  return verify(null, signedMessage(body), publicKey, signature);
}

/** The bytes the twin server publishes on twin/v1/<hub_id>/cmd for one command. */
export function makeSignedCommand(key: HubKey, body: CommandBody): Uint8Array {
  const bytes = encodeCommandBody(body);
  return encodeSignedCommand({ body: bytes, signature: signCommandBody(bytes, key.privateKey), key_id: key.keyId });
}

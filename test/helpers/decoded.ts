// What decoder tests share: bytes from hex, and the check of a rejected packet.
import assert from 'node:assert/strict';
import { isRejected, type DecodedPacket, type DecodeIssue } from '../../src/profiles/decoded.js';

/** Bytes from hex text; spaces are for the reader. */
export const h = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

/** A packet rejected with exactly one error of this code: that error. */
export function rejectedWith(packet: DecodedPacket, code: string): DecodeIssue {
  assert.ok(isRejected(packet), `expected a rejected packet, got ${JSON.stringify(packet).slice(0, 300)}`);
  assert.deepEqual(packet.values, {});
  assert.deepEqual(packet.rows, []);
  assert.equal(packet.errors.length, 1, JSON.stringify(packet.errors));
  const issue = packet.errors[0]!;
  assert.equal(issue.code, code, issue.message);
  return issue;
}

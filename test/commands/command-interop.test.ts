// A command made by our code checks out with Debian's protoc and openssl alone, so a twin server
// in another language can make one from command.proto and the signing context spelled out here,
// not borrowed from our code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSignedCommand } from '../../src/commands/command-codec.js';
import { makeSignedCommand } from '../../src/commands/command-sign.js';
import { ConsentKindCode } from '../../src/frames/codec.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const server = generateHubKey();
const nonce = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const bytes = makeSignedCommand(server, {
  schema_version: 1, hub_id: 'hub-interop', issued_at_ms: Date.UTC(2026, 4, 2, 9), nonce, valid_for_ms: 60_000,
  set_consent: { subject_ref: 'p-4f9a', allowed: [ConsentKindCode.FEATURES, ConsentKindCode.EVENTS] },
});

function protoc(type: string, input: Uint8Array): string {
  const r = spawnSync('protoc', [`--decode=${type}`, '-I', 'proto', 'proto/twin/v1/command.proto'], { cwd: ROOT, input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('protoc decodes a SignedCommand and its CommandBody from command.proto', { skip: requireTool('protoc') }, () => {
  assert.match(protoc('twin.v1.SignedCommand', bytes), new RegExp(`^key_id: "${server.keyId}"$`, 'm'));
  const body = protoc('twin.v1.CommandBody', decodeSignedCommand(bytes).body);
  assert.match(body, /^schema_version: 1$/m);
  assert.match(body, /^hub_id: "hub-interop"$/m);
  assert.match(body, new RegExp(`^issued_at_ms: ${Date.UTC(2026, 4, 2, 9)}$`, 'm'));
  assert.match(body, /^nonce: "\\000\\021\\"3DUfw\\210\\231\\252\\273\\314\\335\\356\\377"$/m);
  assert.match(body, /^valid_for_ms: 60000$/m);
  assert.match(body, /^set_consent \{\n {2}subject_ref: "p-4f9a"\n {2}allowed: CONSENT_KIND_FEATURES\n {2}allowed: CONSENT_KIND_EVENTS\n\}$/m);
});

test('openssl verifies a command over "twin.v1.command\\0" + body, and not over the frame context', { skip: requireTool('openssl') }, async (t) => {
  const dir = await tempDir(t);
  const pub = join(dir, 'server.pub');
  await writeFile(pub, server.publicKey.export({ format: 'pem', type: 'spki' }) as string);
  const { body, signature } = decodeSignedCommand(bytes);
  const verify = async (message: Buffer) => {
    await writeFile(join(dir, 'message'), message);
    await writeFile(join(dir, 'signature'), signature);
    return spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', join(dir, 'message'), '-sigfile', join(dir, 'signature')], { encoding: 'utf8' });
  };
  const ok = await verify(Buffer.concat([Buffer.from('twin.v1.command', 'ascii'), Buffer.from([0]), body]));
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /Signature Verified Successfully/);
  const asFrame = await verify(Buffer.concat([Buffer.from('twin.v1.frame', 'ascii'), Buffer.from([0]), body]));
  assert.notEqual(asFrame.status, 0);
  assert.doesNotMatch(asFrame.stdout, /Verified Successfully/);
});

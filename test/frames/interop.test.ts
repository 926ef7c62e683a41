// A frame made by the hub checks out with Debian's openssl and protoc alone: the twin server
// needs none of our code to trust it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSigned, GapReason } from '../../src/frames/codec.js';
import { FrameMaker } from '../../src/frames/frame-maker.js';
import { loadHubKey } from '../../src/frames/keys.js';
import { FrameSigner, SIGNING_DOMAIN } from '../../src/frames/sign.js';
import { ManualClock } from '../../src/ops/clock.js';
import { skipUnless } from '../helpers/tools.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'scripts/twinedge.js');

async function hubKeyFiles(dir: string) {
  const r = spawnSync(process.execPath, [CLI, 'keys', 'generate', '--out', join(dir, 'hub')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { keyId: r.stdout.trim(), key: await loadHubKey(join(dir, 'hub.key')) };
}

test('openssl verifies a hub frame over "twin.v1.frame\\0" + body, and refuses a flipped bit', { skip: skipUnless('openssl') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-interop-'));
  try {
    const { keyId, key } = await hubKeyFiles(dir);
    assert.equal(keyId, key.keyId);
    const maker = new FrameMaker({ hubId: 'hub-i', clock: new ManualClock(Date.UTC(2026, 10, 23)), signer: new FrameSigner(key) });
    const frame = decodeSigned(maker.make(7, 's1', { cross_section: { window_start_ms: 1, window_end_ms: 2, features: [{ code: 'hr.mean', value: 60, unit: '/min' }] } }));
    const message = Buffer.concat([SIGNING_DOMAIN, frame.body]);
    await writeFile(join(dir, 'message'), message);
    await writeFile(join(dir, 'signature'), frame.signature);
    const verify = () => spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'hub.pub'), '-rawin', '-in', join(dir, 'message'), '-sigfile', join(dir, 'signature')], { encoding: 'utf8' });
    const ok = verify();
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Signature Verified Successfully/);
    message[SIGNING_DOMAIN.length + 3]! ^= 0x01;
    await writeFile(join(dir, 'message'), message);
    const bad = verify();
    assert.notEqual(bad.status, 0);
    assert.doesNotMatch(bad.stdout, /Verified Successfully/);

    // key_id by openssl alone: the last 32 bytes of the SPKI DER are the raw key.
    const der = spawnSync('openssl', ['pkey', '-pubin', '-in', join(dir, 'hub.pub'), '-outform', 'DER']).stdout;
    assert.equal(createHash('sha256').update(der.subarray(der.length - 32)).digest('hex').slice(0, 16), key.keyId);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('protoc decodes a SignedFrame and its FrameBody from frame.proto', { skip: skipUnless('protoc') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-interop-'));
  try {
    const { key } = await hubKeyFiles(dir);
    const maker = new FrameMaker({ hubId: 'hub-i', clock: new ManualClock(Date.UTC(2026, 10, 23)), signer: new FrameSigner(key) });
    const bytes = maker.make(42, '_hub', { gap: { reason: GapReason.QUOTA_FULL, dropped: [{ first: 3, last: 9 }], frames: 7, bytes: 7000 } });
    const decode = (type: string, input: Uint8Array) => spawnSync('protoc', [`--decode=${type}`, '-I', join(ROOT, 'proto'), join(ROOT, 'proto/twin/v1/frame.proto')], { input, encoding: 'utf8' });
    const envelope = decode('twin.v1.SignedFrame', bytes);
    assert.equal(envelope.status, 0, envelope.stderr);
    assert.match(envelope.stdout, new RegExp(`key_id: "${key.keyId}"`));
    assert.match(envelope.stdout, /^signature: "/m);
    const body = decode('twin.v1.FrameBody', decodeSigned(bytes).body);
    assert.equal(body.status, 0, body.stderr);
    assert.match(body.stdout, /hub_id: "hub-i"/);
    assert.match(body.stdout, /seq: 42/);
    assert.match(body.stdout, /reason: GAP_REASON_QUOTA_FULL/);
    assert.match(body.stdout, /dropped \{\s+first: 3\s+last: 9\s+\}/);
    assert.match(body.stdout, /schema_version: 1/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

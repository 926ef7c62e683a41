// A frame made by the hub checks out with Debian's openssl and protoc alone: the twin server
// needs none of our code to trust it. The test takes the frame apart with its own few lines of
// protobuf wire reading and spells the signing domain out itself, so that a mistake in our codec
// or signer cannot hide behind the same mistake in the check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GapReason } from '../../src/frames/codec.js';
import { FrameMaker } from '../../src/frames/frame-maker.js';
import { loadHubKey } from '../../src/frames/keys.js';
import { FrameSigner } from '../../src/frames/sign.js';
import { ManualClock } from '../../src/ops/clock.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'scripts/twinedge.js');
const TIMEOUT = 30_000;

/** `twinedge keys generate --out <dir>/hub`, then the hub key loaded as the daemon loads it. */
async function hubKey(dir: string) {
  const r = spawnSync(process.execPath, [CLI, 'keys', 'generate', '--out', join(dir, 'hub')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const printedKeyId = r.stdout.trim();
  const key = await loadHubKey(join(dir, 'hub.key'));
  assert.equal(printedKeyId, key.keyId);
  return { key, pubFile: join(dir, 'hub.pub'), maker: new FrameMaker({ hubId: 'hub-interop', clock: new ManualClock(Date.UTC(2026, 10, 23, 8)), signer: new FrameSigner(key) }) };
}

/** The length-delimited fields of a protobuf message, read by hand: field number -> bytes. */
function lengthDelimitedFields(buf: Uint8Array): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let at = 0;
  const varint = () => {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      const b = buf[at++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
    }
  };
  while (at < buf.length) {
    const tag = varint();
    assert.equal(tag & 7, 2, `field ${tag >> 3} of a SignedFrame is length-delimited`);
    const len = varint();
    out.set(tag >> 3, Buffer.from(buf.subarray(at, at + len)));
    at += len;
  }
  return out;
}

/** A SignedFrame's body (1), signature (2) and key_id (3). */
function envelope(frame: Uint8Array) {
  const f = lengthDelimitedFields(frame);
  return { body: f.get(1)!, signature: f.get(2)!, keyId: f.get(3)!.toString('ascii') };
}

function protoc(type: string, input: Uint8Array) {
  const r = spawnSync('protoc', [`--decode=${type}`, '-I', 'proto', 'proto/twin/v1/frame.proto'], { cwd: ROOT, input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('openssl verifies a hub frame over "twin.v1.frame\\0" + body, and refuses a flipped bit', { timeout: TIMEOUT, skip: requireTool('openssl') }, async (t) => {
  const dir = await tempDir(t);
  const { key, pubFile, maker } = await hubKey(dir);
  const frame = envelope(maker.make(7, 'p-4f9a', { cross_section: { window_start_ms: 1, window_end_ms: 2, features: [{ code: 'hr.mean', value: 60, unit: '/min' }] } }));
  assert.equal(frame.signature.length, 64, 'a raw Ed25519 signature');
  assert.equal(frame.keyId, key.keyId);

  const message = Buffer.concat([Buffer.from('twin.v1.frame', 'ascii'), Buffer.from([0]), frame.body]);
  const verify = async (msg: Buffer, sig: Buffer) => {
    await writeFile(join(dir, 'message'), msg);
    await writeFile(join(dir, 'signature'), sig);
    return spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pubFile, '-rawin', '-in', join(dir, 'message'), '-sigfile', join(dir, 'signature')], { encoding: 'utf8' });
  };
  const ok = await verify(message, frame.signature);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /Signature Verified Successfully/);

  const flippedBody = Buffer.from(message);
  flippedBody[message.length - 1]! ^= 0x01;
  const bad = await verify(flippedBody, frame.signature);
  assert.notEqual(bad.status, 0);
  assert.doesNotMatch(bad.stdout, /Verified Successfully/);

  const flippedSignature = Buffer.from(frame.signature);
  flippedSignature[10]! ^= 0x80;
  const badSig = await verify(message, flippedSignature);
  assert.notEqual(badSig.status, 0);
  assert.doesNotMatch(badSig.stdout, /Verified Successfully/);

  // Without the domain prefix the same signature is worthless: it covers "twin.v1.frame\0" too.
  const bare = await verify(frame.body, frame.signature);
  assert.notEqual(bare.status, 0);
});

test('openssl computes the same key_id: SHA-256 of the raw 32-byte key, first 8 bytes in hex', { timeout: TIMEOUT, skip: requireTool('openssl') }, async (t) => {
  const dir = await tempDir(t);
  const { key, pubFile } = await hubKey(dir);
  const der = spawnSync('openssl', ['pkey', '-pubin', '-in', pubFile, '-outform', 'DER']);
  assert.equal(der.status, 0, der.stderr.toString());
  // An Ed25519 SPKI is a 12-byte header (algorithm 1.3.101.112) then the raw key.
  assert.equal(der.stdout.length, 44);
  assert.equal(der.stdout.subarray(0, 12).toString('hex'), '302a300506032b6570032100');
  const keyId = createHash('sha256').update(der.stdout.subarray(der.stdout.length - 32)).digest().subarray(0, 8).toString('hex');
  assert.equal(keyId, key.keyId);
  assert.match(keyId, /^[0-9a-f]{16}$/);
});

test('protoc decodes a SignedFrame and its FrameBody from frame.proto', { timeout: TIMEOUT, skip: requireTool('protoc') }, async (t) => {
  const dir = await tempDir(t);
  const { key, maker } = await hubKey(dir);
  const bytes = maker.make(42, 'p-4f9a', {
    cross_section: {
      window_start_ms: 1_795_420_800_000, window_end_ms: 1_795_420_810_000,
      features: [{ code: 'hr.mean', value: 61.5, unit: '/min', standard_code: 'MDC:MDC_ECG_HEART_RATE' }],
      sources: [{ device_id: 'ble:c4:7c:8d:6a:12:34', profile_id: 'bluetooth-sig/heart-rate', profile_version: '1' }],
    },
  });
  const signed = protoc('twin.v1.SignedFrame', bytes);
  assert.match(signed, new RegExp(`^key_id: "${key.keyId}"$`, 'm'));
  assert.match(signed, /^body: "/m);
  assert.match(signed, /^signature: "/m);

  const body = protoc('twin.v1.FrameBody', envelope(bytes).body);
  assert.match(body, /^schema_version: 1$/m);
  assert.match(body, /^hub_id: "hub-interop"$/m);
  assert.match(body, /^subject_ref: "p-4f9a"$/m);
  assert.match(body, /^seq: 42$/m);
  assert.match(body, /^boot_id: "[0-9a-f-]{36}"$/m);
  assert.match(body, new RegExp(`^wall_ms: ${Date.UTC(2026, 10, 23, 8)}$`, 'm'));
  assert.match(body, /^clock_status: CLOCK_STATUS_SYNCED$/m);
  assert.match(body, /^cross_section \{\n {2}window_start_ms: 1795420800000\n {2}window_end_ms: 1795420810000\n/m);
  assert.match(body, /features \{\n\s+code: "hr\.mean"\n\s+value: 61\.5\n\s+unit: "\/min"\n\s+standard_code: "MDC:MDC_ECG_HEART_RATE"\n\s+\}/);
  assert.match(body, /sources \{\n\s+device_id: "ble:c4:7c:8d:6a:12:34"\n\s+profile_id: "bluetooth-sig\/heart-rate"/);
});

test('protoc decodes a gap frame: reason by name, dropped ranges', { timeout: TIMEOUT, skip: requireTool('protoc') }, async (t) => {
  const dir = await tempDir(t);
  const { maker } = await hubKey(dir);
  const bytes = maker.make(43, '_hub', { gap: { reason: GapReason.QUOTA_FULL, dropped: [{ first: 3, last: 9 }], frames: 7, bytes: 7000 } });
  const body = protoc('twin.v1.FrameBody', envelope(bytes).body);
  assert.match(body, /^seq: 43$/m);
  assert.match(body, /^subject_ref: "_hub"$/m);
  assert.match(body, /reason: GAP_REASON_QUOTA_FULL/);
  assert.match(body, /dropped \{\n\s+first: 3\n\s+last: 9\n\s+\}/);
  assert.match(body, /frames: 7\n\s+bytes: 7000/);
});

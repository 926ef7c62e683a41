import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBody, decodeSigned, encodeBody, GapReason, payloadKind } from '../../src/frames/codec.js';
import { FrameMaker } from '../../src/frames/frame-maker.js';
import { generateHubKey, keyIdOf, rawPublicKey } from '../../src/frames/keys.js';
import { FrameSigner, verifyBody } from '../../src/frames/sign.js';
import { ManualClock } from '../../src/ops/clock.js';
import { createHash } from 'node:crypto';

test('a cross-section frame round-trips through sign, encode, decode and verify', () => {
  const key = generateHubKey();
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 8, 0, 0), 'synced');
  clock.advance(1234);
  const maker = new FrameMaker({ hubId: 'hub-a', clock, signer: new FrameSigner(key) });
  const bytes = maker.make(42, 'subj-1', {
    cross_section: {
      window_start_ms: 1_795_000_000_000, window_end_ms: 1_795_000_010_000,
      features: [{ code: 'hr.mean', value: 61.5, unit: '/min', coverage: 0.98, n: 10 }],
    },
  });
  const signed = decodeSigned(bytes);
  assert.equal(signed.key_id, key.keyId);
  assert.equal(verifyBody(signed.body, signed.signature, key.publicKey), true);
  const body = decodeBody(signed.body);
  assert.equal(body.kind, 'cross_section');
  assert.equal(body.seq, 42);
  assert.equal(body.hub_id, 'hub-a');
  assert.equal(body.mono_ms, 1234);
  assert.equal(body.wall_ms, Date.UTC(2026, 10, 23, 8, 0, 1, 234));
  assert.equal(body.cross_section?.features?.[0]?.value, 61.5);
  assert.equal(body.cross_section?.window_end_ms, 1_795_000_010_000);
});

test('a flipped bit anywhere in the body or the signature fails verification', () => {
  const key = generateHubKey();
  const maker = new FrameMaker({ hubId: 'h', clock: new ManualClock(0), signer: new FrameSigner(key) });
  const { body, signature } = decodeSigned(maker.make(1, '_hub', { gap: { reason: GapReason.QUOTA_FULL, dropped: [{ first: 1, last: 9 }] } }));
  for (let i = 0; i < body.length * 8; i += 7) {
    const b = Buffer.from(body); b[i >> 3]! ^= 1 << (i & 7);
    assert.equal(verifyBody(b, signature, key.publicKey), false, `body bit ${i}`);
  }
  for (let i = 0; i < 512; i += 13) {
    const s = Buffer.from(signature); s[i >> 3]! ^= 1 << (i & 7);
    assert.equal(verifyBody(body, s, key.publicKey), false, `signature bit ${i}`);
  }
});

test('key_id is the first 8 bytes of SHA-256 over the raw 32-byte public key', () => {
  const key = generateHubKey();
  const raw = rawPublicKey(key.publicKey);
  assert.equal(raw.length, 32);
  const der = key.publicKey.export({ format: 'der', type: 'spki' });
  assert.deepEqual(raw, der.subarray(der.length - 32));
  assert.equal(keyIdOf(key.publicKey), createHash('sha256').update(raw).digest('hex').slice(0, 16));
});

test('a body without a payload or with a wrong field type is refused', () => {
  assert.throws(() => payloadKind({} as never), TypeError);
  assert.throws(() => encodeBody({ schema_version: 1, hub_id: 5 } as never), { code: 'FRAME_INVALID' });
});

test('the hand-written SignedFrame envelope is byte for byte what protobufjs writes', async () => {
  const { encodeSigned } = await import('../../src/frames/codec.js');
  const { encodeSignedFrame } = await import('../../src/frames/sign.js');
  for (const len of [0, 1, 127, 128, 300, 16_383, 16_384, 70_000]) {
    const body = Buffer.alloc(len, 0xa5);
    const signature = Buffer.alloc(64, 0x3c);
    const keyId = '0123456789abcdef';
    assert.deepEqual(Buffer.from(encodeSignedFrame(body, signature, Buffer.from(keyId))), Buffer.from(encodeSigned({ body, signature, key_id: keyId })), `body of ${len} bytes`);
  }
});

test('async signing gives frames that verify, the same as synchronous signing', async () => {
  const key = generateHubKey();
  const signer = new FrameSigner(key);
  const body = encodeBody(new FrameMaker({ hubId: 'h', clock: new ManualClock(5), signer }).body(3, 's', { event: { event_id: 'e', kind: 1, at_ms: 5 } }));
  const a = decodeSigned(await signer.signAsync(body));
  const b = decodeSigned(signer.sign(body));
  assert.equal(verifyBody(a.body, a.signature, key.publicKey), true);
  // Ed25519 is deterministic (RFC 8032): the same key and message give the same signature.
  assert.deepEqual(Buffer.from(a.signature), Buffer.from(b.signature));
});

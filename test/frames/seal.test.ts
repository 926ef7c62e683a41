// Payload sealing (X25519, HKDF-SHA256, AES-256-GCM): a fixed test vector, cross-checked with
// the openssl command line, and the ways a sealed payload fails to open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBody, decodeSigned, GapReason, HubState, SealAlgorithm, type Payload, type Sealed } from '../../src/frames/codec.js';
import { FrameMaker, HUB_SUBJECT } from '../../src/frames/frame-maker.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { generateSealKey, loadOpenKey, loadSealRecipient, OpenKeys, seal, sealAad, sealedPlaintext, sealKey, sealRecipientOf, type SealContext } from '../../src/frames/seal.js';
import { FrameSigner, verifyBody } from '../../src/frames/sign.js';
import { ManualClock } from '../../src/ops/clock.js';
import { isTwinedgeError } from '../../src/ops/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';

// RFC 7748 section 6.1: Alice's key pair is the ephemeral one here, Bob's the twin server's.
const ALICE_PRIVATE = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const ALICE_PUBLIC = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const BOB_PRIVATE = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
const BOB_PUBLIC = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

// The rest of the vector was computed from the inputs below by a second, independent
// implementation: the Python `cryptography` package (X25519PrivateKey.exchange, HKDF with
// SHA256, AESGCM.encrypt), not by the code under test.
const VECTOR = {
  ctx: { hubId: 'hub-vector', subjectRef: 'subj-1', kind: 'event', seq: 42 } satisfies SealContext,
  payload: { event: { event_id: 'e-1', kind: 1, code: 'ATC:N02BE01', at_ms: 1_795_000_000_000 } } satisfies Payload,
  nonce: '000102030405060708090a0b',
  plaintext: '92011b0a03652d3110011a0b4154433a4e3032424530313080bcd9f29e34',
  recipientKeyId: 'f35e5616160a30bf',
  aesKey: '4aa03bbb06c2e5078d9a5eef1b389cf91406cd588555826f6c7d92910d150060',
  ciphertext: '45546631d83a2ee910ed00af4d0c0ef5cc913f22259377444757b84d3b04',
  tag: 'f3244919384091e593e721b7f01776a9',
};

const hex = (s: string) => Buffer.from(s, 'hex');
const b64u = (s: string) => hex(s).toString('base64url');
const x25519Private = (d: string, x: string) => createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64u(d), x: b64u(x) }, format: 'jwk' });
const x25519Public = (x: string) => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(x) }, format: 'jwk' });
const bobPair = () => ({ privateKey: x25519Private(BOB_PRIVATE, BOB_PUBLIC), publicKey: x25519Public(BOB_PUBLIC), keyId: VECTOR.recipientKeyId });

function vectorSealed(): Sealed {
  return seal(sealRecipientOf(x25519Public(BOB_PUBLIC)), VECTOR.ctx, VECTOR.payload, { ephemeral: x25519Private(ALICE_PRIVATE, ALICE_PUBLIC), nonce: hex(VECTOR.nonce) });
}

test('the sealing layer reproduces the fixed vector', () => {
  assert.equal(Buffer.from(sealedPlaintext(VECTOR.payload)).toString('hex'), VECTOR.plaintext);
  assert.equal(sealKey(hex(SHARED), hex(ALICE_PUBLIC), hex(BOB_PUBLIC), VECTOR.ctx.hubId, VECTOR.recipientKeyId).toString('hex'), VECTOR.aesKey);
  const s = vectorSealed();
  assert.equal(s.algorithm, SealAlgorithm.X25519_HKDF_SHA256_AES_256_GCM);
  assert.equal(s.kind, 'event');
  assert.equal(s.recipient_key_id, VECTOR.recipientKeyId);
  assert.equal(Buffer.from(s.ephemeral_public_key).toString('hex'), ALICE_PUBLIC);
  assert.equal(Buffer.from(s.nonce).toString('hex'), VECTOR.nonce);
  assert.equal(Buffer.from(s.ciphertext).toString('hex'), VECTOR.ciphertext);
  assert.equal(Buffer.from(s.tag).toString('hex'), VECTOR.tag);
  const opened = new OpenKeys([bobPair()]).open(VECTOR.ctx, s);
  assert.ok(opened.ok);
  assert.equal(opened.payload.event?.code, 'ATC:N02BE01');
  assert.equal(opened.payload.event?.at_ms, 1_795_000_000_000);
});

/** GF(2^128) product of NIST SP 800-38D section 6.3, on 128-bit big-endian integers. */
function gfMul(x: bigint, y: bigint): bigint {
  const R = 0xe1n << 120n;
  let z = 0n;
  let v = y;
  for (let i = 127n; i >= 0n; i--) {
    if ((x >> i) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z;
}

/** GHASH over the additional data and ciphertext, each zero-padded, then their bit lengths. */
function ghash(h: bigint, aad: Buffer, ct: Buffer): bigint {
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((16 - (b.length % 16)) % 16)]);
  const lengths = Buffer.alloc(16);
  lengths.writeBigUInt64BE(BigInt(aad.length * 8), 0);
  lengths.writeBigUInt64BE(BigInt(ct.length * 8), 8);
  const all = Buffer.concat([pad(aad), pad(ct), lengths]);
  let y = 0n;
  for (let at = 0; at < all.length; at += 16) y = gfMul(y ^ BigInt('0x' + all.subarray(at, at + 16).toString('hex')), h);
  return y;
}

test('openssl agrees: X25519 derive, HKDF, and AES-256-GCM as CTR plus a hand-computed GHASH', { skip: requireTool('openssl'), timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const openssl = (args: string[], input?: Buffer) => {
    const r = spawnSync('openssl', args, { input });
    assert.equal(r.status, 0, r.stderr?.toString());
    return r.stdout;
  };
  // The recipient's side: Bob's private key with the ephemeral public key from the frame.
  const bobKey = join(dir, 'bob.key');
  const ephemeralPub = join(dir, 'ephemeral.pub');
  await writeFile(bobKey, x25519Private(BOB_PRIVATE, BOB_PUBLIC).export({ format: 'pem', type: 'pkcs8' }));
  await writeFile(ephemeralPub, x25519Public(ALICE_PUBLIC).export({ format: 'pem', type: 'spki' }));
  const shared = openssl(['pkeyutl', '-derive', '-inkey', bobKey, '-peerkey', ephemeralPub]);
  assert.equal(shared.toString('hex'), SHARED);

  const salt = ALICE_PUBLIC + BOB_PUBLIC;
  const info = Buffer.from(['twin.v1.sealed', '1', VECTOR.ctx.hubId, VECTOR.recipientKeyId].join('\0')).toString('hex');
  const kdf = openssl(['kdf', '-keylen', '32', '-kdfopt', 'digest:SHA256', '-kdfopt', `hexkey:${shared.toString('hex')}`, '-kdfopt', `hexsalt:${salt}`, '-kdfopt', `hexinfo:${info}`, 'HKDF']);
  const aesKey = kdf.toString('ascii').trim().replace(/:/g, '').toLowerCase();
  assert.equal(aesKey, VECTOR.aesKey);

  // GCM encrypts with CTR from the counter block after J0 = nonce || 00000001 (SP 800-38D 7.1).
  const plaintext = openssl(['enc', '-d', '-aes-256-ctr', '-K', aesKey, '-iv', `${VECTOR.nonce}00000002`, '-nopad'], hex(VECTOR.ciphertext));
  assert.equal(plaintext.toString('hex'), VECTOR.plaintext);
  // The tag: GHASH under H = E(K, 0^128), masked with E(K, J0); the two blocks from openssl.
  const blocks = openssl(['enc', '-e', '-aes-256-ecb', '-K', aesKey, '-nopad'], Buffer.concat([Buffer.alloc(16), hex(`${VECTOR.nonce}00000001`)]));
  const h = BigInt('0x' + blocks.subarray(0, 16).toString('hex'));
  const ej0 = BigInt('0x' + blocks.subarray(16, 32).toString('hex'));
  const tag = (ghash(h, sealAad(VECTOR.ctx), hex(VECTOR.ciphertext)) ^ ej0).toString(16).padStart(32, '0');
  assert.equal(tag, VECTOR.tag);
});

test('a sealed payload opens only with its key, its bytes and the header it was sealed for', () => {
  const server = generateSealKey();
  const ctx: SealContext = { hubId: 'hub-a', subjectRef: 'subj-1', kind: 'cross_section', seq: 7 };
  const payload: Payload = { cross_section: { window_start_ms: 1000, window_end_ms: 2000, features: [{ code: 'hr.mean', value: 61, unit: '/min' }] } };
  const sealed = seal(sealRecipientOf(server.publicKey), ctx, payload);
  const keys = new OpenKeys([server]);
  const opened = keys.open(ctx, sealed);
  assert.ok(opened.ok);
  assert.equal(opened.payload.cross_section?.features?.[0]?.value, 61);

  const reason = (r: ReturnType<OpenKeys['open']>) => (r.ok ? 'opened' : r.reason);
  assert.equal(reason(new OpenKeys([generateSealKey()]).open(ctx, sealed)), 'seal_wrong_key');
  assert.equal(reason(keys.open(ctx, { ...sealed, algorithm: 2 })), 'seal_wrong_key');
  const flipped = Buffer.from(sealed.ciphertext);
  flipped[3]! ^= 0x01;
  assert.equal(reason(keys.open(ctx, { ...sealed, ciphertext: flipped })), 'seal_open_failed');
  assert.equal(reason(keys.open(ctx, { ...sealed, tag: Buffer.alloc(16) })), 'seal_open_failed');
  assert.equal(reason(keys.open(ctx, { ...sealed, tag: sealed.tag.subarray(0, 12) })), 'seal_open_failed');
  assert.equal(reason(keys.open(ctx, { ...sealed, ephemeral_public_key: Buffer.alloc(32) })), 'seal_open_failed', 'an all-zero (low-order) ephemeral key');
  // The same bytes under another frame's header: the seq, subject, kind and hub are bound.
  assert.equal(reason(keys.open({ ...ctx, seq: 8 }, sealed)), 'seal_open_failed');
  assert.equal(reason(keys.open({ ...ctx, subjectRef: 'subj-2' }, sealed)), 'seal_open_failed');
  assert.equal(reason(keys.open({ ...ctx, kind: 'exposure' }, sealed)), 'seal_open_failed');
  assert.equal(reason(keys.open({ ...ctx, hubId: 'hub-b' }, sealed)), 'seal_open_failed');
  // Every frame gets its own ephemeral key and nonce.
  const again = seal(sealRecipientOf(server.publicKey), ctx, payload);
  assert.notDeepEqual(Buffer.from(again.ephemeral_public_key), Buffer.from(sealed.ephemeral_public_key));
  assert.notDeepEqual(Buffer.from(again.ciphertext), Buffer.from(sealed.ciphertext));
});

test('FrameMaker seals every payload but status and gap, and keeps the header in clear', () => {
  const server = generateSealKey();
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 8), 'synced');
  const hubKey = generateHubKey();
  const maker = new FrameMaker({ hubId: 'hub-a', clock, signer: new FrameSigner(hubKey), sealTo: sealRecipientOf(server.publicKey) });
  const bodyOf = (frame: Uint8Array) => {
    const signed = decodeSigned(frame);
    assert.ok(verifyBody(signed.body, signed.signature, hubKey.publicKey), 'signed over the body as sent');
    return decodeBody(signed.body);
  };
  const cs = bodyOf(maker.make(5, 'subj-1', { cross_section: { window_start_ms: 0, window_end_ms: 10_000, features: [{ code: 'hr.mean', value: 70, unit: '/min' }] } }));
  assert.equal(cs.kind, 'cross_section');
  assert.equal(cs.cross_section, undefined, 'nothing clinical in clear');
  assert.equal(cs.sealed?.kind, 'cross_section');
  assert.deepEqual([cs.hub_id, cs.subject_ref, cs.seq, cs.boot_id], ['hub-a', 'subj-1', 5, clock.bootId]);
  const opened = new OpenKeys([server]).open({ hubId: 'hub-a', subjectRef: 'subj-1', kind: 'cross_section', seq: 5 }, cs.sealed!);
  assert.ok(opened.ok);
  assert.equal(opened.payload.cross_section?.features?.[0]?.value, 70);

  const ev = bodyOf(maker.make(6, 'subj-1', { event: { event_id: 'e-2', kind: 6, at_ms: 1, note: 'felt dizzy' } }));
  assert.equal(ev.sealed?.kind, 'event');
  assert.equal(ev.event, undefined);
  const st = bodyOf(maker.make(0, HUB_SUBJECT, { status: { state: HubState.ONLINE, last_seq: 6 } }));
  assert.equal(st.sealed, undefined);
  assert.equal(st.status?.state, HubState.ONLINE);
  const gap = bodyOf(maker.make(7, HUB_SUBJECT, { gap: { reason: GapReason.QUOTA_FULL, dropped: [{ first: 1, last: 2 }] } }));
  assert.equal(gap.sealed, undefined);
  assert.deepEqual(gap.gap?.dropped, [{ first: 1, last: 2 }]);
});

test('sealing key files: X25519 only, the private one mode 0600', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const ed = generateKeyPairSync('ed25519');
  const x = generateSealKey();
  const write = async (name: string, pem: string | Buffer, mode = 0o600) => {
    const f = join(dir, name);
    await writeFile(f, pem, { mode });
    await chmod(f, mode);
    return f;
  };
  const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isTwinedgeError(e) ? e.code : String(e)));
  assert.equal(await code(loadSealRecipient(await write('ed.pub', ed.publicKey.export({ format: 'pem', type: 'spki' })))), 'SEAL_KEY_INVALID');
  assert.equal(await code(loadSealRecipient(await write('x.key', x.privateKey.export({ format: 'pem', type: 'pkcs8' })))), 'SEAL_KEY_INVALID');
  assert.equal(await code(loadSealRecipient(join(dir, 'absent.pub'))), 'KEY_FILE_UNREADABLE');
  assert.equal((await loadSealRecipient(await write('x.pub', x.publicKey.export({ format: 'pem', type: 'spki' })))).keyId, x.keyId);
  assert.equal(await code(loadOpenKey(await write('ed.key', ed.privateKey.export({ format: 'pem', type: 'pkcs8' })))), 'SEAL_KEY_INVALID');
  assert.equal(await code(loadOpenKey(await write('x-open.key', x.privateKey.export({ format: 'pem', type: 'pkcs8' }), 0o644))), 'KEY_FILE_EXPOSED');
  assert.equal((await loadOpenKey(await write('x-ok.key', x.privateKey.export({ format: 'pem', type: 'pkcs8' })))).keyId, x.keyId);
});


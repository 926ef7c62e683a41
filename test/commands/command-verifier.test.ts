// The checks a command passes before a hub carries it out, in their order, with real Ed25519
// keys: a frame's signature never passes as a command's, and each refusal has its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, sign } from 'node:crypto';
import { encodeCommandBody, encodeSignedCommand, type CommandBody } from '../../src/commands/command-codec.js';
import { COMMAND_SIGNING_DOMAIN, makeSignedCommand } from '../../src/commands/command-sign.js';
import { CommandVerifier } from '../../src/commands/command-verifier.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { FrameSigner, SIGNING_DOMAIN } from '../../src/frames/sign.js';
import { ManualClock } from '../../src/ops/clock.js';

const NOW = Date.UTC(2026, 4, 2, 9, 0, 0);
const WINDOW = 300_000;
const server = generateHubKey();

function setup(seen: Set<string> = new Set()) {
  const clock = new ManualClock(NOW, 'synced');
  const verifier = new CommandVerifier({ hubId: 'hub-a', trusted: { publicKey: server.publicKey, keyId: server.keyId }, windowMs: WINDOW, clock, seen: (n) => seen.has(n) });
  return { clock, verifier };
}

function body(over: Partial<CommandBody> = {}): CommandBody {
  return { schema_version: 1, hub_id: 'hub-a', issued_at_ms: NOW, nonce: randomBytes(16), resend_status: {}, ...over } as CommandBody;
}

test('a command signed by the trusted key, for this hub, fresh and new, passes', () => {
  const { verifier } = setup();
  const b = body();
  const v = verifier.verify(makeSignedCommand(server, b));
  assert.ok(v.ok, JSON.stringify(v));
  assert.equal(v.command.body.command, 'resend_status');
  assert.equal(v.command.nonceHex, Buffer.from(b.nonce).toString('hex'));
  assert.equal(v.command.keyId, server.keyId);
  assert.equal(v.command.expiresAtMs, NOW + WINDOW);
});

test('the two signing contexts differ, so a frame signature over the same bytes is refused', () => {
  assert.notDeepEqual(COMMAND_SIGNING_DOMAIN, SIGNING_DOMAIN);
  const { verifier } = setup();
  const bytes = encodeCommandBody(body());
  // The server key used as a hub key would sign a frame "body" this way.
  const asFrame = new FrameSigner(server).sign(bytes);
  const frameSig = sign(null, Buffer.concat([SIGNING_DOMAIN, bytes]), server.privateKey);
  const v = verifier.verify(encodeSignedCommand({ body: bytes, signature: frameSig, key_id: server.keyId }));
  assert.equal(!v.ok && v.reason, 'bad_signature');
  // A SignedFrame and a SignedCommand share their field numbers: the whole frame is refused too.
  const whole = verifier.verify(asFrame);
  assert.equal(!whole.ok && whole.reason, 'bad_signature');
});

test('each refusal has its reason, checked in order', () => {
  const seen = new Set<string>();
  const { verifier, clock } = setup(seen);
  const other = generateHubKey();
  const reason = (bytes: Uint8Array) => {
    const v = verifier.verify(bytes);
    return v.ok ? 'ok' : v.reason;
  };
  const good = encodeCommandBody(body());
  const sig = sign(null, Buffer.concat([COMMAND_SIGNING_DOMAIN, good]), server.privateKey);

  assert.equal(reason(Buffer.from('garbage that is no protobuf \xff\xff\xff')), 'malformed');
  assert.equal(reason(encodeSignedCommand({ body: new Uint8Array(), signature: sig, key_id: server.keyId })), 'malformed');
  assert.equal(reason(encodeSignedCommand({ body: good, signature: new Uint8Array(), key_id: server.keyId })), 'unsigned');
  assert.equal(reason(makeSignedCommand(other, body())), 'bad_signature', 'another key');
  assert.equal(reason(encodeSignedCommand({ body: good, signature: sig.subarray(0, 63), key_id: server.keyId })), 'bad_signature', 'a cut signature');
  const flipped = Buffer.from(good);
  flipped[flipped.length - 1]! ^= 1;
  assert.equal(reason(encodeSignedCommand({ body: flipped, signature: sig, key_id: server.keyId })), 'bad_signature', 'a flipped body byte');
  // Signed, but not a command body the hub reads.
  assert.equal(reason(makeSignedCommand(server, body({ schema_version: 2 }))), 'malformed');
  assert.equal(reason(makeSignedCommand(server, body({ nonce: randomBytes(8) }))), 'malformed');
  assert.equal(reason(makeSignedCommand(server, { schema_version: 1, hub_id: 'hub-a', issued_at_ms: NOW, nonce: randomBytes(16) } as unknown as CommandBody)), 'malformed');
  assert.equal(reason(makeSignedCommand(server, body({ hub_id: 'hub-b' }))), 'wrong_hub');
  assert.equal(reason(makeSignedCommand(server, body({ issued_at_ms: NOW - WINDOW - 1 }))), 'stale', 'older than the window');
  assert.equal(reason(makeSignedCommand(server, body({ issued_at_ms: NOW + WINDOW + 1 }))), 'stale', 'further ahead than the window');
  assert.equal(reason(makeSignedCommand(server, body({ issued_at_ms: NOW - 60_000, valid_for_ms: 30_000 }))), 'stale', 'expired by its own valid_for');
  assert.equal(reason(makeSignedCommand(server, body({ issued_at_ms: NOW - 60_000, valid_for_ms: 120_000 }))), 'ok');
  assert.equal(reason(makeSignedCommand(server, body({ issued_at_ms: NOW - WINDOW + 1000, valid_for_ms: 3_600_000 }))), 'ok', 'within the window');
  assert.equal(reason(makeSignedCommand(server, body({ issued_at_ms: NOW - WINDOW - 1000, valid_for_ms: 3_600_000 }))), 'stale', 'valid_for never stretches the window');
  const nonce = randomBytes(16);
  seen.add(nonce.toString('hex'));
  assert.equal(reason(makeSignedCommand(server, body({ nonce }))), 'replayed');
  clock.setSync('unsynced');
  assert.equal(reason(makeSignedCommand(server, body())), 'clock_unsynced');
  clock.setSync('jumped');
  assert.equal(reason(makeSignedCommand(server, body())), 'clock_unsynced', 'a clock that just jumped is not trusted either');
});

test('a signed refusal carries the command (so it can be answered), an unsigned one does not', () => {
  const { verifier } = setup();
  const wrongHub = verifier.verify(makeSignedCommand(server, body({ hub_id: 'hub-b' })));
  assert.ok(!wrongHub.ok && wrongHub.command?.body.hub_id === 'hub-b');
  const bytes = encodeCommandBody(body());
  const unsigned = verifier.verify(encodeSignedCommand({ body: bytes, signature: new Uint8Array(), key_id: server.keyId }));
  assert.ok(!unsigned.ok && unsigned.command === undefined);
});

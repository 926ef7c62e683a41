import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSigned, encodeSigned, GapReason, SCHEMA_VERSION } from '../../src/frames/codec.js';
import { frameTopic } from '../../src/publish/topics.js';
import { FrameVerifier, type Verdict } from '../../src/receiver/verify.js';
import { flipBit, TestHub, trustFor } from './helpers.js';

const hubA = new TestHub('hub-a');
const hubB = new TestHub('hub-b');
const stranger = new TestHub('hub-a');
// hub-a's key is also bound to hub-c, so a hub-a frame on a hub-c topic passes the key check and
// must be caught by comparing the topic's hub with the body's.
const verifier = new FrameVerifier(trustFor(['hub-a', hubA], ['hub-b', hubB], ['hub-c', hubA]));

function reason(v: Verdict): string {
  return v.ok ? 'accepted' : v.reason;
}

test('a good frame is accepted with its header, decoded body and the exact body bytes', () => {
  const m = hubA.crossSection(7);
  const v = verifier.verify(m.topic, m.payload);
  assert.ok(v.ok);
  assert.equal(v.frame.hub_id, 'hub-a');
  assert.equal(v.frame.subject_ref, 'subj-1');
  assert.equal(v.frame.seq, 7);
  assert.equal(v.frame.kind, 'cross_section');
  assert.equal(v.frame.key_id, hubA.keyId);
  assert.equal(v.frame.topic, m.topic);
  assert.deepEqual(Buffer.from(v.frame.bodyBytes), Buffer.from(decodeSigned(m.payload).body));
  assert.equal(v.frame.body.cross_section?.features?.[0]?.value, 67);
});

test('status frames are accepted on the status topic with seq 0', () => {
  const m = hubA.status('online', 12);
  const v = verifier.verify(m.topic, m.payload);
  assert.ok(v.ok);
  assert.equal(v.frame.kind, 'status');
  assert.equal(v.frame.seq, 0);
});

test('each kind of bad message gets its own reason', () => {
  const good = hubA.crossSection(1);
  const signed = decodeSigned(good.payload);
  const withBody = (body: Uint8Array) => hubA.signRaw(body);
  const cases: Array<[string, string, Uint8Array, string]> = [
    ['not our topic', 'other/v1/hub-a/subj-1/cross-section', good.payload, 'bad_topic'],
    // A status on a frame topic is a key handover's topic: this cross-section does not belong there.
    ['cross-section on a status frame topic', 'twin/v1/hub-a/subj-1/status', good.payload, 'topic_mismatch'],
    ['garbage', good.topic, Buffer.from('hello, this is not a frame at all'), 'malformed'],
    ['empty', good.topic, new Uint8Array(0), 'malformed'],
    ['truncated', good.topic, good.payload.subarray(0, good.payload.length - 5), 'malformed'],
    ['short signature', good.topic, encodeSigned({ ...signed, signature: signed.signature.subarray(0, 63) }), 'malformed'],
    ['key_id not hex', good.topic, encodeSigned({ ...signed, key_id: 'HUB-A-KEY' }), 'malformed'],
    ['unknown key', good.topic, stranger.crossSection(1).payload, 'unknown_key'],
    ['key of another hub', good.topic, encodeSigned({ ...decodeSigned(new TestHub('hub-a', hubB.key).crossSection(1).payload) }), 'key_hub_mismatch'],
    ['frame republished under another hub', frameTopic('hub-b', 'subj-1', 'cross_section'), good.payload, 'key_hub_mismatch'],
    ['flipped body bit', good.topic, encodeSigned({ ...signed, body: flipBit(signed.body, 77) }), 'bad_signature'],
    ['flipped signature bit', good.topic, encodeSigned({ ...signed, signature: flipBit(signed.signature, 300) }), 'bad_signature'],
    ['signed garbage body', good.topic, withBody(Buffer.from([0xff, 0xff, 0xff])), 'malformed_body'],
    ['signed body without payload', good.topic, withBody(new Uint8Array([0x08, 0x01])), 'malformed_body'],
    ['topic names another hub the key may speak for', frameTopic('hub-c', 'subj-1', 'cross_section'), good.payload, 'topic_hub_mismatch'],
    ['wrong subject in topic', frameTopic('hub-a', 'subj-2', 'cross_section'), good.payload, 'topic_mismatch'],
    ['wrong kind in topic', frameTopic('hub-a', 'subj-1', 'exposure'), good.payload, 'topic_mismatch'],
    ['frame on the status topic', 'twin/v1/hub-a/status', good.payload, 'topic_mismatch'],
    ['schema 2', good.topic, withBody(hubA.encode({ ...hubA.header(2), schema_version: SCHEMA_VERSION + 1, cross_section: { window_start_ms: 0, window_end_ms: 1 } })), 'unsupported_schema'],
    ['seq 0 outside status', good.topic, withBody(hubA.encode({ ...hubA.header(0), cross_section: { window_start_ms: 0, window_end_ms: 1 } })), 'malformed_body'],
    ['gap declaring its own seq', frameTopic('hub-a', '_hub', 'gap'), withBody(hubA.encode({ ...hubA.header(9, '_hub'), gap: { reason: GapReason.QUOTA_FULL, dropped: [{ first: 5, last: 9 }] } })), 'malformed_body'],
    ['gap with an inverted range', frameTopic('hub-a', '_hub', 'gap'), withBody(hubA.encode({ ...hubA.header(9, '_hub'), gap: { reason: GapReason.QUOTA_FULL, dropped: [{ first: 5, last: 4 }] } })), 'malformed_body'],
  ];
  for (const [name, topic, payload, expected] of cases) {
    assert.equal(reason(verifier.verify(topic, payload)), expected, name);
  }
});

test('the signature is checked before anything in the body is believed', () => {
  // A tampered body that also lies about its hub is reported as a bad signature, not a mismatch.
  const m = hubA.crossSection(3);
  const signed = decodeSigned(m.payload);
  const lying = hubA.encode({ ...hubA.header(3), hub_id: 'hub-c', cross_section: { window_start_ms: 0, window_end_ms: 1 } });
  assert.equal(reason(verifier.verify(m.topic, encodeSigned({ ...signed, body: lying }))), 'bad_signature');
  // Unknown key wins over a broken signature: nothing to check it with.
  const s2 = decodeSigned(stranger.crossSection(3).payload);
  assert.equal(reason(verifier.verify(m.topic, encodeSigned({ ...s2, signature: flipBit(s2.signature, 1) }))), 'unknown_key');
});

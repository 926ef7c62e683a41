// Key handovers at the receiver: the verifier, the ledger and the LevelDB state together, one
// message at a time through the FrameProcessor the Receiver uses. The broker round trip, with a
// real Hub, is in test/hub/key-rotation.test.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { HubState, type Status } from '../../src/frames/codec.js';
import { HUB_SUBJECT } from '../../src/frames/frame-maker.js';
import { generateHubKey, type HubKey } from '../../src/frames/keys.js';
import { generateSealKey } from '../../src/frames/seal.js';
import { statusTopic } from '../../src/publish/topics.js';
import { LevelDedupe } from '../../src/receiver/dedupe.js';
import { KeyLedger } from '../../src/receiver/key-ledger.js';
import { FrameProcessor } from '../../src/receiver/processor.js';
import type { TrustStore } from '../../src/receiver/trust.js';
import { FrameVerifier } from '../../src/receiver/verify.js';
import { tempDir } from '../helpers/tmp.js';
import { RecordingSink, TestHub, trustFor, type Message } from './helpers.js';

const newKey = generateHubKey();
const oldHub = new TestHub('hub-a');
const newHub = new TestHub('hub-a', newKey);

function spki(key: HubKey): Uint8Array {
  return key.publicKey.export({ format: 'der', type: 'spki' });
}

/** A key handover at `seq`, signed by `by`, announcing `next` (or whatever `override` says). */
function handover(by: TestHub, seq: number, next: HubKey, override: Partial<NonNullable<Status['next_key']>> = {}): Message {
  return by.make(seq, HUB_SUBJECT, {
    status: { state: HubState.ONLINE, last_seq: seq - 1, next_key: { public_key: spki(next), key_id: next.keyId, from_seq: seq + 1, ...override } },
  }, 'status');
}

function birth(by: TestHub, lastSeq: number, keyHandovers: Uint8Array[] = []): Message {
  by.clock.advance(1000);
  return { topic: statusTopic(by.hubId), payload: by.maker.make(0, HUB_SUBJECT, { status: { state: HubState.ONLINE, last_seq: lastSeq, key_handovers: keyHandovers } }) };
}

/** The receiver's processing on real LevelDB state in `dir`; open it again to see a restart. */
async function openReceiver(dir: string, trust: TrustStore) {
  const ledger = new KeyLedger(trust);
  const state = new LevelDedupe({ location: join(dir, 'state'), ledger });
  await state.open();
  const sink = new RecordingSink();
  const processor = new FrameProcessor({ verifier: new FrameVerifier(trust, { ledger }), state, sink });
  const outcome = async (m: Message) => {
    const o = await processor.process(m.topic, m.payload);
    return o.status === 'accepted' ? 'accepted' : o.reason;
  };
  return { state, sink, processor, outcome, close: () => state.close() };
}

async function receiverFor(t: TestContext, trust: TrustStore) {
  const dir = await tempDir(t);
  const rx = await openReceiver(dir, trust);
  t.after(() => rx.close());
  return { dir, rx };
}

test('a handover signed by the trusted key: the new key signs from its from_seq, the old one is retired from there', async (t) => {
  const { rx } = await receiverFor(t, trustFor(['hub-a', oldHub]));
  // Seq 3 is late (a reconnect delivers it after the handover); the handover is seq 4.
  assert.equal(await rx.outcome(oldHub.crossSection(1)), 'accepted');
  assert.equal(await rx.outcome(oldHub.crossSection(2)), 'accepted');
  assert.equal(await rx.outcome(birth(newHub, 4)), 'unknown_key', 'before the handover, the new key is nobody');
  assert.equal(await rx.outcome(handover(oldHub, 4, newKey)), 'accepted');
  assert.equal(await rx.outcome(newHub.crossSection(5)), 'accepted');
  assert.equal(await rx.outcome(newHub.crossSection(6)), 'accepted');
  assert.equal(await rx.outcome(newHub.crossSection(3)), 'key_not_yet_valid', 'the new key signs nothing below its from_seq');
  assert.equal(await rx.outcome(oldHub.crossSection(3)), 'accepted', 'the old key still vouches for seqs before the switch');
  assert.equal(await rx.outcome(oldHub.crossSection(7)), 'key_retired', 'a frame the old key signed after the switch');
  assert.equal(await rx.outcome(birth(oldHub, 6)), 'key_retired', 'a birth made after the switch, signed by the old key');
  assert.equal(await rx.outcome(birth(newHub, 6)), 'accepted');
  assert.deepEqual(rx.sink.frames.map((f) => [f.seq, f.key_id === newKey.keyId ? 'new' : 'old']), [
    [1, 'old'], [2, 'old'], [4, 'old'], [5, 'new'], [6, 'new'], [3, 'old'], [0, 'new'],
  ]);
  assert.deepEqual(rx.state.missing('hub-a'), []);
  assert.equal(rx.state.watermark('hub-a'), 6);
  const c = rx.processor.counters();
  assert.deepEqual([c.rejected.key_retired, c.rejected.key_not_yet_valid, c.rejected.unknown_key], [2, 1, 1]);
});

test('what a handover taught survives a restart of the receiver state', async (t) => {
  const dir = await tempDir(t);
  const trust = trustFor(['hub-a', oldHub]);
  const first = await openReceiver(dir, trust);
  assert.equal(await first.outcome(oldHub.crossSection(1)), 'accepted');
  assert.equal(await first.outcome(handover(oldHub, 2, newKey)), 'accepted');
  await first.close();

  const again = await openReceiver(dir, trust);
  t.after(() => again.close());
  assert.equal(await again.outcome(newHub.crossSection(3)), 'accepted');
  assert.equal(await again.outcome(oldHub.crossSection(4)), 'key_retired');
  assert.equal(await again.outcome(handover(oldHub, 2, newKey)), 'replay', 'the handover itself is not taken twice');
});

test('a handover signed by a key the receiver does not trust teaches nothing', async (t) => {
  const { rx } = await receiverFor(t, trustFor(['hub-a', oldHub]));
  const stranger = new TestHub('hub-a');
  assert.equal(await rx.outcome(oldHub.crossSection(1)), 'accepted');
  assert.equal(await rx.outcome(handover(stranger, 2, newKey)), 'unknown_key');
  assert.equal(await rx.outcome(newHub.crossSection(3)), 'unknown_key');
  assert.equal(await rx.outcome(oldHub.crossSection(4)), 'accepted', 'the old key was not retired by it');
});

test('a handover that cannot be taken is bad_handover, and changes nothing', async (t) => {
  const { rx } = await receiverFor(t, trustFor(['hub-a', oldHub]));
  const other = generateHubKey();
  const x25519 = generateSealKey();
  const onStatusTopic = { topic: statusTopic('hub-a'), payload: oldHub.maker.make(0, HUB_SUBJECT, { status: { state: HubState.ONLINE, last_seq: 0, next_key: { public_key: spki(newKey), key_id: newKey.keyId, from_seq: 1 } } }) };
  assert.equal(await rx.outcome(onStatusTopic), 'bad_handover', 'on the retained topic its place in the sequence is unknown');
  assert.equal(await rx.outcome(handover(oldHub, 1, newKey, { key_id: other.keyId })), 'bad_handover', 'a key_id that is not the key');
  assert.equal(await rx.outcome(handover(oldHub, 1, newKey, { from_seq: 5 })), 'bad_handover', 'a from_seq other than seq + 1');
  assert.equal(await rx.outcome(handover(oldHub, 1, oldHub.key)), 'bad_handover', 'a key announcing itself');
  assert.equal(await rx.outcome(handover(oldHub, 1, newKey, { public_key: x25519.publicKey.export({ format: 'der', type: 'spki' }) })), 'bad_handover', 'not an Ed25519 key');
  assert.equal(await rx.outcome(handover(oldHub, 1, newKey, { public_key: new Uint8Array([1, 2, 3]) })), 'bad_handover', 'not a key at all');
  const onSubjectTopic = oldHub.make(1, 'subj-1', { status: { state: HubState.ONLINE, next_key: { public_key: spki(newKey), key_id: newKey.keyId, from_seq: 2 } } }, 'status');
  assert.equal(await rx.outcome(onSubjectTopic), 'topic_mismatch', 'handovers are the hub\'s own frames');
  assert.equal(await rx.outcome(newHub.crossSection(2)), 'unknown_key', 'none of them taught the new key');

  assert.equal(await rx.outcome(handover(oldHub, 4, newKey)), 'accepted');
  assert.equal(await rx.outcome(handover(oldHub, 2, other)), 'bad_handover', 'the old key already handed over');
  assert.equal(await rx.outcome(handover(newHub, 6, oldHub.key)), 'bad_handover', 'a retired key never comes back');
  assert.equal(await rx.outcome(new TestHub('hub-a', other).crossSection(7)), 'unknown_key');
  assert.equal(rx.processor.counters().rejected.bad_handover, 8);
});

test('handovers chain: a key learned from a handover can hand over in turn', async (t) => {
  const { rx } = await receiverFor(t, trustFor(['hub-a', oldHub]));
  const third = generateHubKey();
  const thirdHub = new TestHub('hub-a', third);
  assert.equal(await rx.outcome(handover(oldHub, 1, newKey)), 'accepted');
  assert.equal(await rx.outcome(handover(newHub, 2, third)), 'accepted');
  assert.equal(await rx.outcome(thirdHub.crossSection(3)), 'accepted');
  assert.equal(await rx.outcome(newHub.crossSection(4)), 'key_retired');
  assert.equal(await rx.outcome(oldHub.crossSection(5)), 'key_retired');
});

test('the trust file stays the root: keys learned from a key it no longer holds are not trusted', async (t) => {
  const dir = await tempDir(t);
  const first = await openReceiver(dir, trustFor(['hub-a', oldHub]));
  assert.equal(await first.outcome(handover(oldHub, 1, newKey)), 'accepted');
  await first.close();

  const elsewhere = new TestHub('hub-z');
  const without = await openReceiver(dir, trustFor(['hub-z', elsewhere]));
  assert.equal(await without.outcome(newHub.crossSection(2)), 'unknown_key', 'the old key left the trust file, and with it what it announced');
  await without.close();

  // The operator's end state: the new key in the trust file, the old one gone.
  const updated = await openReceiver(dir, trustFor(['hub-a', newHub]));
  t.after(() => updated.close());
  assert.equal(await updated.outcome(newHub.crossSection(3)), 'accepted');
  assert.equal(await updated.outcome(newHub.crossSection(1)), 'key_not_yet_valid', 'the handover still says where the new key starts');
  assert.equal(await updated.outcome(oldHub.crossSection(4)), 'unknown_key');
});

test('a birth carrying the handovers teaches a receiver that missed the handover frame', async (t) => {
  const { rx } = await receiverFor(t, trustFor(['hub-a', oldHub]));
  const h = handover(oldHub, 9, newKey);
  const forged = handover(new TestHub('hub-a'), 9, generateHubKey());
  assert.equal(await rx.outcome(birth(newHub, 20, [forged.payload])), 'unknown_key', 'a carried handover is verified like any frame');
  assert.equal(await rx.outcome(birth(newHub, 20, [h.payload])), 'accepted');
  assert.equal(await rx.outcome(oldHub.crossSection(8)), 'accepted', 'frames from before the switch');
  assert.equal(await rx.outcome(newHub.crossSection(21)), 'accepted');
  assert.equal(await rx.outcome(oldHub.crossSection(22)), 'key_retired');
  // The handover frame itself may still come, and is accepted in the sequence.
  assert.equal(await rx.outcome(h), 'accepted');
  assert.equal(rx.sink.frames.filter((f) => f.seq === 9 && f.kind === 'status').length, 1);
});

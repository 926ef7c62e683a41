// Consent on a real Hub: what a subject did not consent to is never written to the outbox. Each
// test opens the LevelDB outbox afterwards and decodes every frame stored there; the other
// subject's frames carry what this one's must not, so the checks can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendCommand } from '../../src/commands/command-client.js';
import type { ConsentKind } from '../../src/commands/consent.js';
import { CommandOutcome, ConsentKindCode } from '../../src/frames/codec.js';
import { isTwinedgeError } from '../../src/ops/errors.js';
import { commandTopic } from '../../src/publish/topics.js';
import { TrustStore } from '../../src/receiver/trust.js';
import { startAedesFor } from '../helpers/aedes.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';
import { brokerLink, consentPayload, crossSection, event, exposure, generateHubKey, HUB_ID, readOutbox, signedCommand, startHub, type StoredFrame } from './command-rig.js';

const ALL: ConsentKind[] = ['embeddings', 'features', 'exposure', 'events'];
const NO_BROKER = 'mqtt://127.0.0.1:1';

const of = (frames: StoredFrame[], subject: string, kind?: string) => frames.filter((f) => f.subjectRef === subject && (kind === undefined || f.kind === kind));

test('from the config: nothing a subject did not consent to reaches the outbox', async (t) => {
  const dir = await tempDir(t);
  const consent = new Map<string, readonly ConsentKind[]>([['p-1', ['features']], ['p-2', ALL]]);
  const rig = await startHub(t, { dir, brokerUrl: NO_BROKER, hubKey: generateHubKey(), consent });
  for (let i = 0; i < 5; i++) {
    await rig.source.emit([
      { subjectRef: 'p-1', payload: { cross_section: crossSection() } },
      { subjectRef: 'p-2', payload: { cross_section: crossSection() } },
      { subjectRef: 'p-1', payload: { exposure: exposure() } },
      { subjectRef: 'p-2', payload: { exposure: exposure() } },
      { subjectRef: 'p-1', payload: { event: event() } },
      { subjectRef: 'p-2', payload: { event: event() } },
    ], [{ key: 'exposure/p-1', value: Buffer.from('{"kept":true}') }]);
  }
  await assert.rejects(rig.hub.recordEvent('p-1', event()), (e) => isTwinedgeError(e) && e.code === 'EVENT_NOT_CONSENTED');
  await rig.hub.recordEvent('p-2', event());
  assert.deepEqual(rig.hub.commandStats().withheld, { embeddings: 5, features: 0, exposure: 5, events: 6 });
  await rig.stop();

  const { frames, state } = await readOutbox(rig.dataDir);
  const p1 = of(frames, 'p-1');
  assert.equal(p1.length, 5);
  for (const f of p1) {
    assert.equal(f.kind, 'cross_section');
    assert.deepEqual(f.body.cross_section!.embeddings, [], `seq ${f.seq}: no embeddings`);
    assert.equal(f.body.cross_section!.features!.length, 1, `seq ${f.seq}: its features`);
  }
  assert.equal(of(frames, 'p-2', 'cross_section').filter((f) => f.body.cross_section!.embeddings!.length === 1).length, 5);
  assert.equal(of(frames, 'p-2', 'exposure').length, 5);
  assert.equal(of(frames, 'p-2', 'event').length, 6);
  assert.ok(state.get('exposure/p-1'), 'the source\'s state is kept on the hub even when its frames are not sent');
});

test('consent [] keeps everything of the subject on the hub', async (t) => {
  const dir = await tempDir(t);
  const rig = await startHub(t, { dir, brokerUrl: NO_BROKER, hubKey: generateHubKey(), consent: new Map([['p-1', []], ['p-2', ALL]]) });
  await rig.source.emit([
    { subjectRef: 'p-1', payload: { cross_section: crossSection() } },
    { subjectRef: 'p-1', payload: { exposure: exposure() } },
    { subjectRef: 'p-1', payload: { event: event() } },
    { subjectRef: 'p-2', payload: { cross_section: crossSection() } },
  ]);
  await rig.stop();
  const { frames } = await readOutbox(rig.dataDir);
  assert.deepEqual(of(frames, 'p-1'), []);
  assert.equal(of(frames, 'p-2').length, 1);
});

test('a SetConsent command stops a subject\'s embeddings at once and after a restart; an edited config then wins', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const link = await brokerLink(t, broker.port);
  const hubKey = generateHubKey();
  const serverKey = generateHubKey();
  const subscribed = new Promise<void>((resolve) => broker.aedes.on('subscribe', (subs: Array<{ topic: string }>) => { if (subs.some((x) => x.topic === commandTopic(HUB_ID))) resolve(); }));
  const rig = await startHub(t, { dir, brokerUrl: link.url, hubKey, serverKey });
  await subscribed;
  await rig.source.emit([{ subjectRef: 'p-1', payload: { cross_section: crossSection() } }]);

  const { bytes, nonce } = signedCommand(serverKey, consentPayload('p-1', [ConsentKindCode.FEATURES, ConsentKindCode.EXPOSURE, ConsentKindCode.EVENTS]));
  const answer = await sendCommand({ brokerUrl: broker.url, hubId: HUB_ID, payload: bytes, nonce, trust: new TrustStore([{ hubId: HUB_ID, publicKey: hubKey.publicKey, source: 'test' }]), timeoutMs: 20_000 });
  assert.equal(answer.result.outcome, CommandOutcome.ACCEPTED, answer.result.detail);
  const resultSeq = answer.frame.seq;

  // The hub loses the broker, so what it makes from now on stays in the outbox to be read.
  link.cut();
  await until(() => !rig.hub.stats().publisher.connected, 'the hub cut off');
  await rig.source.emit([
    { subjectRef: 'p-1', payload: { cross_section: crossSection() } },
    { subjectRef: 'p-2', payload: { cross_section: crossSection() } },
    { subjectRef: 'p-1', payload: { exposure: exposure() } },
  ]);
  await rig.stop();
  let stored = await readOutbox(rig.dataDir);
  let after = stored.frames.filter((f) => f.seq > resultSeq);
  assert.equal(of(after, 'p-1', 'cross_section').length, 1);
  assert.deepEqual(of(after, 'p-1', 'cross_section')[0]!.body.cross_section!.embeddings, []);
  assert.equal(of(after, 'p-1', 'cross_section')[0]!.body.cross_section!.features!.length, 1);
  assert.equal(of(after, 'p-2', 'cross_section')[0]!.body.cross_section!.embeddings!.length, 1, 'the other subject\'s embeddings still go');
  assert.equal(of(after, 'p-1', 'exposure').length, 1, 'consented kinds still go');
  assert.ok(stored.state.has('consent/p-1'), 'the consent is stored with the answer');

  // A restart with the same config: the command's consent still holds.
  const again = await startHub(t, { dir, brokerUrl: link.url, hubKey, serverKey });
  assert.deepEqual(again.hub.consentOf('p-1'), ['features', 'exposure', 'events']);
  const seq = again.hub.stats().outbox.lastSeq;
  await again.source.emit([{ subjectRef: 'p-1', payload: { cross_section: crossSection() } }]);
  await again.stop();
  stored = await readOutbox(rig.dataDir);
  after = stored.frames.filter((f) => f.seq > seq);
  assert.equal(after.length, 1);
  assert.deepEqual(after[0]!.body.cross_section!.embeddings, []);

  // The operator edits the subject's consent in the config afterwards: the later decision applies.
  const edited = await startHub(t, { dir, brokerUrl: link.url, hubKey, serverKey, consent: new Map([['p-1', ['embeddings', 'features']], ['p-2', ALL]]) });
  assert.deepEqual(edited.hub.consentOf('p-1'), ['embeddings', 'features']);
  await edited.stop();
  assert.equal((await readOutbox(rig.dataDir)).state.has('consent/p-1'), false, 'the overtaken value is deleted');
});

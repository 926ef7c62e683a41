// Commands from the twin server to a real Hub (real LevelDB outbox, aedes broker, the commands
// signed and the answers checked as the twin server does it): each command is carried out and
// its effect seen; refused commands are counted and change nothing, a replay after a restart too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { sendCommand, type AnsweredCommand } from '../../src/commands/command-client.js';
import { encodeCommandBody, encodeSignedCommand, type CommandBody, type CommandPayload } from '../../src/commands/command-codec.js';
import { CommandOutcome, CommandRejection, ConsentKindCode, HubState, type CommandResult, type DecodedBody } from '../../src/frames/codec.js';
import { HUB_SUBJECT } from '../../src/frames/frame-maker.js';
import type { HubKey } from '../../src/frames/keys.js';
import { commandTopic, frameTopic, statusTopic } from '../../src/publish/topics.js';
import { TrustStore } from '../../src/receiver/trust.js';
import { FrameVerifier } from '../../src/receiver/verify.js';
import { startAedesFor, type AedesBroker } from '../helpers/aedes.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';
import { consentPayload, generateHubKey, HUB_ID, NOW, signedCommand, startHub, type HubRig } from './command-rig.js';

const { EMBEDDINGS, FEATURES, EXPOSURE, EVENTS } = ConsentKindCode;
const ALL = ['embeddings', 'features', 'exposure', 'events'];

/** Resolves when the hub has subscribed to its command topic (commands sent before are lost). */
function commandSubscription(broker: AedesBroker): Promise<void> {
  return new Promise((resolve) => {
    const on = (subs: Array<{ topic: string }>) => {
      if (!subs.some((s) => s.topic === commandTopic(HUB_ID))) return;
      broker.aedes.off('subscribe', on);
      resolve();
    };
    broker.aedes.on('subscribe', on);
  });
}

interface Setup {
  broker: AedesBroker;
  hubKey: HubKey;
  serverKey: HubKey;
  trust: TrustStore;
  rig: HubRig;
  dir: string;
  send(payload: CommandPayload, header?: Parameters<typeof signedCommand>[2]): Promise<AnsweredCommand>;
}

async function setup(t: Parameters<typeof tempDir>[0]): Promise<Setup> {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const hubKey = generateHubKey();
  const serverKey = generateHubKey();
  const subscribed = commandSubscription(broker);
  const rig = await startHub(t, { dir, brokerUrl: broker.url, hubKey, serverKey });
  await subscribed;
  const trust = new TrustStore([{ hubId: HUB_ID, publicKey: hubKey.publicKey, source: 'test' }]);
  return {
    broker, hubKey, serverKey, trust, rig, dir,
    send: (payload, header) => {
      const { bytes, nonce } = signedCommand(serverKey, payload, { issued_at_ms: rig.clock.wallMs(), ...header });
      return sendCommand({ brokerUrl: broker.url, hubId: HUB_ID, payload: bytes, nonce, trust, timeoutMs: 20_000 });
    },
  };
}

/** A plain subscriber that keeps every verified frame on some topics, decoded. */
async function watch(t: Parameters<typeof tempDir>[0], broker: AedesBroker, trust: TrustStore, topics: string[]): Promise<DecodedBody[]> {
  const seen: DecodedBody[] = [];
  const verifier = new FrameVerifier(trust);
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: `watch-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0 });
  t.after(() => client.endAsync());
  client.on('message', (topic, payload) => {
    const v = verifier.verify(topic, payload);
    if (v.ok) seen.push(v.frame.body);
  });
  await client.subscribeAsync(topics, { qos: 1 });
  return seen;
}

test('resend-status: carried out, answered, and the status is published again', async (t) => {
  const s = await setup(t);
  const statuses = await watch(t, s.broker, s.trust, [statusTopic(HUB_ID)]);
  await until(() => statuses.length === 1, 'the retained birth');
  s.rig.clock.advance(1000);
  const answer = await s.send({ resend_status: {} });
  assert.equal(answer.result.outcome, CommandOutcome.ACCEPTED, answer.result.detail);
  assert.equal(answer.result.command, 'resend_status');
  assert.equal(answer.result.command_key_id, s.serverKey.keyId);
  assert.equal(answer.frame.subject_ref, HUB_SUBJECT);
  assert.equal(answer.frame.key_id, s.hubKey.keyId, 'the answer is signed by the hub');
  await until(() => statuses.length === 2, 'the status published again');
  assert.equal(statuses[1]!.status!.state, HubState.ONLINE);
  assert.equal(statuses[1]!.boot_id, statuses[0]!.boot_id);
  assert.ok(statuses[1]!.mono_ms > statuses[0]!.mono_ms, 'a new status, not the retained one again');
  assert.equal(s.rig.hub.commandStats().accepted, 1);
});

test('set-consent: carried out, answered with the consent now in force, kept across a restart', async (t) => {
  const s = await setup(t);
  const answer = await s.send(consentPayload('p-1', [FEATURES, EVENTS, EXPOSURE]));
  assert.equal(answer.result.outcome, CommandOutcome.ACCEPTED, answer.result.detail);
  assert.deepEqual(answer.result.consent, { subject_ref: 'p-1', allowed: [FEATURES, EXPOSURE, EVENTS] });
  assert.deepEqual(s.rig.hub.consentOf('p-1'), ['features', 'exposure', 'events']);
  assert.deepEqual(s.rig.hub.consentOf('p-2'), ALL, 'one subject only');
  await s.rig.stop();
  const again = await startHub(t, { dir: s.dir, brokerUrl: 'mqtt://127.0.0.1:1', hubKey: s.hubKey, serverKey: s.serverKey });
  assert.deepEqual(again.hub.consentOf('p-1'), ['features', 'exposure', 'events']);
});

test('set-consent for a subject the hub does not serve, or with an unknown kind, is refused and changes nothing', async (t) => {
  const s = await setup(t);
  const unknown = await s.send(consentPayload('p-9', [FEATURES]));
  assert.equal(unknown.result.outcome, CommandOutcome.REJECTED);
  assert.equal(unknown.result.rejection, CommandRejection.UNKNOWN_SUBJECT);
  const bad = await s.send(consentPayload('p-1', [FEATURES, 9]));
  assert.equal(bad.result.rejection, CommandRejection.INVALID);
  assert.deepEqual(s.rig.hub.consentOf('p-1'), ALL);
  const stats = s.rig.hub.commandStats();
  assert.equal(stats.rejected.unknown_subject, 1);
  assert.equal(stats.rejected.invalid, 1);
  assert.equal(stats.accepted, 0);
});

test('rotate-key: the hub makes a new key, announces it, and answers signed by it', async (t) => {
  const s = await setup(t);
  const answer = await s.send({ rotate_key: {} });
  assert.equal(answer.result.outcome, CommandOutcome.ACCEPTED, answer.result.detail);
  assert.notEqual(s.rig.hub.keyId, s.hubKey.keyId, 'the hub signs with another key');
  assert.equal(answer.frame.key_id, s.rig.hub.keyId, 'the answer verified through the handover from the trusted key');
});

test('unsigned, badly signed, malformed, wrong-hub, stale, unsynced and replayed commands are refused, counted, and change nothing', async (t) => {
  const s = await setup(t);
  const results = await watch(t, s.broker, s.trust, [frameTopic(HUB_ID, HUB_SUBJECT, 'command_result')]);
  const raw = await mqtt.connectAsync(s.broker.url, { protocolVersion: 4, clientId: 'raw-publisher', reconnectPeriod: 0 });
  t.after(() => raw.endAsync());
  const publish = (bytes: Uint8Array) => raw.publishAsync(commandTopic(HUB_ID), Buffer.from(bytes), { qos: 1 });
  const hub = () => s.rig.hub;
  const rejected = (reason: keyof ReturnType<Setup['rig']['hub']['commandStats']>['rejected']) => hub().commandStats().rejected[reason];
  const restrict = consentPayload('p-1', [FEATURES]);
  const lastSeq = () => hub().stats().outbox.lastSeq;
  const seq0 = lastSeq();

  await publish(Buffer.from('this is not a command'));
  await until(() => rejected('malformed') === 1, 'malformed counted');
  const body = encodeCommandBody({ schema_version: 1, hub_id: HUB_ID, issued_at_ms: NOW, nonce: randomBytes(16), ...restrict } as CommandBody);
  await publish(encodeSignedCommand({ body, signature: new Uint8Array(), key_id: s.serverKey.keyId }));
  await until(() => rejected('unsigned') === 1, 'unsigned counted');
  await publish(signedCommand(generateHubKey(), restrict).bytes);
  await until(() => rejected('bad_signature') === 1, 'another key counted');
  const tampered = Buffer.from(signedCommand(s.serverKey, restrict).bytes);
  // A byte of the body (which starts after the envelope's tag and length): the envelope still parses.
  tampered[10]! ^= 0x01;
  await publish(tampered);
  await until(() => rejected('bad_signature') === 2, 'a tampered command counted');
  assert.equal(lastSeq(), seq0, 'nothing written for unauthenticated messages');
  assert.deepEqual(hub().consentOf('p-1'), ALL);

  // Signed, so answered: the twin server learns why.
  await publish(signedCommand(s.serverKey, restrict, { hub_id: 'hub-other' }).bytes);
  await until(() => results.length === 1, 'the wrong-hub answer');
  await publish(signedCommand(s.serverKey, restrict, { issued_at_ms: NOW - 10 * 60_000 }).bytes);
  await until(() => results.length === 2, 'the stale answer');
  s.rig.clock.setSync('unsynced');
  await publish(signedCommand(s.serverKey, restrict).bytes);
  await until(() => results.length === 3, 'the clock-unsynced answer');
  s.rig.clock.setSync('synced');
  const answers = results.map((b) => b.command_result as CommandResult);
  assert.deepEqual(answers.map((r) => [r.outcome, r.rejection]), [
    [CommandOutcome.REJECTED, CommandRejection.WRONG_HUB],
    [CommandOutcome.REJECTED, CommandRejection.STALE],
    [CommandOutcome.REJECTED, CommandRejection.CLOCK_UNSYNCED],
  ]);
  assert.equal(answers[2]!.command, 'set_consent');
  assert.equal(rejected('wrong_hub') + rejected('stale') + rejected('clock_unsynced'), 3);
  assert.deepEqual(hub().consentOf('p-1'), ALL, 'no refused command changed consent');
  assert.equal(lastSeq(), seq0 + 3, 'the three answers only');

  // A command carried out, then a later one, then the first played back.
  const first = signedCommand(s.serverKey, restrict);
  await publish(first.bytes);
  await until(() => hub().commandStats().accepted === 1, 'the first consent carried out');
  assert.deepEqual(hub().consentOf('p-1'), ['features']);
  await publish(signedCommand(s.serverKey, consentPayload('p-1', [EMBEDDINGS, FEATURES, EXPOSURE, EVENTS])).bytes);
  await until(() => hub().commandStats().accepted === 2, 'the second consent carried out');
  const seqBeforeReplay = lastSeq();
  await publish(first.bytes);
  await until(() => rejected('replayed') === 1, 'the replay counted');
  assert.deepEqual(hub().consentOf('p-1'), ALL, 'the replay changed nothing');
  assert.equal(lastSeq(), seqBeforeReplay, 'a replay is not answered');
  assert.equal(hub().commandStats().received, 10);

  // After a restart the nonce is still known.
  await s.rig.stop();
  const subscribed = commandSubscription(s.broker);
  const restarted = await startHub(t, { dir: s.dir, brokerUrl: s.broker.url, hubKey: s.hubKey, serverKey: s.serverKey });
  await subscribed;
  const seqAfterRestart = restarted.hub.stats().outbox.lastSeq;
  await publish(first.bytes);
  await until(() => restarted.hub.commandStats().rejected.replayed === 1, 'the replay after the restart counted');
  assert.deepEqual(restarted.hub.consentOf('p-1'), ALL, 'the replay after the restart changed nothing');
  assert.equal(restarted.hub.stats().outbox.lastSeq, seqAfterRestart);
  assert.equal(restarted.hub.commandStats().accepted, 0);
});

test('a hub without commands.trust_file does not subscribe, and refuses what is handed to it', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const subscriptions: string[] = [];
  broker.aedes.on('subscribe', (subs: Array<{ topic: string }>) => subscriptions.push(...subs.map((x) => x.topic)));
  const hubKey = generateHubKey();
  const rig = await startHub(t, { dir, brokerUrl: broker.url, hubKey });
  await until(() => rig.hub.stats().publisher.connected, 'connected');
  const handled = await rig.hub.handleCommand(signedCommand(generateHubKey(), consentPayload('p-1', [])).bytes);
  assert.equal(handled.outcome, 'rejected');
  assert.equal(handled.reason, 'bad_signature');
  assert.deepEqual(rig.hub.consentOf('p-1'), ALL);
  assert.deepEqual(subscriptions.filter((x) => x.endsWith('/cmd')), []);
});

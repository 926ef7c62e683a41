// Mutual TLS and per-hub topics against a real mosquitto, run with the listener config and ACL we
// ship (scripts/mosquitto/) and a CA that the test makes with openssl. Each hub's certificate has
// its hub id as CN; the broker takes the CN as the user name (use_identity_as_username) and its
// ACL lets user U write only under twin/v1/U/ (`pattern write twin/v1/%u/#`).
//
// What mosquitto does with a publish its ACL denies, read at the source (eclipse-mosquitto/
// mosquitto, tag v2.0.11, the Debian bookworm package's version):
// - src/handle_publish.c: the ACL check fails, the broker logs "Denied PUBLISH" at debug level
//   only, frees the message and, for QoS 1, still sends a PUBACK, with reason code
//   MQTT_RC_NOT_AUTHORIZED (0x87).
// - lib/send_mosq.c send__command_with_mid: the reason code byte is written for MQTT 5 clients
//   only. An MQTT 3.1.1 client gets a plain PUBACK, the same as for a delivered message; MQTT
//   3.1.1 allows exactly that ([MQTT-3.3.5-2]: positive acknowledgement or close the connection).
// - src/context.c context__send_will: a will the ACL denies is dropped without a word.
// - src/security_default.c: acl_file rules are not applied to SUBSCRIBE; src/subs.c applies the
//   READ rules to each message as it is delivered, so a hub may subscribe to twin/v1/# and
//   receives nothing.
// The same is reported by users in eclipse-mosquitto/mosquitto#547 (PUBACK for a denied publish)
// and eclipse-paho/paho.mqtt.python#474 (under MQTT 5 the PUBACK carries rc 135).
// mosquitto.conf(5) (2.0): use_identity_as_username takes the certificate's CN as the user name
// "for access control purposes" and ignores the password; in acl_file, `pattern` lines apply to
// every user and %u / %c stand for the user name / client id, each alone in its topic level.
// %c would prove nothing here: a client chooses its own client id.
//
// The hub therefore has to speak MQTT 5 to notice a denial; with 3.1.1 (the default, as aedes
// knows no other) the broker acknowledges the frames, the hub deletes them, and they are lost
// without a trace on either side. Both are shown below.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { parseConfig } from '../../src/config/load.js';
import { generateHubKey, type HubKey } from '../../src/frames/keys.js';
import { hubOptionsFrom } from '../../src/hub/from-config.js';
import { Hub } from '../../src/hub/hub.js';
import { SystemClock } from '../../src/ops/clock.js';
import { createLogger, silentLogger } from '../../src/ops/log.js';
import { frameTopic } from '../../src/publish/topics.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { REJECT_REASONS, type RejectReason } from '../../src/receiver/reasons.js';
import { TrustStore } from '../../src/receiver/trust.js';
import { startTlsMosquitto, type TlsMosquitto } from '../helpers/mosquitto-tls.js';
import { makeTempDir, tempDir, type TempDir } from '../helpers/tmp.js';
import { readCert, TestCa, type CertFiles, type CertPem } from '../helpers/tls-ca.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';
import { RecordingSink, TestHub } from '../receiver/helpers.js';

const skip = skipUnless('mosquitto', 'openssl');
const OPTIONS = { timeout: 60_000, skip };
/** The receiver's certificate CN: the one `user` of the shipped ACL. */
const RECEIVER_CN = 'twin-receiver';

interface Pki {
  dir: TempDir;
  ca: TestCa;
  caPem: Buffer;
  server: CertFiles;
  certs: Record<'hub-a' | 'hub-b' | typeof RECEIVER_CN, CertFiles>;
  /** CN hub-a, but signed by a CA the broker does not know. */
  rogueHubA: CertFiles;
}
let pki: Pki;

before(async () => {
  if (skip) return;
  const dir = await makeTempDir('twinedge-pki-');
  const ca = await TestCa.create(dir.path, 'twin');
  const rogue = await TestCa.create(dir.path, 'rogue');
  pki = {
    dir, ca, caPem: await readFile(ca.certFile), server: await ca.server(),
    certs: { 'hub-a': await ca.client('hub-a'), 'hub-b': await ca.client('hub-b'), [RECEIVER_CN]: await ca.client(RECEIVER_CN) },
    rogueHubA: await rogue.client('hub-a'),
  };
});
after(() => pki?.dir.remove());

function startBroker(t: { after(fn: () => Promise<void>): void }): Promise<TlsMosquitto> {
  return startTlsMosquitto(t, { caFile: pki.ca.certFile, certFile: pki.server.cert, keyFile: pki.server.key });
}

/** The twin-side receiver over mutual TLS with its own certificate, every verdict recorded. */
async function startReceiver(t: { after(fn: () => Promise<void>): void }, url: string, stateDir: string, trusted: Array<[string, HubKey]>) {
  const sink = new RecordingSink();
  const receiver = new Receiver({
    brokerUrl: url, stateDir, sink, mqttVersion: 5, reconnectMinMs: 50, reconnectMaxMs: 200, log: silentLogger(),
    tls: { ca: pki.caPem, ...await readCert(pki.certs[RECEIVER_CN]) },
    trust: new TrustStore(trusted.map(([hubId, key]) => ({ hubId, publicKey: key.publicKey, source: 'test' }))),
  });
  const rejected: Array<{ reason: RejectReason; topic: string; hubId: string | undefined }> = [];
  receiver.on('rejected', (reason, topic, hubId) => rejected.push({ reason, topic, hubId }));
  // Counted on the events, which come after the sink write and the counters: a frame in the
  // sink may not be counted yet.
  let accepted = 0;
  receiver.on('accepted', () => accepted++);
  let disconnects = 0;
  receiver.on('disconnected', () => disconnects++);
  await receiver.start();
  t.after(() => receiver.stop(1000));
  return { receiver, sink, rejected, accepted: () => accepted, disconnects: () => disconnects };
}

/**
 * A real hub made the way `twinedge run` makes it: a YAML config through parseConfig and
 * hubOptionsFrom (so broker.tls files are read by the config code), a simulated source, a real
 * LevelDB outbox in `dataDir`. Its log lines are kept.
 */
async function hubFromConfig(dir: string, o: { hubId: string; key: HubKey; dataDir: string; cert: CertFiles; mqttVersion: '3.1.1' | '5'; url: string }) {
  const text = [
    'hub:', `  id: ${o.hubId}`, `  data_dir: ${o.dataDir}`, '  clock_sync: assume-synced',
    'subjects:', '  - ref: s1',
    'broker:', `  url: ${o.url}`, `  mqtt_version: '${o.mqttVersion}'`, '  reconnect_min_ms: 50', '  reconnect_max_ms: 200',
    '  tls:', `    ca_file: ${pki.ca.certFile}`, `    cert_file: ${o.cert.cert}`, `    key_file: ${o.cert.key}`,
    'source:', '  simulated:', '    window_s: 0.02', '',
  ].join('\n');
  const config = await parseConfig(text, join(dir, `${o.hubId}.yaml`), {});
  const logs: Array<{ level: number; msg: string; reasonCode?: number }> = [];
  const log = createLogger('info', new Writable({ write(chunk, _e, cb) { logs.push(JSON.parse(String(chunk)) as (typeof logs)[number]); cb(); } }));
  const hub = new Hub(await hubOptionsFrom(config, { key: o.key, clock: new SystemClock('assume-synced'), log }));
  return { hub, logs };
}

/** An mqtt.js client over TLS with the given certificate (or none); rejects as mqtt.js does. */
function tlsClient(url: string, cert: CertPem | undefined, opts: IClientOptions = {}): Promise<MqttClient> {
  // TLS 1.3 pinned: the alert a refused client certificate gets differs between 1.2 and 1.3,
  // and the assertions name the 1.3 one. mqtt.js hands options it does not know to tls.connect.
  const tlsOptions: IClientOptions & Pick<ConnectionOptions, 'minVersion'> = { ca: pki.caPem, ...cert, minVersion: 'TLSv1.3' };
  return mqtt.connectAsync(url, { ...tlsOptions, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
}

/**
 * Publishes one genuine hub-a frame with hub-a's certificate and waits until the receiver has
 * it. mosquitto queues a message to its subscribers before it answers the publisher, and the
 * receiver's session delivers in order, so anything published before this (by any client) that
 * the broker let through has reached the receiver by the time this one has.
 */
async function barrier(url: string, rx: { sink: RecordingSink }, marker: TestHub, seq: number): Promise<void> {
  const client = await tlsClient(url, await readCert(pki.certs['hub-a']));
  const m = marker.crossSection(seq);
  await client.publishAsync(m.topic, Buffer.from(m.payload), { qos: 1 });
  await client.endAsync();
  await until(() => rx.sink.frames.some((f) => f.hub_id === 'hub-a' && f.seq === seq), `marker hub-a#${seq} at the receiver`);
}

test('a hub with its client certificate publishes over mutual TLS; the receiver, with its own, verifies every frame', OPTIONS, async (t) => {
  const dir = await tempDir(t, 'twinedge-mtls-');
  const broker = await startBroker(t);
  const key = generateHubKey();
  const rx = await startReceiver(t, broker.url, join(dir, 'rx'), [['hub-a', key]]);
  const { hub } = await hubFromConfig(dir, { hubId: 'hub-a', key, dataDir: join(dir, 'hub-a'), cert: pki.certs['hub-a'], mqttVersion: '5', url: broker.url });
  await hub.start();
  try {
    await until(() => rx.sink.frames.filter((f) => f.kind !== 'status').length >= 30, '30 frames at the receiver');
  } finally {
    await hub.stop();
  }
  await until(() => rx.receiver.latestStatus('hub-a')?.body.status?.reason === 'shutdown', 'the shutdown status');
  const last = rx.receiver.latestStatus('hub-a')!.body.status!.last_seq!;
  await until(() => (rx.receiver.watermark('hub-a') ?? 0) >= last, `every seq up to ${last}`);
  const seqs = rx.sink.frames.filter((f) => f.kind !== 'status').map((f) => f.seq);
  assert.deepEqual(seqs, Array.from({ length: last }, (_, i) => i + 1), 'every frame, in order, once');
  assert.deepEqual(rx.rejected, []);
  assert.equal(hub.stats().publisher.refused, 0);
  assert.equal(hub.stats().outbox.pending, 0);
  // The broker knew each client by its certificate's CN, as user name and as client id.
  const logText = await broker.broker.logText();
  assert.match(logText, /New client connected from \S+ as hub-a \(p5, .*u'hub-a'\)/);
  assert.match(logText, new RegExp(`New client connected from \\S+ as ${RECEIVER_CN} \\(p5, .*u'${RECEIVER_CN}'\\)`));
});

test('a client without a certificate, or with one from another CA, is refused in the TLS handshake', OPTIONS, async (t) => {
  const broker = await startBroker(t);
  await assert.rejects(tlsClient(broker.url, undefined), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
  await assert.rejects(tlsClient(broker.url, await readCert(pki.rogueHubA)), { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' });
  // The same client with the CA's own certificate for hub-a gets in.
  const good = await tlsClient(broker.url, await readCert(pki.certs['hub-a']));
  assert.equal(good.connected, true);
  await good.endAsync();
  // allow_anonymous false covers the plain test listener too: no identity, no entry.
  await assert.rejects(mqtt.connectAsync(`mqtt://127.0.0.1:${broker.broker.port}`, { reconnectPeriod: 0, connectTimeout: 5000 }), { code: 5 });
});

/**
 * A hub configured as hub-b (hub-b's signing key, which the receiver trusts for hub-b) but
 * holding hub-a's certificate, as with a certificate copied to the wrong hub or a hub trying to
 * speak for another. Runs it until `enough`, stops it, and proves with a barrier that nothing
 * for hub-b reached the receiver.
 */
async function impostorRun(t: { after(fn: () => Promise<void>): void }, mqttVersion: '3.1.1' | '5', enough: (s: ReturnType<Hub['stats']>) => boolean) {
  const dir = await tempDir(t, 'twinedge-impostor-');
  const broker = await startBroker(t);
  const keyB = generateHubKey();
  const marker = new TestHub('hub-a');
  const rx = await startReceiver(t, broker.url, join(dir, 'rx'), [['hub-a', marker.key], ['hub-b', keyB]]);
  const dataDir = join(dir, 'hub-b');
  const impostor = await hubFromConfig(dir, { hubId: 'hub-b', key: keyB, dataDir, cert: pki.certs['hub-a'], mqttVersion, url: broker.url });
  await impostor.hub.start();
  try {
    await until(() => enough(impostor.hub.stats()), 'the impostor to have published');
  } finally {
    await impostor.hub.stop();
  }
  await barrier(broker.url, rx, marker, 1);
  const forHubB = rx.sink.frames.filter((f) => f.hub_id === 'hub-b').length + rx.rejected.filter((r) => r.topic.startsWith('twin/v1/hub-b/')).length;
  assert.equal(forHubB, 0, 'nothing published under twin/v1/hub-b/ with hub-a\'s certificate reached the receiver');
  assert.equal(rx.receiver.latestStatus('hub-b'), undefined, 'neither its birth nor its retained status');

  /** The same hub, same outbox, now with hub-b's own certificate: the positive control. */
  const withOwnCertificate = async () => {
    const own = await hubFromConfig(dir, { hubId: 'hub-b', key: keyB, dataDir, cert: pki.certs['hub-b'], mqttVersion, url: broker.url });
    await own.hub.start();
    t.after(() => own.hub.stop());
    return own;
  };
  return { rx, impostor, withOwnCertificate };
}

test('MQTT 5: a hub with hub-a\'s certificate cannot publish as hub-b; the broker refuses with 0x87 and the hub keeps every frame', OPTIONS, async (t) => {
  const { rx, impostor, withOwnCertificate } = await impostorRun(t, '5', (s) => s.publisher.refused >= 20);
  const s = impostor.hub.stats();
  assert.equal(s.publisher.acked, 0, 'no frame was acknowledged');
  assert.ok(s.publisher.refused >= 20);
  assert.ok(s.outbox.pending >= s.publisher.refused, `every refused frame is still in the outbox (${s.outbox.pending} pending, ${s.publisher.refused} refused)`);
  const refusals = impostor.logs.filter((l) => l.msg.startsWith('the broker refused a frame'));
  assert.equal(refusals.length, 1, 'one error line for the connection, not one a frame');
  assert.equal(refusals[0]!.reasonCode, 0x87);
  assert.equal(refusals[0]!.level, 50, 'logged as an error');

  // With its own certificate the same hub delivers all it kept, from seq 1, none lost.
  const kept = s.outbox.lastSeq;
  await withOwnCertificate();
  await until(() => (rx.receiver.watermark('hub-b') ?? 0) >= kept, `hub-b's frames up to ${kept}`);
  const seqs = rx.sink.frames.filter((f) => f.hub_id === 'hub-b' && f.kind !== 'status').map((f) => f.seq);
  assert.deepEqual(seqs.slice(0, kept), Array.from({ length: kept }, (_, i) => i + 1));
  assert.deepEqual(rx.receiver.missing('hub-b'), []);
});

test('MQTT 3.1.1: the same denial is acknowledged like a delivery; the hub deletes the frames and they are lost unseen', OPTIONS, async (t) => {
  const { rx, impostor, withOwnCertificate } = await impostorRun(t, '3.1.1', (s) => s.publisher.acked >= 20);
  const s = impostor.hub.stats();
  assert.ok(s.publisher.acked >= 20, 'the broker sent a PUBACK for each denied frame');
  assert.equal(s.publisher.refused, 0, 'a 3.1.1 PUBACK has no reason code: nothing to see');
  // Frames made at the very end may not have been sent before the stop: they stay.
  assert.equal(s.outbox.pending, s.outbox.lastSeq - s.publisher.acked, 'the hub deleted every frame the broker dropped');
  assert.deepEqual(impostor.logs.filter((l) => l.level >= 40), [], 'not a warning in the hub\'s log');

  // The control: hub-b's frames do reach the receiver once the hub has its own certificate, but
  // not the acknowledged ones (PUBACKs come in order, so those are seqs 1 to `acked`), and the
  // receiver, which sets a hub's watermark from the first seq it sees, does not count them as
  // missing either.
  const lost = s.publisher.acked;
  await withOwnCertificate();
  const hubB = () => rx.sink.frames.filter((f) => f.hub_id === 'hub-b' && f.kind !== 'status').map((f) => f.seq);
  await until(() => hubB().some((seq) => seq > s.outbox.lastSeq), 'new hub-b frames with its own certificate');
  assert.deepEqual(hubB().filter((seq) => seq <= lost), [], `seqs 1..${lost} never arrive`);
  assert.equal(Math.min(...hubB()), lost + 1);
  assert.deepEqual(rx.receiver.missing('hub-b'), []);
});

test('the receiver rejects a frame, signed by the topic\'s hub, whose body names another hub (topic_hub_mismatch)', OPTIONS, async (t) => {
  const dir = await tempDir(t, 'twinedge-mismatch-');
  const broker = await startBroker(t);
  const hubs = { 'hub-a': new TestHub('hub-a'), 'hub-b': new TestHub('hub-b') };
  const rx = await startReceiver(t, broker.url, join(dir, 'rx'), [['hub-a', hubs['hub-a'].key], ['hub-b', hubs['hub-b'].key]]);
  const sent: string[] = [];
  for (const [own, other] of [['hub-a', 'hub-b'], ['hub-b', 'hub-a']] as const) {
    const hub = hubs[own];
    // Signed with the hub's own key and published on its own topic (so key and topic agree, and
    // the ACL lets it through): only the body's hub_id speaks for the other hub.
    const body = hub.encode({
      ...hub.header(5), hub_id: other,
      cross_section: { window_start_ms: 1_795_000_000_000, window_end_ms: 1_795_000_010_000, features: [{ code: 'hr.mean', value: 61, unit: '/min', coverage: 1, n: 10 }] },
    });
    const forged = { topic: frameTopic(own, 'subj-1', 'cross_section'), payload: hub.signRaw(body) };
    const genuine = hub.crossSection(1);
    // MQTT 5, so that a broker refusal would reject here: the broker took both frames.
    const client = await tlsClient(broker.url, await readCert(pki.certs[own]));
    for (const m of [forged, genuine]) await client.publishAsync(m.topic, Buffer.from(m.payload), { qos: 1 });
    await client.endAsync();
    sent.push(forged.topic);
  }
  await until(() => rx.accepted() + rx.rejected.length >= 4, 'a verdict on all four frames');
  assert.deepEqual(rx.rejected, [
    { reason: 'topic_hub_mismatch', topic: sent[0], hubId: 'hub-a' },
    { reason: 'topic_hub_mismatch', topic: sent[1], hubId: 'hub-b' },
  ]);
  assert.deepEqual(rx.sink.frames.map((f) => [f.hub_id, f.seq]), [['hub-a', 1], ['hub-b', 1]], 'the genuine frames were accepted');
  const counters = rx.receiver.counters();
  assert.equal(counters.accepted, 2);
  assert.deepEqual(counters.rejected, { ...Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])), topic_hub_mismatch: 2 });
});

test('a hub cannot take over the receiver\'s session by using its client id (use_username_as_clientid)', OPTIONS, async (t) => {
  const dir = await tempDir(t, 'twinedge-takeover-');
  const broker = await startBroker(t);
  const marker = new TestHub('hub-a');
  const rx = await startReceiver(t, broker.url, join(dir, 'rx'), [['hub-a', marker.key]]);
  // A hub asks for the receiver's client id: the one the receiver sends, and its CN, which the
  // broker uses instead.
  for (const clientId of [rx.receiver.clientId, RECEIVER_CN]) {
    const thief = await tlsClient(broker.url, await readCert(pki.certs['hub-a']), { clientId, clean: false, properties: { sessionExpiryInterval: 600 } });
    await thief.endAsync();
  }
  // A takeover would close the receiver's connection while the broker handled a thief's
  // CONNECT, before the marker below was published.
  await barrier(broker.url, rx, marker, 1);
  assert.equal(rx.disconnects(), 0, 'the receiver kept its connection');
  // The control: a client whose certificate is the receiver's does take the session over.
  const twin = await tlsClient(broker.url, await readCert(pki.certs[RECEIVER_CN]), { clientId: 'anything' });
  await until(() => rx.disconnects() > 0, 'the receiver to be disconnected by a client with its identity');
  await twin.endAsync();
});

test('a hub reads the commands sent to it and no other hub\'s; only the twin side may send them', OPTIONS, async (t) => {
  const broker = await startBroker(t);
  const hubA = await tlsClient(broker.url, await readCert(pki.certs['hub-a']));
  t.after(() => hubA.endAsync());
  const got: string[] = [];
  hubA.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
  // acl_file does not check subscriptions: both are granted, and the READ rules decide delivery.
  const granted = await hubA.subscribeAsync(['twin/v1/hub-b/cmd', 'twin/v1/hub-a/cmd'], { qos: 1 });
  assert.deepEqual(granted.map((g) => g.qos), [1, 1]);
  const twin = await tlsClient(broker.url, await readCert(pki.certs[RECEIVER_CN]));
  t.after(() => twin.endAsync());
  // hub-b's first: hub-a's session delivers in order, so once its own command is in, hub-b's
  // would have come before it.
  await twin.publishAsync('twin/v1/hub-b/cmd', 'for b', { qos: 1 });
  await twin.publishAsync('twin/v1/hub-a/cmd', 'for a', { qos: 1 });
  await until(() => got.length > 0, 'hub-a\'s own command');
  assert.deepEqual(got, ['twin/v1/hub-a/cmd for a']);
  // A hub may not command another (MQTT 5: the broker says so in the PUBACK).
  await assert.rejects(hubA.publishAsync('twin/v1/hub-b/cmd', 'from a', { qos: 1 }), { code: 0x87 });
});

test('twinedge receive takes its client certificate from --tls-ca/--tls-cert/--tls-key, and refuses half a pair', OPTIONS, async (t) => {
  const { spawn, spawnSync } = await import('node:child_process');
  const { mkdir, rename } = await import('node:fs/promises');
  const { writeKeyFiles } = await import('../../src/frames/keys.js');
  const cli = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
  const dir = await tempDir(t, 'twinedge-mtls-cli-');
  const broker = await startBroker(t);
  const key = generateHubKey();
  await mkdir(join(dir, 'trust'));
  const { pubFile } = await writeKeyFiles(join(dir, 'hub-a'), key);
  await rename(pubFile, join(dir, 'trust', 'hub-a.pub'));
  const out = join(dir, 'frames.jsonl');
  const rx = pki.certs[RECEIVER_CN];
  const base = ['receive', '--broker', broker.url, '--trust', join(dir, 'trust'), '--state', join(dir, 'rx'), '--tls-ca', pki.ca.certFile];
  const half = spawnSync(process.execPath, [cli, ...base, '--tls-cert', rx.cert], { encoding: 'utf8' });
  assert.equal(half.status, 2);
  assert.match(half.stderr, /needs both --tls-cert and --tls-key/);
  const child = spawn(process.execPath, [cli, ...base, '--tls-cert', rx.cert, '--tls-key', rx.key, '--out', out], { stdio: 'ignore' });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const { hub } = await hubFromConfig(dir, { hubId: 'hub-a', key, dataDir: join(dir, 'hub-a'), cert: pki.certs['hub-a'], mqttVersion: '5', url: broker.url });
  await hub.start();
  t.after(() => hub.stop());
  const frames = async () => (await readFile(out, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { hub_id: string; kind: string });
  let got: Array<{ hub_id: string; kind: string }> = [];
  await until(() => { void frames().then((f) => { got = f; }); return got.filter((f) => f.kind !== 'status').length >= 5; }, 'frames written by twinedge receive');
  assert.ok(got.every((f) => f.hub_id === 'hub-a'));
  assert.match(await broker.broker.logText(), new RegExp(`as ${RECEIVER_CN} \\(p5, .*u'${RECEIVER_CN}'\\)`), 'the broker knew the CLI by its certificate');
});

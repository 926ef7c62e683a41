// POST /v1/events against a real hub: a real LevelDB outbox in a temporary folder, a real broker
// (aedes) and the reference receiver, which verifies each frame's signature. An event becomes a
// signed event frame in seq order; a refused request (token, type, size, content) writes
// nothing; a repeated event id is recorded once, across a restart too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { chmod, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_EVENT_TIME_LIMITS } from '../../src/events/event-time.js';
import { EventKind } from '../../src/frames/codec.js';
import { generateHubKey, type HubKey } from '../../src/frames/keys.js';
import type { FrameSource } from '../../src/hub/frame-source.js';
import { Hub } from '../../src/hub/hub.js';
import { HttpServer, hubRoutes, loadTokenFile } from '../../src/hub/http-server.js';
import { ManualClock } from '../../src/ops/clock.js';
import { isTwinedgeError } from '../../src/ops/errors.js';
import { silentLogger } from '../../src/ops/log.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { TrustStore } from '../../src/receiver/trust.js';
import type { AcceptedFrame } from '../../src/receiver/verify.js';
import { startAedesFor, type AedesBroker } from '../helpers/aedes.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';

const HUB_ID = 'hub-ev';
const SUBJECTS = ['p-4f9a', 'p-77'];
const NOW = Date.UTC(2026, 4, 1, 6, 30, 0);

/** A source that makes no frames: the only frames are the events the test records. */
const quiet: FrameSource = { name: 'quiet', start() {}, async stop() {} };

interface Rig {
  hub: Hub;
  server: HttpServer;
  clock: ManualClock;
  token: string;
  base: string;
  lastSeq(): number;
  stop(): Promise<void>;
}

async function startRig(dir: string, broker: AedesBroker, key: HubKey, maxBodyBytes = 16_384): Promise<Rig> {
  const clock = new ManualClock(NOW, 'synced');
  const log = silentLogger();
  const hub = new Hub({
    hubId: HUB_ID, dataDir: join(dir, 'hub'), key, clock,
    broker: { url: broker.url, clientId: `${HUB_ID}-pub`, keepaliveS: 10, connectTimeoutMs: 2000, reconnectMinMs: 20, reconnectMaxMs: 100 },
    inflight: 16, outbox: { quotaBytes: 64 << 20, sync: 'batch', maxBatch: 100 },
    subjects: SUBJECTS, source: quiet, configSha256: '', log,
  });
  await hub.start();
  const token = await loadTokenFile(join(dir, 'http.token'), { create: true });
  const server = new HttpServer({
    host: '127.0.0.1', port: 0, token, maxBodyBytes, log,
    routes: hubRoutes({ hub, clock, subjects: SUBJECTS, limits: DEFAULT_EVENT_TIME_LIMITS, log }),
  });
  const port = await server.start();
  let stopped: Promise<void> | undefined;
  return {
    hub, server, clock, token, base: `http://127.0.0.1:${port}`,
    lastSeq: () => hub.stats().outbox.lastSeq,
    stop: () => (stopped ??= (async () => { await server.stop(); await hub.stop(); })()),
  };
}

async function startReceiver(t: { after(fn: () => Promise<void>): void }, dir: string, broker: AedesBroker, key: HubKey) {
  const frames: AcceptedFrame[] = [];
  const receiver = new Receiver({
    brokerUrl: broker.url, mqttVersion: 4, clientId: 'twin-rx', stateDir: join(dir, 'rx'),
    sink: { write: (f) => { frames.push(f); }, close: async () => {} },
    trust: new TrustStore([{ hubId: HUB_ID, publicKey: key.publicKey, source: 'test' }]), log: silentLogger(),
  });
  await receiver.start();
  t.after(() => receiver.stop());
  return { receiver, frames, events: () => frames.filter((f) => f.kind === 'event') };
}

interface Answer { status: number; json: any; headers: Headers }

async function post(rig: Pick<Rig, 'base' | 'token'>, body: unknown, opts: { token?: string | null; type?: string; path?: string; method?: string; raw?: string | Uint8Array } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'Content-Type': opts.type ?? 'application/json' };
  const token = opts.token === undefined ? rig.token : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${rig.base}${opts.path ?? '/v1/events'}`, {
    method: opts.method ?? 'POST', headers, ...(opts.method === 'GET' ? {} : { body: opts.raw ?? JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

const PILL = { subject_ref: 'p-4f9a', kind: 'medication', code: 'ATC:N02BE01', dose: 500, unit: 'mg', note: 'after breakfast' };

test('an event becomes a signed event frame, in seq order, that the receiver verifies', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const key = generateHubKey();
  const rx = await startReceiver(t, dir, broker, key);
  const rig = await startRig(dir, broker, key);
  t.after(() => rig.stop());

  const first = await post(rig, { ...PILL, at: '2026-05-01T08:00:00+02:00', event_id: 'evt-1' });
  assert.equal(first.status, 201, JSON.stringify(first.json));
  assert.equal(first.json.seq, rig.lastSeq());
  assert.deepEqual(first.json.event, {
    event_id: 'evt-1', kind: 'medication', code: 'ATC:N02BE01', dose: 500, dose_unit: 'mg', at_ms: Date.UTC(2026, 4, 1, 6), at: '2026-05-01T06:00:00.000Z', note: 'after breakfast', source: 'http',
  });
  rig.clock.advance(1000);
  const second = await post(rig, { subject_ref: 'p-77', kind: 'device-change', source: 'cli' });
  assert.equal(second.status, 201);
  assert.equal(second.json.seq, first.json.seq + 1);

  await until(() => rx.events().length === 2, 'both event frames at the receiver');
  assert.deepEqual(Object.values(rx.receiver.counters().rejected).reduce((a, b) => a + b, 0), 0, 'nothing rejected');
  const [a, b] = rx.events();
  assert.equal(a!.topic, `twin/v1/${HUB_ID}/p-4f9a/event`);
  assert.equal(a!.key_id, key.keyId);
  assert.equal(a!.seq, first.json.seq);
  assert.equal(a!.body.subject_ref, 'p-4f9a');
  assert.equal(a!.body.wall_ms, NOW, 'the frame header has the hub clock at recording');
  assert.deepEqual({ ...a!.body.event }, {
    event_id: 'evt-1', kind: EventKind.MEDICATION, code: 'ATC:N02BE01', dose: 500, dose_unit: 'mg', at_ms: Date.UTC(2026, 4, 1, 6), note: 'after breakfast', source: 'http',
  });
  assert.equal(b!.seq, second.json.seq);
  assert.equal(b!.body.subject_ref, 'p-77');
  assert.equal(b!.body.event!.kind, EventKind.DEVICE_CHANGE);
  assert.equal(b!.body.event!.at_ms, NOW + 1000, 'no time given: the hub clock at the request');
  assert.equal(b!.body.event!.source, 'cli');
  assert.match(b!.body.event!.event_id, /^[0-9a-f-]{36}$/);
});

test('refused requests get their status and write nothing; the server keeps serving', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const rig = await startRig(dir, broker, generateHubKey());
  t.after(() => rig.stop());
  const before = rig.lastSeq();

  for (const token of [null, 'wrong', `${rig.token}x`, rig.token.slice(0, -1)]) {
    const r = await post(rig, PILL, { token });
    assert.equal(r.status, 401, String(token));
    assert.equal(r.json.error.code, 'HTTP_TOKEN_REFUSED');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
  }
  const basic = await fetch(`${rig.base}/v1/events`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Authorization': `Basic ${rig.token}` }, body: JSON.stringify(PILL) });
  assert.equal(basic.status, 401);
  assert.equal((await post(rig, PILL, { type: 'text/plain' })).status, 415);
  assert.equal((await post(rig, PILL, { type: 'application/json; charset=latin1' })).status, 415);
  assert.equal((await post(rig, PILL, { type: 'application/x-www-form-urlencoded' })).status, 415);

  const oversize = await post(rig, { ...PILL, note: 'x'.repeat(20_000) });
  assert.equal(oversize.status, 413);
  const chunked = await postChunked(rig, Buffer.from(JSON.stringify({ ...PILL, note: 'y'.repeat(40_000) })));
  assert.equal(chunked, 413, 'a body without Content-Length is cut at the limit too');

  const invalid = await post(rig, { ...PILL, dose: -5 });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.json.error.code, 'EVENT_INVALID');
  assert.equal(invalid.json.error.field, 'dose');
  assert.deepEqual(invalid.json.error.problems.map((p: { field: string }) => p.field), ['dose']);
  const stranger = await post(rig, { ...PILL, subject_ref: 'p-other' });
  assert.equal(stranger.status, 400);
  assert.equal(stranger.json.error.field, 'subject_ref');
  const notJson = await post(rig, undefined, { raw: '{"kind": "meal",' });
  assert.equal(notJson.status, 400);
  assert.equal(notJson.json.error.field, '(body)');
  const notUtf8 = await post(rig, undefined, { raw: Buffer.concat([Buffer.from('{"subject_ref": "p-4f9a", "kind": "'), Buffer.from([0xff]), Buffer.from('"}')]) });
  assert.equal(notUtf8.status, 400);
  assert.equal(notUtf8.json.error.field, '(body)');

  assert.equal((await post(rig, PILL, { path: '/v1/event' })).status, 404);
  const get = await post(rig, undefined, { method: 'GET' });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');

  assert.equal(rig.lastSeq(), before, 'nothing was written');
  const ok = await post(rig, PILL);
  assert.equal(ok.status, 201, 'the server still serves after refusals');
  assert.equal(rig.lastSeq(), before + 1);
});

/** Posts `body` with chunked transfer encoding (no Content-Length); resolves to the status. */
function postChunked(rig: Rig, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL('/v1/events', rig.base);
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'Content-Type': 'application/json', 'Authorization': `Bearer ${rig.token}`, 'Transfer-Encoding': 'chunked' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    for (let i = 0; i < body.length; i += 4096) req.write(body.subarray(i, i + 4096));
    req.end();
  });
}

test('a repeated event id is recorded once and answered with the first record; different content is a conflict', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const rig = await startRig(dir, broker, generateHubKey());
  t.after(() => rig.stop());
  const before = rig.lastSeq();

  const first = await post(rig, { ...PILL, event_id: 'retry-1' });
  assert.equal(first.status, 201);
  rig.clock.advance(30_000);
  // A retry of a request without a time is sent later: its time is not compared.
  const again = await post(rig, { ...PILL, event_id: 'retry-1' });
  assert.equal(again.status, 200);
  assert.equal(again.json.repeated, true);
  assert.deepEqual(again.json.event, first.json.event);
  assert.equal(again.json.seq, first.json.seq);
  assert.equal(rig.lastSeq(), before + 1);

  const conflict = await post(rig, { ...PILL, dose: 1000, event_id: 'retry-1' });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.json.error.code, 'EVENT_ID_REUSED');
  assert.match(conflict.json.error.message, /seq \d+ with a different dose/);
  assert.equal((await post(rig, { ...PILL, subject_ref: 'p-77', event_id: 'retry-1' })).status, 409);

  // Retries racing each other: exactly one is recorded.
  const racing = await Promise.all(Array.from({ length: 6 }, () => post(rig, { ...PILL, event_id: 'race-1' })));
  assert.deepEqual(racing.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 201]);
  assert.equal(new Set(racing.map((r) => r.json.seq)).size, 1);
  assert.equal(rig.lastSeq(), before + 2);
});

test('an event id recorded before a restart is still recognised after it', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const key = generateHubKey();
  const rig = await startRig(dir, broker, key);
  const first = await post(rig, { ...PILL, event_id: 'across-restart' });
  assert.equal(first.status, 201);
  await post(rig, { ...PILL, event_id: 'another' });
  const lastBefore = rig.lastSeq();
  await rig.stop();

  const again = await startRig(dir, broker, key);
  t.after(() => again.stop());
  assert.equal(again.lastSeq(), lastBefore);
  const repeat = await post(again, { ...PILL, event_id: 'across-restart' });
  assert.equal(repeat.status, 200);
  assert.equal(repeat.json.seq, first.json.seq);
  assert.equal(repeat.json.event.event_id, 'across-restart');
  assert.equal(again.lastSeq(), lastBefore, 'nothing new was written');
  const fresh = await post(again, { ...PILL, event_id: 'after-restart' });
  assert.equal(fresh.status, 201);
  assert.equal(fresh.json.seq, lastBefore + 1);
});

test('a request that reaches a stopped hub is answered 503, and recorded when sent again to a running one', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const key = generateHubKey();
  const rig = await startRig(dir, broker, key);
  await rig.hub.stop();
  const r = await post(rig, { ...PILL, event_id: 'while-stopping' });
  assert.equal(r.status, 503);
  assert.equal(r.json.error.code, 'EVENT_NOT_RECORDED');
  const lastSeq = rig.lastSeq();
  await rig.stop();
  const again = await startRig(dir, broker, key);
  t.after(() => again.stop());
  const resent = await post(again, { ...PILL, event_id: 'while-stopping' });
  assert.equal(resent.status, 201, 'the refused attempt left no record of its id');
  assert.equal(resent.json.seq, lastSeq + 1);
});

test('the token file is made 0600 with 32 random bytes in hex, and refused when others can read it or it is not a token', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'state', 'http.token');
  const token = await loadTokenFile(file, { create: true });
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal(await loadTokenFile(file, { create: true }), token, 'an existing file is kept');
  assert.notEqual(await loadTokenFile(join(dir, 'other.token'), { create: true }), token);

  await chmod(file, 0o640);
  await assert.rejects(loadTokenFile(file, { create: true }), (e) => isTwinedgeError(e) && e.code === 'HTTP_TOKEN_EXPOSED' && e.exitCode === 2 && /chmod 600/.test(e.message));
  const short = join(dir, 'short.token');
  await writeFile(short, 'abc\n', { mode: 0o600 });
  await assert.rejects(loadTokenFile(short, { create: true }), (e) => isTwinedgeError(e) && e.code === 'HTTP_TOKEN_INVALID');
  await assert.rejects(loadTokenFile(join(dir, 'absent.token'), { create: false }), (e) => isTwinedgeError(e) && e.code === 'HTTP_TOKEN_INVALID' && /ENOENT/.test(e.message));
});

test('only a loopback address is served: the server refuses another, and so does the config', async () => {
  assert.throws(() => new HttpServer({ host: '0.0.0.0', port: 0, token: 'x'.repeat(32), routes: [], maxBodyBytes: 1024, log: silentLogger() }), TypeError);
  await assert.rejects(parseConfig('hub:\n  id: h1\nhttp:\n  host: 0.0.0.0\n', 'c.yaml', {}), (e: any) => {
    const lines: string = e.toLine();
    return /^c\.yaml:4 http\.host: .*127\.0\.0\.1.*\[CONFIG_VALUE_INVALID\]$/.test(lines);
  });
  const c = await parseConfig('hub:\n  id: h1\n', 'c.yaml', {});
  assert.deepEqual({ ...c.http }, { enabled: 'on', host: '127.0.0.1', port: 8470, max_body_bytes: 16_384 });
});

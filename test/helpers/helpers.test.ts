// The test helpers themselves: tool skips, temp folders, a real mosquitto that stops, restarts,
// keeps its sessions and freezes, and aedes in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once, type EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect as tcpConnect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { startAedesFor } from './aedes.js';
import { startMosquitto } from './mosquitto.js';
import { tempDir } from './tmp.js';
import { toolPath } from './tool-path.js';
import { requireTool } from './tools.js';

const TIMEOUT = { timeout: 20_000 };
const FIXTURE = new URL('./fixtures/require-tool.ts', import.meta.url).pathname;

/** events.once for an mqtt.js client (its typed emitter does not fit events.once's overloads). */
const on = (c: MqttClient, event: string) => once(c as unknown as EventEmitter, event);

/** Connects and returns the client with its CONNACK; messages are recorded from the first byte. */
async function client(url: string, opts: IClientOptions = {}): Promise<{ c: MqttClient; connack: IConnackPacket; messages: string[] }> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  const messages: string[] = [];
  c.on('message', (_topic, payload) => messages.push(payload.toString()));
  // once() rejects if 'error' comes first.
  const [connack] = (await on(c, 'connect')) as [IConnackPacket];
  // A broker stopped under a connected client resets its socket: expected in these tests.
  c.on('error', () => {});
  return { c, connack, messages };
}

/** The client's 'close' event (events.once would reject on the 'error' that may come first). */
function closeOf(c: MqttClient): Promise<void> {
  return new Promise((resolve) => c.once('close', () => resolve()));
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

/** Waits for `n` messages (or a message equal to `last`) on a client. */
async function until(c: MqttClient, done: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await on(c, 'message');
  }
}

// ---------------------------------------------------------------------------------------------
// tools and temp folders

test('requireTool: undefined for an installed tool, a reason naming the package for a missing one', () => {
  assert.equal(toolPath('sh') !== undefined, true);
  assert.equal(requireTool('sh'), undefined);
  const saved = process.env.TWINEDGE_REQUIRE_ALL;
  delete process.env.TWINEDGE_REQUIRE_ALL;
  try {
    assert.equal(requireTool('sh', 'twinedge-absent-tool'), 'needs twinedge-absent-tool (apt-get install twinedge-absent-tool)');
  } finally {
    if (saved !== undefined) process.env.TWINEDGE_REQUIRE_ALL = saved;
  }
});

test('a missing tool skips its suite, and fails the run under TWINEDGE_REQUIRE_ALL=1', TIMEOUT, () => {
  const run = (requireAll: boolean) => {
    const env = { ...process.env };
    // This file runs as a child of the test runner; the fixture must run as a test file of its own.
    delete env.NODE_TEST_CONTEXT;
    delete env.TWINEDGE_REQUIRE_ALL;
    if (requireAll) env.TWINEDGE_REQUIRE_ALL = '1';
    return spawnSync(process.execPath, ['--import', 'tsx', '--test-reporter=tap', FIXTURE], { env, encoding: 'utf8' });
  };
  const relaxed = run(false);
  assert.equal(relaxed.status, 0, relaxed.stdout + relaxed.stderr);
  assert.match(relaxed.stdout, /# SKIP needs twinedge-absent-tool \(apt-get install twinedge-absent-tool\)/);
  assert.match(relaxed.stdout, /^# pass 1$/m);
  assert.match(relaxed.stdout, /^# skipped 1$/m);

  const strict = run(true);
  assert.equal(strict.status, 1, strict.stdout + strict.stderr);
  assert.match(strict.stdout, /^not ok \d+ - required tool twinedge-absent-tool is installed$/m);
  assert.match(strict.stdout, /TWINEDGE_REQUIRE_ALL=1 and twinedge-absent-tool \(apt-get install twinedge-absent-tool\) is missing/);
  assert.match(strict.stdout, /^# fail 1$/m);
  assert.doesNotMatch(strict.stdout, /must not run/);
});

test('tempDir is removed when its test ends', async (t) => {
  let dir = '';
  await t.test('inner', async (t2) => {
    dir = await tempDir(t2);
    await writeFile(join(dir, 'f'), 'x');
    assert.ok(existsSync(join(dir, 'f')));
  });
  assert.notEqual(dir, '');
  assert.equal(existsSync(dir), false);
});

// ---------------------------------------------------------------------------------------------
// mosquitto

test('mosquitto: QoS 1 publish and subscribe through a real broker', { ...TIMEOUT, skip: requireTool('mosquitto') }, async (t) => {
  const broker = await startMosquitto(t);
  assert.equal(broker.url, `mqtt://127.0.0.1:${broker.port}`);
  const sub = await client(broker.url, { protocolVersion: 5 });
  t.after(() => sub.c.endAsync());
  await sub.c.subscribeAsync('t/#', { qos: 1 });
  const pub = await client(broker.url);
  t.after(() => pub.c.endAsync());
  const got = on(sub.c, 'message');
  await pub.c.publishAsync('t/a', 'hello', { qos: 1 });
  const [topic, payload, packet] = (await got) as [string, Buffer, { qos: number }];
  assert.equal(topic, 't/a');
  assert.equal(payload.toString(), 'hello');
  assert.equal(packet.qos, 1);
  assert.match(await broker.logText(), /New client connected/);
});

test('mosquitto: an offline subscriber gets 1500 queued messages (the default limit of 1000 drops some)', { ...TIMEOUT, skip: requireTool('mosquitto') }, async (t) => {
  const deliveredAfterReconnect = async (maxQueuedMessages?: number) => {
    const broker = await startMosquitto(t, maxQueuedMessages === undefined ? {} : { maxQueuedMessages });
    const session = { clientId: 'lagging', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } };
    const first = await client(broker.url, session);
    await first.c.subscribeAsync('q/#', { qos: 1 });
    await first.c.endAsync();
    const pub = await client(broker.url);
    await Promise.all(Array.from({ length: 1500 }, (_, i) => pub.c.publishAsync(`q/${i}`, String(i), { qos: 1 })));
    const again = await client(broker.url, session);
    assert.equal(again.connack.sessionPresent, true);
    // Queued messages are sent before anything published now: the marker comes last.
    await pub.c.publishAsync('q/end', 'end', { qos: 1 });
    await until(again.c, () => again.messages.includes('end'), 'the end marker');
    await Promise.all([pub.c.endAsync(), again.c.endAsync()]);
    return again.messages.filter((m) => m !== 'end');
  };
  const raised = await deliveredAfterReconnect();
  assert.deepEqual(raised, Array.from({ length: 1500 }, (_, i) => String(i)));
  const capped = await deliveredAfterReconnect(1000);
  assert.ok(capped.length < 1500, `with max_queued_messages 1000 some are dropped (got ${capped.length})`);
});

test('mosquitto: stop and start on the same port; a persistent session keeps what was published while it was away', { ...TIMEOUT, skip: requireTool('mosquitto') }, async (t) => {
  const broker = await startMosquitto(t);
  const port = broker.port;
  const session = { clientId: 'twin-away', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } };
  const first = await client(broker.url, session);
  await first.c.subscribeAsync('twin/#', { qos: 1 });
  await first.c.endAsync();

  // The publisher stays connected through the stop: the broker closes that connection itself,
  // and must still bind the same port right away.
  const pub = await client(broker.url);
  const closed = closeOf(pub.c);
  await pub.c.publishAsync('twin/x', 'while-away', { qos: 1 });
  await broker.stop();
  assert.equal(broker.running, false);
  await closed;
  assert.equal(await refuses(port), true, 'the port is closed while the broker is stopped');
  pub.c.end(true);

  await broker.start();
  assert.equal(broker.port, port);
  assert.equal(broker.running, true);
  const back = await client(broker.url, session);
  t.after(() => back.c.endAsync());
  assert.equal(back.connack.sessionPresent, true, 'the session survived the restart');
  await until(back.c, () => back.messages.length > 0, 'the message queued before the restart');
  assert.deepEqual(back.messages, ['while-away']);
  assert.equal((await broker.logText()).match(/mosquitto version \S+ running/g)?.length, 2);
});

test('mosquitto: kill, then start again on the same port', { ...TIMEOUT, skip: requireTool('mosquitto') }, async (t) => {
  const broker = await startMosquitto(t);
  const pid = broker.pid!;
  await broker.kill();
  assert.equal(broker.running, false);
  assert.equal(existsSync(`/proc/${pid}`), false, 'the process is gone');
  assert.equal(await refuses(broker.port), true);
  await broker.start();
  assert.notEqual(broker.pid, pid);
  const c = await client(broker.url);
  await c.c.publishAsync('k', 'x', { qos: 1 });
  await c.c.endAsync();
});

/** Bytes that the broker's end of a connection has received and not yet read (Linux /proc). */
function unreadByBroker(brokerPort: number, clientPort: number): number {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(`:${hex(brokerPort)}`) && f[2]?.endsWith(`:${hex(clientPort)}`)) return parseInt(f[4]!.split(':')[1]!, 16);
  }
  return 0;
}

test('mosquitto: pause freezes the broker, resume lets it answer', { ...TIMEOUT, skip: requireTool('mosquitto') || (existsSync('/proc/net/tcp') ? undefined : 'needs Linux /proc') }, async (t) => {
  const broker = await startMosquitto(t);
  const c = await client(broker.url, { keepalive: 0 });
  t.after(() => c.c.endAsync(true));
  await broker.pause();
  assert.equal(readFileSync(`/proc/${broker.pid}/stat`, 'utf8').split(') ')[1]![0], 'T');
  let acked = false;
  const ack = c.c.publishAsync('p', 'frozen', { qos: 1 }).then(() => { acked = true; });
  // The PUBLISH reaches the broker's socket and stays there unread.
  const clientPort = (c.c.stream as Socket).localPort!;
  const end = Date.now() + 5000;
  while (unreadByBroker(broker.port, clientPort) === 0) {
    if (Date.now() > end) assert.fail('the PUBLISH never sat unread at the broker: the broker is not frozen');
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(acked, false);
  await broker.resume();
  await ack;
  assert.equal(acked, true);
  assert.equal(unreadByBroker(broker.port, clientPort), 0);
});

test('mosquitto: a restart on a port that another process took meanwhile fails, naming the cause', { ...TIMEOUT, skip: requireTool('mosquitto') }, async (t) => {
  const broker = await startMosquitto(t);
  await broker.stop();
  const squatter = createServer();
  squatter.listen(broker.port, '127.0.0.1');
  await once(squatter, 'listening');
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  await assert.rejects(broker.start(), /exited at start .*Address already in use/s);
  assert.equal(broker.running, false);
});

test('mosquitto: a bad extra config line fails start with mosquitto\'s own message', { ...TIMEOUT, skip: requireTool('mosquitto') }, async (t) => {
  await assert.rejects(startMosquitto(t, { extraConfig: ['no_such_option 1'] }), /exited at start .*no_such_option/s);
});

// ---------------------------------------------------------------------------------------------
// aedes

test('aedes: publish and subscribe, and close() really closes', TIMEOUT, async (t) => {
  const broker = await startAedesFor(t);
  const sub = await client(broker.url);
  await sub.c.subscribeAsync('a/#', { qos: 1 });
  const pub = await client(broker.url);
  t.after(() => pub.c.endAsync(true));
  const got = on(sub.c, 'message');
  await pub.c.publishAsync('a/b', 'hi', { qos: 1 });
  const [topic, payload] = (await got) as [string, Buffer];
  assert.equal(topic, 'a/b');
  assert.equal(payload.toString(), 'hi');

  assert.equal(broker.sockets.size, 2);
  const subClosed = closeOf(sub.c);
  await broker.close();
  await subClosed;
  assert.equal(broker.sockets.size, 0);
  assert.equal(await refuses(broker.port), true);
  await broker.close();
});

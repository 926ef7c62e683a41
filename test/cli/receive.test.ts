import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, watch } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSigned, encodeSigned } from '../../src/frames/codec.js';
import { startAedes } from '../helpers/aedes.js';
import { MosquittoBroker } from '../helpers/mosquitto.js';
import { skipUnless } from '../helpers/tools.js';
import { abortable, flipBit, producer, TestHub, until } from '../receiver/helpers.js';
import { makeTempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT = { timeout: 20_000 };

interface Cli {
  child: ChildProcess;
  stderrLines: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves when a pino log line with this msg appeared on stderr. */
  logged(msg: string, signal: AbortSignal): Promise<void>;
}

function receive(args: string[]): Cli {
  const child = spawn(process.execPath, [join(ROOT, 'scripts/twinedge.js'), 'receive', ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TWINEDGE_FROM_SOURCE: '1' },
  });
  const stderrLines: string[] = [];
  let partial = '';
  child.stderr!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    stderrLines.push(...parts);
    child.stderr!.emit('lines');
  });
  child.stdout!.resume();
  // 'close', not 'exit': stderr has been read to its end when the exit code is looked at.
  const exited = once(child, 'close').then(([code]) => code as number | null);
  return {
    child, stderrLines, exited,
    logged: (msg, signal) => until(child.stderr!, ['lines'], () => stderrLines.some((l) => l.includes(`"msg":"${msg}"`)), signal),
  };
}

/** Kills the child if the test ends early (a failure), so that nothing is left running. */
function reap(t: TestContext, cli: Cli): void {
  t.after(() => { if (cli.child.exitCode === null) cli.child.kill('SIGKILL'); });
}

async function writeTrust(dir: string, hub: TestHub): Promise<string> {
  const trustDir = join(dir, 'trust');
  await mkdir(trustDir);
  await writeFile(join(trustDir, `${hub.hubId}.pub`), hub.key.publicKey.export({ format: 'pem', type: 'spki' }) as string);
  return trustDir;
}

/** Resolves once `file` has `n` lines, checking on each change the file system reports. */
async function linesIn(file: string, n: number, signal: AbortSignal): Promise<void> {
  const count = () => readFileSync(file, 'utf8').split('\n').length - 1;
  const watcher = watch(file);
  try {
    await until(watcher, ['change'], () => count() >= n, signal);
  } finally {
    watcher.close();
  }
}

async function endToEnd(t: TestContext, broker: { url: string }, version: '5' | '3.1.1') {
  const dir = await makeTempDir('twinedge-cli-receive-');
  try {
    const hub = new TestHub('hub-cli');
    const trust = await writeTrust(dir.path, hub);
    const out = join(dir.path, 'frames.jsonl');
    const cli = receive(['--broker', broker.url, '--trust', trust, '--out', out, '--state', join(dir.path, 'state'), ...(version === '5' ? [] : ['--mqtt-version', version])]);
    reap(t, cli);
    await cli.logged('subscribed', t.signal);
    const pub = await producer(broker.url, version === '5' ? 5 : 4);
    const good = [1, 2, 3, 4].map((s) => hub.crossSection(s));
    const s5 = decodeSigned(hub.crossSection(5).payload);
    const tampered = { topic: good[0]!.topic, payload: encodeSigned({ ...s5, body: flipBit(s5.body, 90) }) };
    // A good frame last: frames are handled in order, so once it is in the file all are settled.
    await pub.send([good[0]!, good[1]!, tampered, good[2]!, good[1]!, good[3]!]);
    await pub.close();
    await linesIn(out, 4, t.signal);
    cli.child.kill('SIGTERM');
    assert.equal(await abortable(cli.exited, t.signal), 0);
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.hub_id, l.seq, l.kind, l.key_id]), [1, 2, 3, 4].map((s) => ['hub-cli', s, 'cross_section', hub.keyId]));
    const counters = JSON.parse(cli.stderrLines[cli.stderrLines.length - 1]!);
    assert.equal(counters.accepted, 4);
    assert.equal(counters.rejected.bad_signature, 1);
    assert.equal(counters.rejected.replay, 1);
    assert.deepEqual(counters.missing, {});
  } finally {
    await dir.remove();
  }
}

test('twinedge receive writes verified frames as JSON lines and prints its counters on SIGTERM (aedes, MQTT 3.1.1)', TIMEOUT, async (t) => {
  const broker = await startAedes();
  try {
    await endToEnd(t, broker, '3.1.1');
  } finally {
    await broker.close();
  }
});

test('twinedge receive speaks MQTT 5 by default (mosquitto)', { ...TIMEOUT, skip: skipUnless('mosquitto') }, async (t) => {
  const broker = await MosquittoBroker.start();
  try {
    await endToEnd(t, broker, '5');
  } finally {
    await broker.close();
  }
});

test('a bad --trust path or bad arguments exit 2 with one line on stderr', TIMEOUT, async (t) => {
  const dir = await makeTempDir('twinedge-cli-receive-');
  try {
    const bad = receive(['--broker', 'mqtt://127.0.0.1:1', '--trust', join(dir.path, 'no-such-trust'), '--state', join(dir.path, 'state')]);
    reap(t, bad);
    assert.equal(await abortable(bad.exited, t.signal), 2);
    assert.equal(bad.stderrLines.length, 1);
    assert.match(bad.stderrLines[0]!, /\[TRUST_INVALID\]$/);

    const noBroker = receive(['--trust', dir.path]);
    reap(t, noBroker);
    assert.equal(await abortable(noBroker.exited, t.signal), 2);
    assert.equal(noBroker.stderrLines.length, 1);
    assert.match(noBroker.stderrLines[0]!, /\[USAGE_BAD_ARGUMENT\]$/);
  } finally {
    await dir.remove();
  }
});

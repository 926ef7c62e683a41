import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/ops/log.js';
import { serviceNotifier, systemdNotifySender, watchdogInterval } from '../../src/ops/systemd-notify.js';
import { requireAll } from '../helpers/tools.js';
import { toolPath } from '../helpers/tool-path.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';

// The receiving end of a real notify socket: an AF_UNIX datagram socket, as systemd makes one,
// printing each datagram as one JSON string. Python's recv() takes no ancillary data, so the
// barrier pipe systemd-notify passes is closed at once, as systemd closes it.
const RECEIVER = [
  'import json, socket, sys',
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  's.bind(sys.argv[1])',
  'print(json.dumps("bound"), flush=True)',
  'while True:',
  '    print(json.dumps(s.recv(4096).decode()), flush=True)',
].join('\n');

const missing = ['systemd-notify', 'python3'].filter((t) => toolPath(t) === undefined);
const needsTools = missing.length === 0 ? undefined : `needs ${missing.join(', ')} (apt-get install systemd python3)`;
if (needsTools !== undefined && requireAll()) {
  test('systemd-notify and python3 are installed', () => {
    throw new Error(`TWINEDGE_REQUIRE_ALL=1 and ${needsTools}`);
  });
}

async function notifySocket(t: { after(fn: () => void): void }, dir: string) {
  const path = join(dir, 'notify.sock');
  const child = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill());
  const messages: string[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const l of lines) messages.push(JSON.parse(l) as string);
  });
  await until(() => messages.includes('bound'), 'the notify socket to be bound');
  messages.length = 0;
  return { path, messages };
}

test('under systemd (NOTIFY_SOCKET set), the hub says READY=1, pings WATCHDOG=1 while it runs, and STOPPING=1', { skip: needsTools }, async (t) => {
  const dir = await tempDir(t);
  const socket = await notifySocket(t, dir);
  const notifier = serviceNotifier({ env: { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '200000' } });
  assert.equal(notifier.enabled, true);
  assert.equal(notifier.watchdogIntervalMs, 100);
  await notifier.ready();
  await until(() => socket.messages.includes('WATCHDOG=1'), 'a watchdog ping');
  assert.equal(socket.messages.filter((m) => m !== 'BARRIER=1')[0], 'READY=1', 'READY=1 comes first');
  await notifier.stopping();
  await until(() => socket.messages.includes('STOPPING=1'), 'STOPPING=1');
});

test('a service manager that cannot be reached is logged once and never stops the hub', { skip: needsTools }, async (t) => {
  const dir = await tempDir(t);
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, cb) => { lines.push(chunk.toString()); cb(); } });
  const log = createLogger('info', sink);
  // No socket at this path: systemd-notify fails, as it would with the wrong NOTIFY_SOCKET.
  const notifier = serviceNotifier({ env: { NOTIFY_SOCKET: join(dir, 'absent.sock') }, log });
  await notifier.ready();
  await notifier.stopping();
  const errors = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50);
  assert.equal(errors.length, 1, lines.join(''));
  assert.equal(errors[0]!.msg, 'cannot notify systemd');
});

test('systemdNotifySender says when systemd-notify cannot be run at all', async () => {
  await assert.rejects(systemdNotifySender('/nonexistent.sock', 'no-such-systemd-notify')(['READY=1']), /not found: it comes with systemd/);
});

test('without NOTIFY_SOCKET the notifier does nothing: no message, no timer', async () => {
  const sent: string[][] = [];
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const notifier = serviceNotifier({ env: { WATCHDOG_USEC: '1000000' }, send: async (a) => void sent.push([...a]) });
    assert.equal(notifier.enabled, false);
    await notifier.ready();
    mock.timers.tick(10_000);
    await notifier.stopping();
    assert.deepEqual(sent, []);
  } finally {
    mock.timers.reset();
  }
});

test('watchdog pings come every half WATCHDOG_USEC after READY=1 and end with STOPPING=1', async () => {
  const sent: string[] = [];
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const notifier = serviceNotifier({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '30000000' }, send: async (a) => void sent.push(a.join(' ')) });
    assert.equal(notifier.watchdogIntervalMs, 15_000);
    mock.timers.tick(60_000);
    assert.deepEqual(sent, [], 'no ping before the hub is ready');
    await notifier.ready();
    for (let i = 0; i < 3; i++) {
      mock.timers.tick(15_000);
      await new Promise((r) => setImmediate(r));
    }
    await notifier.stopping();
    mock.timers.tick(60_000);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, ['READY=1', 'WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1', 'STOPPING=1']);
  } finally {
    mock.timers.reset();
  }
});

test('a ping still on its way is not doubled: a stuck helper cannot pile up processes', async () => {
  const sent: string[] = [];
  const pending: Array<() => void> = [];
  let stuck = true;
  const releaseAll = () => pending.splice(0).forEach((r) => r());
  const turn = () => new Promise((r) => setImmediate(r));
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const notifier = serviceNotifier({
      env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '2000000' },
      send: (a) => {
        sent.push(a.join(' '));
        return stuck && a[0] === 'WATCHDOG=1' ? new Promise<void>((r) => pending.push(r)) : Promise.resolve();
      },
    });
    await notifier.ready();
    mock.timers.tick(1000);
    await turn();
    mock.timers.tick(5000);
    await turn();
    assert.deepEqual(sent, ['READY=1', 'WATCHDOG=1']);
    stuck = false;
    releaseAll();
    await turn();
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(sent, ['READY=1', 'WATCHDOG=1', 'WATCHDOG=1'], 'the ticks while the first was on its way were dropped, not queued');
    await notifier.stopping();
  } finally {
    stuck = false;
    releaseAll();
    mock.timers.reset();
  }
});

test('the watchdog interval: half of WATCHDOG_USEC, and none for another process or a bad value', () => {
  assert.equal(watchdogInterval({ WATCHDOG_USEC: '30000000' }, 42), 15_000);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15_000);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '43' }, 42), undefined);
  assert.equal(watchdogInterval({}, 42), undefined);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: '0' }, 42), undefined);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: 'soon' }, 42), undefined);
});

test('the notifier runs in the real daemon: twinedge run says READY=1 under a notify socket', { skip: needsTools }, async (t) => {
  const dir = await tempDir(t);
  const socket = await notifySocket(t, dir);
  const { generateHubKey, writeKeyFiles } = await import('../../src/frames/keys.js');
  const { writeFile } = await import('node:fs/promises');
  await writeKeyFiles(join(dir, 'hub'), generateHubKey());
  const config = join(dir, 'c.yaml');
  await writeFile(config, 'hub:\n  id: h1\n  key_file: hub.key\n  data_dir: data\n  clock_sync: assume-synced\nbroker:\n  url: mqtt://127.0.0.1:9\n');
  const cli = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [cli, 'run', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '400000', TWINEDGE_BROKER_URL: '' },
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  await until(() => socket.messages.includes('READY=1') || child.exitCode !== null, 'READY=1 from the daemon');
  assert.ok(socket.messages.includes('READY=1'), `the daemon exited first: ${stderr}`);
  await until(() => socket.messages.includes('WATCHDOG=1'), 'a watchdog ping from the daemon');
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, stderr);
  await until(() => socket.messages.includes('STOPPING=1'), 'STOPPING=1 from the daemon');
});

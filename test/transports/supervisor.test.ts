import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { SystemClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { SerialTransport } from '../../src/transports/serial/serial-transport.js';
import { TransportSupervisor, type DeviceGap } from '../../src/transports/supervisor.js';
import { PtyPair } from '../helpers/pty.js';
import { makeTempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

test('a serial device unplugged and plugged back is reopened, and the time it was away is one gap', { skip: skipUnless('socat') }, async () => {
  const dir = await makeTempDir('twinedge-sup-');
  const pty = await PtyPair.start(dir.path);
  const clock = new SystemClock('assume-synced');
  let text = '';
  const gaps: DeviceGap[] = [];
  const sup = new TransportSupervisor((l) => new SerialTransport({ path: pty.devicePath, baudRate: 115200 }, clock, l), {
    clock, log: silentLogger(), reconnectMinMs: 20, reconnectMaxMs: 100,
    onChunk: (c) => (text += Buffer.from(c.bytes).toString()), onGap: (g) => gaps.push(g),
  });
  try {
    sup.start();
    await until(() => sup.state === 'open', 'the first open');
    await pty.send('a\n');
    await until(() => text === 'a\n', 'bytes before the unplug');
    await pty.unplug();
    await until(() => sup.state === 'backing-off' || sup.state === 'opening', 'the unplug to be noticed');
    // Away for a while: several reopen attempts fail in the meantime.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(gaps.length, 0, 'no gap is reported while the device is still away');
    await pty.plug();
    await until(() => sup.state === 'open', 'the reopen after the replug');
    await pty.send('b\n');
    await until(() => text === 'a\nb\n', 'bytes after the replug');
    assert.equal(gaps.length, 1);
    assert.equal(gaps[0]!.device, `serial:${pty.devicePath}`);
    assert.ok(gaps[0]!.toMonoMs - gaps[0]!.fromMonoMs >= 250, 'the gap spans the time away');
  } finally {
    await sup.stop();
    await pty.close();
    await dir.remove();
  }
});

test('a device absent at start is waited for without a tight loop, then streams', { skip: skipUnless('socat') }, async () => {
  const dir = await makeTempDir('twinedge-sup-');
  const devicePath = `${dir.path}/dev`;
  const clock = new SystemClock('assume-synced');
  let opens = 0;
  let text = '';
  const gaps: DeviceGap[] = [];
  const sup = new TransportSupervisor((l) => {
    const t = new SerialTransport({ path: devicePath, baudRate: 9600 }, clock, l);
    const open = t.open.bind(t);
    t.open = () => (opens++, open());
    return t;
  }, { clock, log: silentLogger(), reconnectMinMs: 20, reconnectMaxMs: 80, onChunk: (c) => (text += Buffer.from(c.bytes).toString()), onGap: (g) => gaps.push(g) });
  let pty: PtyPair | undefined;
  try {
    sup.start();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sup.state === 'open', false);
    // Backoff: 20, 40, 80, 80, ... ms with jitter of up to half: at most about 12 tries in 500 ms.
    assert.ok(opens >= 3 && opens <= 15, `${opens} attempts in 500 ms`);
    pty = await PtyPair.start(dir.path);
    await until(() => sup.state === 'open', 'the device to be found');
    await pty.send('hello\n');
    await until(() => text === 'hello\n', 'bytes');
    assert.equal(gaps.length, 1, 'the wait at start is reported as a gap too');
  } finally {
    await sup.stop();
    await pty?.close();
    await rm(dir.path, { recursive: true, force: true });
  }
});

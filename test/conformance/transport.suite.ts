/**
 * The contract every Transport implementation must meet (src/transports/transport.ts), run with
 * a factory that gives a transport on a real device end the test can play, unplug and replug.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transport, TransportChunk, TransportListener } from '../../src/transports/transport.js';
import { until } from '../helpers/wait.js';

export interface TransportRig {
  transport: Transport;
  /** The device sends bytes. */
  send(bytes: Uint8Array | string): Promise<void>;
  unplug(): Promise<void>;
  replug(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface TransportFactory {
  skip?: string | undefined;
  create(listener: TransportListener): Promise<TransportRig>;
  /** A transport for a device that is not there. */
  absent(listener: TransportListener): Transport;
}

function recorder() {
  const chunks: TransportChunk[] = [];
  const disconnects: string[] = [];
  const listener: TransportListener = { data: (c) => chunks.push(c), disconnected: (r) => disconnects.push(r) };
  const text = () => Buffer.concat(chunks.map((c) => Buffer.from(c.bytes))).toString('latin1');
  return { chunks, disconnects, listener, text };
}

export function transportSuite(name: string, factory: TransportFactory): void {
  const opts = { skip: factory.skip };

  test(`${name}: bytes arrive in order, with receive times`, opts, async () => {
    const r = recorder();
    const rig = await factory.create(r.listener);
    try {
      await rig.transport.open();
      assert.equal(rig.transport.isOpen, true);
      let expected = '';
      for (let i = 0; i < 200; i++) {
        const line = `line ${i} ${'x'.repeat(i % 37)}\n`;
        expected += line;
        await rig.send(line);
      }
      await until(() => r.text().length >= expected.length, 'every byte');
      assert.equal(r.text(), expected);
      for (let i = 1; i < r.chunks.length; i++) assert.ok(r.chunks[i]!.monoMs >= r.chunks[i - 1]!.monoMs, 'receive times never go back');
      assert.ok(r.chunks.every((c) => c.wallMs > 0));
    } finally {
      await rig.transport.close();
      await rig.cleanup();
    }
  });

  test(`${name}: after close resolves no more data arrives, and close twice is harmless`, opts, async () => {
    const r = recorder();
    const rig = await factory.create(r.listener);
    try {
      await rig.transport.open();
      await rig.send('before\n');
      await until(() => r.text() === 'before\n', 'the first bytes');
      await rig.transport.close();
      await rig.transport.close();
      assert.equal(rig.transport.isOpen, false);
      await rig.send('after\n');
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(r.text(), 'before\n');
      assert.deepEqual(r.disconnects, [], 'a close is not an unplug');
    } finally {
      await rig.cleanup();
    }
  });

  test(`${name}: an unplug is reported once, and after a replug it opens and streams again`, opts, async () => {
    const r = recorder();
    const rig = await factory.create(r.listener);
    try {
      await rig.transport.open();
      await rig.send('one\n');
      await until(() => r.text() === 'one\n', 'bytes before the unplug');
      await rig.unplug();
      await until(() => r.disconnects.length > 0, 'the unplug to be noticed');
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(r.disconnects.length, 1, 'reported once');
      assert.equal(rig.transport.isOpen, false);
      await assert.rejects(rig.transport.open(), { code: 'TRANSPORT_OPEN_FAILED' }, 'no device, no open');
      await rig.replug();
      await rig.transport.open();
      await rig.send('two\n');
      await until(() => r.text() === 'one\ntwo\n', 'bytes after the replug');
    } finally {
      await rig.transport.close();
      await rig.cleanup();
    }
  });

  test(`${name}: opening a device that is not there fails with TRANSPORT_OPEN_FAILED`, opts, async () => {
    const r = recorder();
    await assert.rejects(factory.absent(r.listener).open(), { code: 'TRANSPORT_OPEN_FAILED' });
  });
}

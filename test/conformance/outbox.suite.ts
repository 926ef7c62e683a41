/**
 * The contract every Outbox implementation must meet (src/outbox/outbox.ts). An implementation
 * runs it with a factory that makes a fresh store, or reopens one at the same place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBody, decodeSigned, type Gap } from '../../src/frames/codec.js';
import type { Outbox, AppendEntry } from '../../src/outbox/outbox.js';

export interface OutboxFactory {
  /** A store at a new place; `reopen` makes another instance at that same place. */
  create(options: { quotaBytes?: number; makeGap?: (seq: number, gap: Gap) => Uint8Array; tailCacheBytes?: number }): Promise<{ outbox: Outbox; reopen(): Outbox; cleanup(): Promise<void> }>;
  /** A gap-frame maker that signs real frames, so gap ranges can be decoded back. */
  makeGap: (seq: number, gap: Gap) => Uint8Array;
}

function entry(body: string, subjectRef = 's1'): AppendEntry {
  return { subjectRef, kind: 'cross_section', make: (seq) => Buffer.from(`${seq}:${body}`) };
}

function gapOf(payload: Uint8Array): Gap {
  const body = decodeBody(decodeSigned(payload).body);
  assert.equal(body.kind, 'gap');
  return body.gap!;
}

export function outboxSuite(name: string, factory: OutboxFactory): void {
  test(`${name}: seqs are assigned in call order, from 1, and read back in order`, async () => {
    const { outbox, cleanup } = await factory.create({});
    try {
      await outbox.open();
      const a = outbox.append([entry('a'), entry('b')]);
      const b = outbox.append([entry('c')]);
      assert.deepEqual(await a, [1, 2]);
      assert.deepEqual(await b, [3]);
      const recs = await outbox.read(0, 10);
      assert.deepEqual(recs.map((r) => [r.seq, Buffer.from(r.payload).toString(), r.subjectRef, r.kind]), [
        [1, '1:a', 's1', 'cross_section'], [2, '2:b', 's1', 'cross_section'], [3, '3:c', 's1', 'cross_section'],
      ]);
      assert.deepEqual((await outbox.read(1, 1)).map((r) => r.seq), [2]);
      assert.equal(outbox.stats().pending, 3);
    } finally {
      await outbox.close();
      await cleanup();
    }
  });

  test(`${name}: acked frames are not read again, and seq survives a reopen without repeating`, async () => {
    const { outbox, reopen, cleanup } = await factory.create({});
    try {
      await outbox.open();
      await outbox.append([entry('a'), entry('b'), entry('c'), entry('d')]);
      outbox.ack([1, 3]);
      assert.deepEqual((await outbox.read(0, 10)).map((r) => r.seq), [2, 4]);
      await outbox.close();
      const again = reopen();
      await again.open();
      try {
        assert.deepEqual((await again.read(0, 10)).map((r) => r.seq), [2, 4]);
        assert.equal(again.stats().lastSeq, 4);
        assert.equal(again.stats().oldestSeq, 2);
        again.ack([2, 4]);
        assert.deepEqual(await again.append([entry('e')]), [5]);
        assert.deepEqual((await again.read(0, 10)).map((r) => r.seq), [5]);
      } finally {
        await again.close();
      }
      // Even with nothing pending, the next seq continues after the last one ever given.
      const third = reopen();
      await third.open();
      try {
        third.ack([5]);
        await third.close();
        const fourth = reopen();
        await fourth.open();
        assert.deepEqual(await fourth.append([entry('f')]), [6]);
        await fourth.close();
      } finally {
        await third.close();
      }
    } finally {
      await cleanup();
    }
  });

  test(`${name}: state is stored with the frames that report it`, async () => {
    const { outbox, reopen, cleanup } = await factory.create({});
    try {
      await outbox.open();
      await outbox.append([entry('x')], [{ key: 'exposure/s1', value: Buffer.from('v1') }]);
      await outbox.append([entry('y')], [{ key: 'exposure/s1', value: Buffer.from('v2') }]);
      assert.equal(Buffer.from((await outbox.getState('exposure/s1'))!).toString(), 'v2');
      await outbox.close();
      const again = reopen();
      await again.open();
      assert.equal(Buffer.from((await again.getState('exposure/s1'))!).toString(), 'v2');
      await again.append([], [{ key: 'exposure/s1', value: undefined }]);
      assert.equal(await again.getState('exposure/s1'), undefined);
      await again.close();
    } finally {
      await cleanup();
    }
  });

  test(`${name}: a full quota drops the oldest frames and a gap frame names them`, async () => {
    const gapSeqs = new Set<number>();
    const { outbox, cleanup } = await factory.create({ quotaBytes: 4000, makeGap: (seq, gap) => (gapSeqs.add(seq), factory.makeGap(seq, gap)) });
    try {
      await outbox.open();
      const big = 'x'.repeat(480);
      const seqs: number[] = [];
      for (let i = 0; i < 20; i++) seqs.push(...(await outbox.append([entry(big)])));
      const st = outbox.stats();
      assert.ok(st.pendingBytes <= 4000 + 600, `pending ${st.pendingBytes} should be near the quota`);
      assert.ok(st.droppedFrames > 0);
      const recs = await outbox.read(0, 100);
      const gaps = recs.filter((r) => r.kind === 'gap');
      assert.ok(gaps.length >= 1);
      const stored = new Set(recs.map((r) => r.seq));
      const declared = new Set<number>();
      for (const g of gaps) for (const r of gapOf(g.payload).dropped) for (let s = r.first; s <= r.last; s++) declared.add(s);
      // Every frame is accounted for: still stored, or named in a pending gap frame.
      for (let s = 1; s <= st.lastSeq; s++) assert.ok(stored.has(s) !== declared.has(s), `seq ${s} stored xor declared dropped`);
      assert.ok(gapSeqs.size >= 1);
      // The oldest frames went first.
      assert.ok(declared.has(1));
      assert.ok(gapOf(gaps[gaps.length - 1]!.payload).frames! > 0, 'the gap frame counts the frames it dropped');
    } finally {
      await outbox.close();
      await cleanup();
    }
  });

  test(`${name}: a gap frame that is itself dropped has its ranges carried into the next one`, async () => {
    const gapSeqs = new Set<number>();
    const { outbox, cleanup } = await factory.create({ quotaBytes: 3000, makeGap: (seq, gap) => (gapSeqs.add(seq), factory.makeGap(seq, gap)) });
    try {
      await outbox.open();
      for (let i = 0; i < 60; i++) await outbox.append([entry('y'.repeat(400))]);
      const recs = await outbox.read(0, 1000);
      const stored = new Set(recs.map((r) => r.seq));
      const pendingGaps = recs.filter((r) => r.kind === 'gap');
      const droppedGaps = [...gapSeqs].filter((s) => !stored.has(s));
      assert.ok(droppedGaps.length >= 1, 'the scenario must drop at least one gap frame');
      const declared = new Set<number>();
      for (const g of pendingGaps) for (const r of gapOf(g.payload).dropped) for (let s = r.first; s <= r.last; s++) declared.add(s);
      // Every seq, gap frames included, is still stored or named by a pending gap frame.
      for (let s = 1; s <= outbox.stats().lastSeq; s++) assert.ok(stored.has(s) !== declared.has(s), `seq ${s} stored xor declared dropped`);
      assert.ok(declared.has(1), 'the very first dropped frame is still reported');
    } finally {
      await outbox.close();
      await cleanup();
    }
  });

  test(`${name}: appends after close are refused with OUTBOX_CLOSED`, async () => {
    const { outbox, cleanup } = await factory.create({});
    try {
      await outbox.open();
      const pending = outbox.append([entry('last')]);
      await outbox.close();
      assert.deepEqual(await pending, [1], 'an append accepted before close is durable when close resolves');
      await assert.rejects(outbox.append([entry('late')]), { code: 'OUTBOX_CLOSED' });
    } finally {
      await cleanup();
    }
  });

  test(`${name}: reading a long backlog in chunks returns every pending frame once, in order`, async () => {
    const { outbox, cleanup } = await factory.create({});
    try {
      await outbox.open();
      const n = 5000;
      for (let i = 0; i < n; i += 250) await outbox.append(Array.from({ length: 250 }, () => entry('z'.repeat(100))));
      outbox.ack(Array.from({ length: n / 2 }, (_, i) => i * 2 + 1));
      const seen: number[] = [];
      let cursor = 0;
      for (;;) {
        const recs = await outbox.read(cursor, 333);
        if (recs.length === 0) break;
        for (const r of recs) seen.push(r.seq);
        cursor = recs[recs.length - 1]!.seq;
      }
      assert.deepEqual(seen, Array.from({ length: n / 2 }, (_, i) => i * 2 + 2));
    } finally {
      await outbox.close();
      await cleanup();
    }
  });

  test(`${name}: a reader racing the writer gets every frame once, in order`, async () => {
    // A tiny memory cache, so that reads go to disk while new frames push the cache forward.
    const { outbox, cleanup } = await factory.create({ tailCacheBytes: 2000 });
    try {
      await outbox.open();
      const n = 6000;
      let produced = false;
      const producing = (async () => {
        const appends: Promise<number[]>[] = [];
        for (let i = 0; i < n; i += 50) {
          appends.push(outbox.append(Array.from({ length: 50 }, () => entry('r'.repeat(200)))));
          if (i % 500 === 0) await new Promise((r) => setImmediate(r));
        }
        await Promise.all(appends);
        produced = true;
      })();
      const seen: number[] = [];
      let cursor = 0;
      for (;;) {
        const done = produced;
        const recs = await outbox.read(cursor, 2000);
        for (const r of recs) seen.push(r.seq);
        if (recs.length > 0) cursor = recs[recs.length - 1]!.seq;
        else if (done) break;
        else await new Promise((r) => setImmediate(r));
      }
      await producing;
      assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i + 1));
    } finally {
      await outbox.close();
      await cleanup();
    }
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { LevelDedupe, type GapEvent } from '../../src/receiver/dedupe.js';
import { FrameVerifier, type AcceptedFrame } from '../../src/receiver/verify.js';
import { TestHub, trustFor, type Message } from './helpers.js';
import { makeTempDir } from '../helpers/tmp.js';

const hub = new TestHub('hub-a');
const other = new TestHub('hub-b');
const verifier = new FrameVerifier(trustFor(['hub-a', hub], ['hub-b', other]));

function frame(m: Message): AcceptedFrame {
  const v = verifier.verify(m.topic, m.payload);
  if (!v.ok) throw new Error(`test frame rejected: ${v.reason}`);
  return v.frame;
}

async function withState<T>(fn: (open: () => Promise<LevelDedupe>) => Promise<T>): Promise<T> {
  const dir = await makeTempDir('twinedge-dedupe-');
  const opened: LevelDedupe[] = [];
  try {
    return await fn(async () => {
      const s = new LevelDedupe({ location: join(dir.path, 'state') });
      await s.open();
      opened.push(s);
      return s;
    });
  } finally {
    for (const s of opened) await s.close();
    await dir.remove();
  }
}

/** check, then accept when new: what the processor does. Returns the reason or the events. */
async function deliver(s: LevelDedupe, m: Message): Promise<string | GapEvent[]> {
  const f = frame(m);
  const seen = s.check(f);
  if (seen) return seen;
  return s.accept(f);
}

test('in-order frames move the watermark; an old seq is a replay, a seq above it seen before a duplicate', async () => {
  await withState(async (open) => {
    const s = await open();
    for (const seq of [1, 2, 3, 5]) assert.deepEqual(await deliver(s, hub.crossSection(seq)), seq === 5 ? [{ type: 'seq_gap', hubId: 'hub-a', first: 4, last: 4 }] : []);
    assert.equal(s.watermark('hub-a'), 3);
    assert.equal(await deliver(s, hub.crossSection(2)), 'replay');
    assert.equal(await deliver(s, hub.crossSection(5)), 'duplicate');
    assert.deepEqual(s.missing('hub-a'), [{ first: 4, last: 4 }]);
    assert.deepEqual(await deliver(s, hub.crossSection(4)), []);
    assert.equal(s.watermark('hub-a'), 5);
    assert.deepEqual(s.missing('hub-a'), []);
    assert.equal(await deliver(s, hub.crossSection(4)), 'replay');
    // Hubs are independent.
    assert.deepEqual(await deliver(s, other.crossSection(4)), []);
    assert.deepEqual(s.hubs(), ['hub-a', 'hub-b']);
  });
});

test('the first frame from an unknown hub sets the baseline; from seq 1 nothing before it is missing either', async () => {
  await withState(async (open) => {
    const s = await open();
    assert.deepEqual(await deliver(s, hub.crossSection(100)), []);
    assert.equal(s.watermark('hub-a'), 100);
    assert.deepEqual(s.missing('hub-a'), []);
    assert.equal(await deliver(s, hub.crossSection(60)), 'replay');
    assert.deepEqual(await deliver(s, other.crossSection(1)), []);
    assert.equal(s.watermark('hub-b'), 1);
    assert.equal(s.watermark('hub-c'), undefined);
  });
});

test('holes are reported as they appear and by missing(); a gap frame declaring them resolves them', async () => {
  await withState(async (open) => {
    const s = await open();
    const events: GapEvent[] = [];
    for (const seq of [1, 2, 5, 6, 9]) {
      const r = await deliver(s, hub.crossSection(seq));
      assert.ok(Array.isArray(r));
      events.push(...r);
    }
    assert.deepEqual(events, [{ type: 'seq_gap', hubId: 'hub-a', first: 3, last: 4 }, { type: 'seq_gap', hubId: 'hub-a', first: 7, last: 8 }]);
    assert.deepEqual(s.missing('hub-a'), [{ first: 3, last: 4 }, { first: 7, last: 8 }]);
    // A late frame fills part of a hole.
    await deliver(s, hub.crossSection(4));
    assert.deepEqual(s.missing('hub-a'), [{ first: 3, last: 3 }, { first: 7, last: 8 }]);
    const declared = await deliver(s, hub.gap(10, [{ first: 3, last: 3 }, { first: 7, last: 8 }]));
    assert.deepEqual(declared, [{ type: 'declared', hubId: 'hub-a', seq: 10, reason: 1, ranges: [{ first: 3, last: 3 }, { first: 7, last: 8 }] }]);
    assert.deepEqual(s.missing('hub-a'), []);
    assert.equal(s.watermark('hub-a'), 10);
    assert.equal(await deliver(s, hub.crossSection(7)), 'replay');
  });
});

test('a gap frame that jumps past its dropped range raises no seq_gap for it; one that leaves a hole does', async () => {
  await withState(async (open) => {
    const s = await open();
    await deliver(s, hub.crossSection(1));
    assert.deepEqual(await deliver(s, hub.gap(6, [{ first: 2, last: 5 }])), [{ type: 'declared', hubId: 'hub-a', seq: 6, reason: 1, ranges: [{ first: 2, last: 5 }] }]);
    assert.equal(s.watermark('hub-a'), 6);
    const r = await deliver(s, hub.gap(12, [{ first: 9, last: 10 }]));
    assert.deepEqual(r, [
      { type: 'declared', hubId: 'hub-a', seq: 12, reason: 1, ranges: [{ first: 9, last: 10 }] },
      { type: 'seq_gap', hubId: 'hub-a', first: 7, last: 8 },
      { type: 'seq_gap', hubId: 'hub-a', first: 11, last: 11 },
    ]);
    assert.deepEqual(s.missing('hub-a'), [{ first: 7, last: 8 }, { first: 11, last: 11 }]);
    // A frame declared lost that turns up anyway, while still above the watermark, is kept.
    assert.deepEqual(await deliver(s, hub.crossSection(9)), []);
  });
});

test('state survives a reopen: duplicates, replays, holes and the latest status are still known', async () => {
  await withState(async (open) => {
    const s1 = await open();
    for (const seq of [1, 2, 3, 5, 8]) await deliver(s1, hub.crossSection(seq));
    const status = hub.status('online', 8);
    await deliver(s1, status);
    await s1.close();
    const s2 = await open();
    assert.equal(await deliver(s2, hub.crossSection(8)), 'duplicate');
    assert.equal(await deliver(s2, hub.crossSection(2)), 'replay');
    assert.equal(await deliver(s2, status), 'duplicate');
    assert.deepEqual(s2.missing('hub-a'), [{ first: 4, last: 4 }, { first: 6, last: 7 }]);
    assert.equal(s2.latestStatus('hub-a')?.mark.last_seq, 8);
    assert.deepEqual(await deliver(s2, hub.crossSection(4)), []);
    assert.equal(s2.watermark('hub-a'), 5);
    await s2.close();
    const s3 = await open();
    assert.equal(s3.watermark('hub-a'), 5);
    assert.deepEqual(s3.missing('hub-a'), [{ first: 6, last: 7 }]);
  });
});

test('status frames keep the latest per hub: same is a duplicate, older is stale, a will outlives its birth', async () => {
  await withState(async (open) => {
    const s = await open();
    const will = hub.status('offline', 3); // signed at connect, before the birth
    const birth = hub.status('online', 3);
    const later = hub.status('online', 4);
    assert.deepEqual(await deliver(s, birth), []);
    assert.equal(await deliver(s, birth), 'duplicate');
    assert.deepEqual(await deliver(s, later), []);
    assert.equal(await deliver(s, birth), 'stale_status');
    assert.deepEqual(await deliver(s, will), []);
    assert.equal(s.latestStatus('hub-a')?.mark.state, 2);
    // A new boot (new boot_id, mono from 0) that has appended more is newer; the old one is then stale.
    const rebooted = new TestHub('hub-a', hub.key);
    assert.deepEqual(await deliver(s, rebooted.status('online', 9)), []);
    assert.equal(await deliver(s, hub.status('online', 5)), 'stale_status');
    // Status frames never touch the sequence.
    assert.equal(s.watermark('hub-a'), undefined);
  });
});

test('any delivery order, with copies and a restart: each seq accepted once, missing() = the holes', async () => {
  const deliveries = fc.array(fc.integer({ min: 2, max: 40 }), { minLength: 1, maxLength: 60 });
  await fc.assert(fc.asyncProperty(deliveries, fc.nat(60), async (seqs, restartAt) => {
    await withState(async (open) => {
      let s = await open();
      const accepted: number[] = [];
      const order = [1, ...seqs];
      for (let i = 0; i < order.length; i++) {
        if (i === restartAt) {
          await s.close();
          s = await open();
        }
        const r = await deliver(s, hub.crossSection(order[i]!));
        if (Array.isArray(r)) accepted.push(order[i]!);
      }
      const distinct = [...new Set(order)].sort((a, b) => a - b);
      assert.deepEqual([...accepted].sort((a, b) => a - b), distinct);
      const max = distinct[distinct.length - 1]!;
      const holes: { first: number; last: number }[] = [];
      for (let v = 1; v <= max; v++) {
        if (distinct.includes(v)) continue;
        const last = holes[holes.length - 1];
        if (last && last.last === v - 1) last.last = v;
        else holes.push({ first: v, last: v });
      }
      assert.deepEqual(s.missing('hub-a'), holes);
    });
  }), { numRuns: 25 });
});

// LevelOutbox.purgeSubject on a real LevelDB: exactly one subject's unacknowledged frames leave
// the pending index and the disk, a gap frame (PURGED) declares them in the same batch as the
// caller's report and state, seq order and the quota's byte count stay right, and a reopen finds
// the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Level } from 'level';
import { decodeBody, decodeSigned, GapReason, type Gap } from '../../src/frames/codec.js';
import { FrameMaker } from '../../src/frames/frame-maker.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { FrameSigner } from '../../src/frames/sign.js';
import { LevelOutbox } from '../../src/outbox/level-outbox.js';
import type { AppendEntry, OutboxRecord } from '../../src/outbox/outbox.js';
import { decodeSegment, frameCost, SEGMENT_RANGE, seqOfKey } from '../../src/outbox/segment.js';
import { ManualClock } from '../../src/ops/clock.js';
import { tempDir } from '../helpers/tmp.js';

const maker = new FrameMaker({ hubId: 'hub-p', clock: new ManualClock(Date.UTC(2026, 0, 1)), signer: new FrameSigner(generateHubKey()) });
const makeGap = (seq: number, gap: Gap) => maker.make(seq, '_hub', { gap });

function outboxAt(dir: string): LevelOutbox {
  return new LevelOutbox({ location: join(dir, 'db'), quotaBytes: 1e9, sync: 'batch', maxBatch: 1000, makeGap });
}

function frame(subjectRef: string, make?: (seq: number) => Uint8Array | Promise<Uint8Array>): AppendEntry {
  return { subjectRef, kind: 'event', make: make ?? ((seq) => maker.make(seq, subjectRef, { event: { event_id: `e${seq}`, kind: 6, at_ms: 1 } })) };
}

const report = (note: string): AppendEntry => ({ subjectRef: '_hub', kind: 'event', make: (seq) => maker.make(seq, '_hub', { event: { event_id: note, kind: 6, at_ms: 1 } }) });

async function allRead(o: LevelOutbox): Promise<OutboxRecord[]> {
  return o.read(0, 1000);
}

/** Subject refs of every frame on disk, by seq, whatever its acknowledgement. */
async function onDisk(dir: string): Promise<Map<number, string>> {
  const db = new Level<string, Uint8Array>(join(dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  const out = new Map<number, string>();
  try {
    for await (const [key, value] of db.iterator(SEGMENT_RANGE)) for (const r of decodeSegment(seqOfKey(key), value)!) out.set(r.seq, r.subjectRef);
  } finally {
    await db.close();
  }
  return out;
}

test('a purge drops exactly the subject\'s pending frames, declares them, and a reopen finds the same', async (t) => {
  const dir = await tempDir(t);
  const o = outboxAt(dir);
  await o.open();
  // Three batches, so three segments on disk: s1 at 1, 3, 5, 8 and s2 at 2, 4, 6, 7.
  assert.deepEqual(await o.append([frame('s1'), frame('s2'), frame('s1')]), [1, 2, 3]);
  assert.deepEqual(await o.append([frame('s2'), frame('s1')]), [4, 5]);
  assert.deepEqual(await o.append([frame('s2'), frame('s2'), frame('s1')], [{ key: 'exposure/s1', value: Buffer.from('{}') }, { key: 'exposure/s2', value: Buffer.from('{}') }]), [6, 7, 8]);
  // Seq 1 was delivered: acknowledged, but its segment is still on disk.
  o.ack([1]);
  const before = await allRead(o);
  const pendingBefore = o.stats().pendingBytes;
  const s1Pending = before.filter((r) => r.subjectRef === 's1');
  assert.deepEqual(s1Pending.map((r) => r.seq), [3, 5, 8]);

  const done = await o.purgeSubject({
    subjectRef: 's1',
    report: (outcome) => [report(`purged ${outcome.frames}`)],
    state: () => [{ key: 'exposure/s1', value: undefined }],
  });
  assert.deepEqual(done.removed, [{ first: 3, last: 3 }, { first: 5, last: 5 }, { first: 8, last: 8 }]);
  assert.equal(done.frames, 3);
  assert.equal(done.bytes, s1Pending.reduce((n, r) => n + frameCost(r), 0));
  assert.equal(done.deliveredCopies, 1, 'the acknowledged copy of seq 1 on disk');
  assert.equal(done.gapSeq, 9);
  assert.deepEqual(done.seqs, [9, 10]);
  for (const seq of [3, 5, 8]) assert.equal(o.isPending(seq), false);

  const after = await allRead(o);
  assert.deepEqual(after.map((r) => r.seq), [2, 4, 6, 7, 9, 10], 'seq order kept, the subject gone, gap and report after');
  for (const r of after.filter((x) => x.subjectRef === 's2')) {
    assert.deepEqual(Buffer.from(r.payload), Buffer.from(before.find((b) => b.seq === r.seq)!.payload), `seq ${r.seq} untouched`);
  }
  const gap = decodeBody(decodeSigned(after.find((r) => r.seq === 9)!.payload).body);
  assert.equal(gap.kind, 'gap');
  assert.equal(gap.gap!.reason, GapReason.PURGED);
  assert.deepEqual(gap.gap!.dropped, done.removed);
  assert.equal(gap.gap!.frames, 3);
  assert.equal(decodeBody(decodeSigned(after.find((r) => r.seq === 10)!.payload).body).event!.event_id, 'purged 3', 'the report was made knowing the outcome');
  const added = after.filter((r) => r.seq >= 9).reduce((n, r) => n + frameCost(r), 0);
  assert.equal(o.stats().pendingBytes, pendingBefore - done.bytes + added, 'the quota counts the purged bytes out');
  assert.equal(o.stats().pending, 6);
  assert.equal(await o.getState('exposure/s1'), undefined, 'state deleted in the batch');
  assert.ok(await o.getState('exposure/s2'), 'other state kept');
  await o.close();

  const disk = await onDisk(dir);
  assert.deepEqual([...disk.values()].filter((s) => s === 's1'), [], 'no frame of the subject on disk, delivered copies included');
  assert.deepEqual([...disk.keys()].sort((a, b) => a - b), [2, 4, 6, 7, 9, 10]);

  const again = outboxAt(dir);
  await again.open();
  t.after(() => again.close());
  assert.deepEqual((await allRead(again)).map((r) => r.seq), [2, 4, 6, 7, 9, 10]);
  assert.equal(again.stats().pending, 6);
  assert.deepEqual(await again.append([frame('s1')]), [11], 'seqs go on after the purge');
});

test('a purge with nothing pending of the subject writes no gap frame', async (t) => {
  const dir = await tempDir(t);
  const o = outboxAt(dir);
  await o.open();
  t.after(() => o.close());
  await o.append([frame('s2'), frame('s2')]);
  const done = await o.purgeSubject({ subjectRef: 's1', report: () => [report('nothing')] });
  assert.equal(done.frames, 0);
  assert.equal(done.gapSeq, 0);
  assert.deepEqual(done.seqs, [3]);
  assert.deepEqual((await allRead(o)).map((r) => [r.seq, r.subjectRef]), [[1, 's2'], [2, 's2'], [3, '_hub']]);
});

test('frames appended before the purge are purged, even while they are still being signed', async (t) => {
  const dir = await tempDir(t);
  const o = outboxAt(dir);
  await o.open();
  t.after(() => o.close());
  let release!: () => void;
  const signed = new Promise<void>((r) => { release = r; });
  const slow = o.append([frame('s1', async (seq) => { await signed; return maker.make(seq, 's1', { event: { event_id: 'slow', kind: 6, at_ms: 1 } }); }), frame('s2')]);
  const purge = o.purgeSubject({ subjectRef: 's1' });
  release();
  await slow;
  const done = await purge;
  assert.deepEqual(done.removed, [{ first: 1, last: 1 }]);
  assert.deepEqual((await allRead(o)).map((r) => r.seq), [2, 3]);
});

test('the subject\'s pending frames in many segments are dropped once each', async (t) => {
  const dir = await tempDir(t);
  const o = outboxAt(dir);
  await o.open();
  t.after(() => o.close());
  const expected: number[] = [];
  for (let b = 0; b < 20; b++) {
    const seqs = await o.append([frame('s1'), frame('s2'), frame('s1'), frame('s1')]);
    expected.push(seqs[0]!, seqs[2]!, seqs[3]!);
  }
  const done = await o.purgeSubject({ subjectRef: 's1' });
  assert.equal(done.frames, expected.length);
  assert.deepEqual(done.removed.flatMap((r) => Array.from({ length: r.last - r.first + 1 }, (_, i) => r.first + i)), expected);
  assert.deepEqual((await allRead(o)).map((r) => r.subjectRef), [...Array(20).fill('s2'), '_hub']);
});

// The memory of recent event ids, kept as outbox state beside the frames: bounded (the oldest
// ids are forgotten and their records deleted in the same batch), read back after a reopen, and
// a damaged list is reported rather than trusted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RecentEvents, type StoreEvent } from '../../src/events/recent-events.js';
import { EventKind, type Event } from '../../src/frames/codec.js';
import { FrameMaker } from '../../src/frames/frame-maker.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { FrameSigner } from '../../src/frames/sign.js';
import { LevelOutbox } from '../../src/outbox/level-outbox.js';
import { ManualClock } from '../../src/ops/clock.js';
import { tempDir } from '../helpers/tmp.js';

const maker = new FrameMaker({ hubId: 'hub-r', clock: new ManualClock(Date.UTC(2026, 4, 1)), signer: new FrameSigner(generateHubKey()) });

function openOutbox(dir: string): LevelOutbox {
  return new LevelOutbox({ location: join(dir, 'outbox'), quotaBytes: 1 << 26, sync: 'batch', maxBatch: 100, makeGap: (seq, gap) => maker.make(seq, '_hub', { gap }) });
}

/** Stores an event frame and its state in one append, as the hub does. */
function storeIn(outbox: LevelOutbox, event: Event): StoreEvent {
  return async (stateFor) => {
    const expected = outbox.stats().lastSeq + 1;
    const [seq] = await outbox.append([{ subjectRef: 's', kind: 'event', make: (s) => maker.make(s, 's', { event }) }], stateFor(expected));
    assert.equal(seq, expected);
    return seq!;
  };
}

const meal = (id: string): Event => ({ event_id: id, kind: EventKind.MEAL, at_ms: Date.UTC(2026, 4, 1), source: 'http' });

test('the oldest ids beyond the limit are forgotten, their records deleted with the batch that pushes them out', async (t) => {
  const dir = await tempDir(t);
  let outbox = openOutbox(dir);
  await outbox.open();
  let recent = await RecentEvents.load((k) => outbox.getState(k), 3);
  for (const id of ['e1', 'e2', 'e3', 'e4', 'e5']) {
    const r = await recent.record('s', meal(id), storeIn(outbox, meal(id)));
    assert.equal(r.repeated, false, id);
  }
  assert.equal(recent.size, 3);
  assert.equal(await recent.find('e2'), undefined);
  assert.equal(await outbox.getState('events/id/e1'), undefined, 'a forgotten record is deleted');
  assert.equal(await outbox.getState('events/id/e2'), undefined);
  assert.equal((await recent.find('e3'))?.seq, 3);

  await outbox.close();
  outbox = openOutbox(dir);
  await outbox.open();
  t.after(() => outbox.close());
  recent = await RecentEvents.load((k) => outbox.getState(k), 3);
  assert.equal(recent.size, 3);
  assert.equal(recent.damaged, false);
  const repeat = await recent.record('s', meal('e4'), storeIn(outbox, meal('e4')));
  assert.deepEqual([repeat.repeated, repeat.record.seq], [true, 4]);
  const forgotten = await recent.record('s', meal('e1'), storeIn(outbox, meal('e1')));
  assert.deepEqual([forgotten.repeated, forgotten.record.seq], [false, 6], 'an id older than the memory is recorded anew');
});

test('a failed store leaves the id unknown, so that the request can be sent again', async (t) => {
  const dir = await tempDir(t);
  const outbox = openOutbox(dir);
  await outbox.open();
  t.after(() => outbox.close());
  const recent = await RecentEvents.load((k) => outbox.getState(k));
  await assert.rejects(recent.record('s', meal('x'), (stateFor) => {
    stateFor(1);
    return Promise.reject(new Error('disk gone'));
  }), /disk gone/);
  assert.equal(recent.size, 0);
  const r = await recent.record('s', meal('x'), storeIn(outbox, meal('x')));
  assert.equal(r.repeated, false);
});

test('a damaged list of ids is reported and starts empty', async (t) => {
  const dir = await tempDir(t);
  const outbox = openOutbox(dir);
  await outbox.open();
  t.after(() => outbox.close());
  await outbox.append([], [{ key: 'events/ids', value: Buffer.from('{not json') }]);
  const recent = await RecentEvents.load((k) => outbox.getState(k));
  assert.equal(recent.damaged, true);
  assert.equal(recent.size, 0);
  await outbox.append([], [{ key: 'events/ids', value: Buffer.from('["a", 2]') }]);
  assert.equal((await RecentEvents.load((k) => outbox.getState(k))).damaged, true);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RangeSet } from '../../src/receiver/range-set.js';

/** Replays a writer's puts and dels into a map, as LevelDB would store them. */
function recordingWriter() {
  const stored = new Map<number, number>();
  return { stored, writer: { put: (f: number, l: number) => void stored.set(f, l), del: (f: number) => void stored.delete(f) } };
}

function rangesOfSet(values: Set<number>) {
  const sorted = [...values].sort((a, b) => a - b);
  const out: { first: number; last: number }[] = [];
  for (const v of sorted) {
    const last = out[out.length - 1];
    if (last && v === last.last + 1) last.last = v;
    else out.push({ first: v, last: v });
  }
  return out;
}

test('adds, merges and drops ranges like a set of integers, and its writer mirrors it exactly', () => {
  const op = fc.oneof(
    fc.record({ t: fc.constant('add' as const), first: fc.integer({ min: 1, max: 60 }), len: fc.integer({ min: 0, max: 6 }) }),
    fc.record({ t: fc.constant('drop' as const), floor: fc.integer({ min: 0, max: 66 }) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
    const set = new RangeSet();
    const model = new Set<number>();
    const { stored, writer } = recordingWriter();
    for (const o of ops) {
      if (o.t === 'add') {
        set.add(o.first, o.first + o.len, writer);
        for (let v = o.first; v <= o.first + o.len; v++) model.add(v);
      } else {
        set.dropThrough(o.floor, writer);
        for (const v of [...model]) if (v <= o.floor) model.delete(v);
      }
      const expected = rangesOfSet(model);
      assert.deepEqual(set.ranges(), expected);
      assert.deepEqual([...stored.entries()].sort((a, b) => a[0] - b[0]).map(([first, last]) => ({ first, last })), expected);
      for (let v = 0; v <= 67; v++) assert.equal(set.has(v), model.has(v));
      assert.equal(set.lowest(), expected[0]?.first);
      assert.equal(set.lowestRunEnd(), expected[0]?.last);
      assert.equal(set.highest(), expected[expected.length - 1]?.last);
    }
  }), { numRuns: 300 });
});

test('appending the next value costs one write', () => {
  const set = new RangeSet();
  const writes: string[] = [];
  const writer = { put: (f: number, l: number) => void writes.push(`put ${f} ${l}`), del: (f: number) => void writes.push(`del ${f}`) };
  set.add(10, 10, writer);
  set.add(11, 11, writer);
  set.add(12, 12, writer);
  assert.deepEqual(writes, ['put 10 10', 'put 10 11', 'put 10 12']);
});

// The typed-array ring of one channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Timeline } from '../../src/streams/timeline.js';

test('slices a window in time order, late samples sorted in, bounded memory', () => {
  const t = new Timeline(5);
  for (const [time, v] of [[10, 1], [20, 2], [15, 1.5], [30, 3]] as const) t.push(time, v);
  const w = t.slice(10, 30);
  assert.deepEqual([...w.times], [10, 15, 20]);
  assert.deepEqual([...w.values], [1, 1.5, 2]);
  t.push(40, 4);
  t.push(50, 5);
  t.push(60, 6);
  assert.equal(t.length, 5);
  assert.equal(t.overwritten, 2, 'the two oldest gave way');
  assert.deepEqual([...t.slice(0, 100).times], [15, 30, 40, 50, 60]);
  t.dropBefore(45);
  assert.deepEqual([...t.slice(0, 100).times], [50, 60]);
});

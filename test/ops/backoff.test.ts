import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/ops/backoff.js';

test('reconnect delays double from the minimum up to the maximum, half fixed and half jitter', () => {
  const low = new Backoff(100, 1000, () => 0);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => low.next()), [50, 100, 200, 400, 500, 500]);
  const high = new Backoff(100, 1000, () => 0.999999);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => high.next()), [100, 200, 400, 800, 1000, 1000]);
  high.reset();
  assert.equal(high.next(), 100, 'a success starts again from the minimum');
  assert.equal(high.attempts, 1);
});

test('a long outage never overflows the delay', () => {
  const b = new Backoff(500, 30_000, Math.random);
  let d = 0;
  for (let i = 0; i < 10_000; i++) d = b.next();
  assert.ok(d >= 15_000 && d <= 30_000, `${d}`);
});

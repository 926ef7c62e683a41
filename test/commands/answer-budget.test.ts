// The budget of answers to refused-but-signed commands: a burst, then one per refill period.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnswerBudget } from '../../src/commands/answer-budget.js';

test('a burst of answers, then one per refill period, never more than the burst saved up', () => {
  let now = 0;
  const budget = new AnswerBudget(3, 1000, () => now);
  assert.deepEqual([budget.take(), budget.take(), budget.take(), budget.take()], [true, true, true, false]);
  now = 999;
  assert.equal(budget.take(), false);
  now = 1000;
  assert.deepEqual([budget.take(), budget.take()], [true, false]);
  now = 1_000_000;
  assert.deepEqual([budget.take(), budget.take(), budget.take(), budget.take()], [true, true, true, false]);
});

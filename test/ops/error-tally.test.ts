import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/ops/clock.js';
import { ErrorTally } from '../../src/ops/error-tally.js';
import { createLogger } from '../../src/ops/log.js';

function capture() {
  const lines: Array<{ msg: string; code?: string; errors?: Record<string, number>; device?: string }> = [];
  const log = createLogger('info', new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } }));
  return { lines, log };
}

test('a flood of bad frames is counted in full but logged as its first error and one summary a second', () => {
  const { lines, log } = capture();
  const clock = new ManualClock(0);
  const tally = new ErrorTally(log, { bindings: { device: 'serial:/dev/ttyUSB0' }, clock, summaryEveryMs: 1000 });
  for (let ms = 0; ms < 5000; ms += 1) {
    tally.record(ms % 10 === 0 ? 'FRAME_BAD_CRC' : 'FRAME_GARBAGE', { byteOffset: ms });
    clock.advance(1);
  }
  assert.deepEqual(tally.counts(), { FRAME_BAD_CRC: 500, FRAME_GARBAGE: 4500 });
  const firsts = lines.filter((l) => l.msg === 'bad input from device');
  assert.deepEqual(firsts.map((l) => l.code), ['FRAME_BAD_CRC', 'FRAME_GARBAGE']);
  assert.ok(lines.every((l) => l.device === 'serial:/dev/ttyUSB0'));
  const summaries = lines.filter((l) => l.msg === 'more bad input from device');
  assert.ok(summaries.length >= 4 && summaries.length <= 5, `${summaries.length} summaries over 5 s`);
  // Every error after the first of its code is in exactly one summary, or still pending.
  const summarised = summaries.reduce((n, s) => n + Object.values(s.errors!).reduce((a, b) => a + b, 0), 0);
  assert.ok(summarised >= 5000 - 2 - 1000 && summarised <= 5000 - 2, `${summarised}`);
});

test('good input after errors is said once, with what was not yet summarised; quiet when all is well', () => {
  const { lines, log } = capture();
  const clock = new ManualClock(0);
  const tally = new ErrorTally(log, { bindings: { device: 'd' }, clock, summaryEveryMs: 60_000 });
  tally.ok();
  assert.equal(lines.length, 0, 'nothing to say while all is well');
  tally.record('LINE_BAD_CHECKSUM');
  tally.record('LINE_BAD_CHECKSUM');
  tally.record('LINE_BAD_CHECKSUM');
  tally.ok();
  tally.ok();
  assert.deepEqual(lines.map((l) => l.msg), ['bad input from device', 'more bad input from device', 'device input is good again']);
  assert.deepEqual(lines[1]!.errors, { LINE_BAD_CHECKSUM: 2 });
});

// Sample times: by rate from arrival (bursts spread back out, rows spaced by the period, a gap
// restarting the timeline), by device timestamp (anchored, re-anchored on a reset), and at
// arrival for event channels. Worked by hand from the rules in src/profiles/timing.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProfile } from '../../src/profiles/load.js';
import type { Profile } from '../../src/profiles/profile.js';
import { SampleTimer } from '../../src/profiles/timing.js';

const WALL = 1.7e12;

function profile(text: string): Profile {
  const r = parseProfile(text, 'p.yaml');
  if ('problems' in r) throw new Error(r.problems.map((p) => p.toLine()).join('\n'));
  return r.profile;
}

const LINES_25HZ = profile(`id: t/resp
version: 1.0.0
title: t
transport: serial
serial: { framing: { kind: lines } }
channels:
  - { name: resp, from: v, unit: '1', modality: respiration, rate_hz: 25 }
  - { name: button, from: b, unit: '1', modality: device }
decode: { lines: { kind: key-value, optional: [v, b] } }
examples: [{ name: one, text: 'v=1', samples: [{ channel: resp, value: 1 }] }]
`);

const DEVICE_CLOCK = profile(`id: t/dev
version: 1.0.0
title: t
transport: serial
serial: { framing: { kind: lines } }
channels:
  - { name: resp, from: v, unit: '1', modality: respiration, rate_hz: 25 }
decode:
  lines: { kind: csv, columns: [t, v] }
  time: { field: t, unit: ms }
examples: [{ name: one, text: '5,1', samples: [{ channel: resp, value: 1 }] }]
`);

const ROWS = profile(`id: t/rows
version: 1.0.0
title: t
transport: serial
serial: { framing: { kind: cobs } }
channels:
  - { name: acc, from: a, unit: '[g]', modality: motion, rate_hz: 100 }
decode:
  layout: { fields: [{ type: group, repeat: 4, fields: [{ name: a, type: i8 }] }] }
examples: [{ name: one, hex: '01020304', samples: [{ channel: acc, value: 1 }, { channel: acc, value: 2 }, { channel: acc, value: 3 }, { channel: acc, value: 4 }] }]
`);

const at = (monoMs: number) => ({ monoMs, wallMs: WALL + monoMs });
const line = (p: Profile, text: string) => p.decode(Buffer.from(text));

test('by rate: lines read in one burst are spread back one period apart, never after their arrival', () => {
  const timer = new SampleTimer(LINES_25HZ);
  const first = timer.time(line(LINES_25HZ, 'v=1'), at(1000));
  assert.deepEqual(first.map((s) => [s.monoMs, s.wallMs]), [[1000, WALL + 1000]]);
  // Three lines arrive together 120 ms later: they were taken at 1040, 1080, 1120.
  const burst = [timer.time(line(LINES_25HZ, 'v=2'), at(1120)), timer.time(line(LINES_25HZ, 'v=3'), at(1120)), timer.time(line(LINES_25HZ, 'v=4'), at(1120))];
  assert.deepEqual(burst.map((b) => b[0]!.monoMs), [1040, 1080, 1120]);
  // A device a little fast: the expected time (1160) is after the arrival (1150), so arrival wins.
  assert.equal(timer.time(line(LINES_25HZ, 'v=5'), at(1150))[0]!.monoMs, 1150);
});

test('by rate: a silence longer than the slack restarts the timeline at the arrival', () => {
  const timer = new SampleTimer(LINES_25HZ);
  timer.time(line(LINES_25HZ, 'v=1'), at(0));
  // Slack is max(100 ms, 4 periods = 160 ms): 40 + 160 = 200 is still continuous, 201 is not.
  assert.equal(timer.time(line(LINES_25HZ, 'v=2'), at(200))[0]!.monoMs, 40);
  assert.equal(timer.time(line(LINES_25HZ, 'v=3'), at(5000))[0]!.monoMs, 5000);
  timer.reset();
  assert.equal(timer.time(line(LINES_25HZ, 'v=4'), at(5010))[0]!.monoMs, 5010, 'after reset() the first sample is at its arrival');
});

test('event channels are timed at arrival', () => {
  const timer = new SampleTimer(LINES_25HZ);
  const out = timer.time(line(LINES_25HZ, 'b=1'), at(777));
  assert.deepEqual(out.map((s) => [s.channel, s.monoMs]), [['button', 777]]);
});

test('rows of one packet are spaced by the period, the last one at arrival', () => {
  const timer = new SampleTimer(ROWS);
  const out = timer.time(ROWS.decode(Uint8Array.from([1, 2, 3, 4])), at(1000));
  assert.deepEqual(out.map((s) => [s.value, s.monoMs]), [[1, 970], [2, 980], [3, 990], [4, 1000]]);
  // The next packet, on time, continues the timeline.
  const next = timer.time(ROWS.decode(Uint8Array.from([5, 6, 7, 8])), at(1043));
  assert.deepEqual(next.map((s) => s.monoMs), [1010, 1020, 1030, 1040]);
});

test('by device timestamp: anchored at the first sample, followed exactly, re-anchored after a reset', () => {
  const timer = new SampleTimer(DEVICE_CLOCK);
  const t = (text: string, arrival: number) => timer.time(line(DEVICE_CLOCK, text), at(arrival))[0]!.monoMs;
  assert.equal(t('10000,1', 500), 500);
  // Two lines in one late burst keep their device spacing.
  assert.equal(t('10040,1', 590), 540);
  assert.equal(t('10080,1', 590), 580);
  // The device restarted: its counter is back near 0, far behind the anchor; learnt again.
  assert.equal(t('20,1', 900), 900);
  assert.equal(t('60,1', 960), 940);
  // A sample that would be after its arrival lowers the offset.
  assert.equal(t('200,1', 1000), 1000);
  assert.equal(t('240,1', 1060), 1040);
});

test('rows with device times: anchored by the latest row, so none is later than its arrival', () => {
  const p = profile(`id: t/rows-dev
version: 1.0.0
title: t
transport: serial
serial: { framing: { kind: cobs } }
channels:
  - { name: acc, from: a, unit: '[g]', modality: motion, rate_hz: 100 }
decode:
  layout: { fields: [{ type: group, repeat: 3, fields: [{ name: t, type: u16 }, { name: a, type: i8 }] }] }
  time: { field: t, unit: ms }
examples: [{ name: one, hex: '0a00010b00020c0003', samples: [{ channel: acc, value: 1 }, { channel: acc, value: 2 }, { channel: acc, value: 3 }] }]
`);
  const timer = new SampleTimer(p);
  // Device times 10, 20, 30 ms arrive together at 1000: the last is at 1000, the others 10 and 20 ms before.
  const bytes = Buffer.from('0a00010b00020c0003'.replace('0b00', '1400').replace('0c00', '1e00'), 'hex');
  assert.deepEqual(timer.time(p.decode(bytes), at(1000)).map((s) => s.monoMs), [980, 990, 1000]);
});

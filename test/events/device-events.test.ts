// Events marked on a device: a profile's `events` rules, the mapper's debounce (a bouncing or
// held button is one press), and the shipped button box read through the real line framing,
// decoding and sample timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceEventMapper, type DeviceEventRule, type TimedValue } from '../../src/events/device-events.js';
import { EventKind } from '../../src/frames/codec.js';
import { DeviceReader } from '../../src/profiles/device-reader.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import type { TimedSample } from '../../src/profiles/timing.js';

const WALL0 = Date.UTC(2026, 4, 1, 19, 0, 0);

const PILL: DeviceEventRule = { channel: 'button', when: 1, kind: EventKind.MEDICATION, code: 'ATC:N02BE01', dose: 500, doseUnit: 'mg', note: 'box', debounceMs: 2000 };
const MEAL: DeviceEventRule = { channel: 'button', when: 2, kind: EventKind.MEAL, code: undefined, dose: undefined, doseUnit: undefined, note: undefined, debounceMs: 2000 };

const sample = (monoMs: number, value: TimedValue['value'], channel = 'button'): TimedValue => ({ channel, value, monoMs, wallMs: WALL0 + monoMs });

function counter(): () => string {
  let n = 0;
  return () => `id-${++n}`;
}

test('a bouncing contact is one press; the next press after a quiet debounce_s is another', () => {
  const m = new DeviceEventMapper([PILL], 'serial:/dev/ttyACM0', counter());
  // Contact bounce: three lines within 30 ms, then a re-trigger 1.5 s later while still within
  // debounce_s of the last bounce.
  const first = m.map([sample(1000, 1), sample(1004, 1), sample(1030, 1)]);
  assert.equal(first.length, 1);
  assert.deepEqual(m.map([sample(2530, 1)]), []);
  // 2.0 s after the last match: a new press.
  const second = m.map([sample(4530, 1)]);
  assert.equal(second.length, 1);
  assert.equal(second[0]!.at_ms, WALL0 + 4530);
  assert.notEqual(second[0]!.event_id, first[0]!.event_id);
});

test('a held button repeating its value is one press for as long as it repeats', () => {
  const m = new DeviceEventMapper([PILL], 'd', counter());
  const held = Array.from({ length: 40 }, (_, i) => sample(i * 500, 1)); // 20 s, a line every 0.5 s
  assert.equal(m.map(held).length, 1);
  assert.equal(m.map([sample(39 * 500 + 1999, 1)]).length, 0);
  assert.equal(m.map([sample(39 * 500 + 1999 + 2000, 1)]).length, 1);
});

test('each rule has its own value and debounce; other channels and values are ignored', () => {
  const m = new DeviceEventMapper([PILL, MEAL], 'd', counter());
  const events = m.map([
    sample(0, 1), sample(10, 2), sample(20, 1), sample(30, 2), sample(40, 3), sample(50, 1, 'battery'), sample(60, true), sample(70, [1, 2]),
  ]);
  assert.deepEqual(events.map((e) => [e.kind, e.at_ms]), [[EventKind.MEDICATION, WALL0], [EventKind.MEAL, WALL0 + 10]]);
});

test('an event carries the rule\'s fields, the sample\'s wall time in whole ms and the device as its source', () => {
  const m = new DeviceEventMapper([PILL, MEAL], 'serial:/dev/ttyACM0', counter());
  const [pill, meal] = m.map([{ channel: 'button', value: 1, monoMs: 5, wallMs: WALL0 + 0.6 }, sample(10, 2)]);
  assert.deepEqual(pill, { event_id: 'id-1', kind: EventKind.MEDICATION, at_ms: WALL0 + 1, source: 'device:serial:/dev/ttyACM0', code: 'ATC:N02BE01', dose: 500, dose_unit: 'mg', note: 'box' });
  assert.deepEqual(meal, { event_id: 'id-2', kind: EventKind.MEAL, at_ms: WALL0 + 10, source: 'device:serial:/dev/ttyACM0' });
});

test('reset forgets a press in progress; debounce 0 makes every matching sample an event', () => {
  const m = new DeviceEventMapper([PILL], 'd', counter());
  assert.equal(m.map([sample(0, 1)]).length, 1);
  m.reset();
  assert.equal(m.map([sample(10, 1)]).length, 1, 'after a reset (the device came back) a match is a new press');
  const eager = new DeviceEventMapper([{ ...PILL, debounceMs: 0 }], 'd', counter());
  assert.equal(eager.map([sample(0, 1), sample(1, 1), sample(1, 1)]).length, 3);
});

test('a sample out of order, older than the last match, belongs to that press', () => {
  const m = new DeviceEventMapper([PILL], 'd', counter());
  assert.equal(m.map([sample(5000, 1), sample(100, 1)]).length, 1);
  assert.equal(m.map([sample(6000, 1)]).length, 0, 'the press still counts from its latest sample');
});

test('no rules or no match: nothing allocated, the same empty list each time', () => {
  const idle = new DeviceEventMapper([], 'd');
  assert.equal(idle.active, false);
  const m = new DeviceEventMapper([PILL], 'd');
  assert.equal(m.active, true);
  const a = m.map([sample(0, 7)]);
  const b = m.map([sample(1, 'x' as unknown as number, 'other')]);
  assert.equal(a.length, 0);
  assert.equal(a, b);
});

test('the shipped button box: bytes through the real framing, decoding and timing become one event per press', async () => {
  const { profiles, problems } = await loadProfiles([SHIPPED_PROFILES_DIR]);
  assert.deepEqual(problems.map((p) => p.toLine()), []);
  const box = profiles.get('generic/button-box');
  assert.ok(box, 'generic/button-box ships');
  assert.deepEqual(box.events.map((r) => [r.channel, r.when, r.kind, r.code, r.dose, r.doseUnit, r.debounceMs]), [
    ['button', 1, EventKind.MEDICATION, 'ATC:N02BE01', 500, 'mg', 2000],
    ['button', 2, EventKind.MEAL, undefined, undefined, undefined, 2000],
  ]);
  const mapper = new DeviceEventMapper(box.events, 'serial:/dev/ttyACM0', counter());
  const events: ReturnType<DeviceEventMapper['map']>[number][] = [];
  // The mapper takes the reader's TimedSample as it is.
  const reader = new DeviceReader({ profile: box, onSamples: (samples: TimedSample[]) => events.push(...mapper.map(samples)) });
  const chunk = (text: string, monoMs: number) => reader.push({ bytes: Buffer.from(text), monoMs, wallMs: WALL0 + monoMs });
  chunk('HELLO button-box 1.0\r\n', 0);
  chunk('BTN 1\r\nBTN 1\r\n', 10_000); // bounce: two lines in one USB read
  chunk('BTN 1\r\n', 10_012);
  chunk('BTN 2\r\n', 15_000);
  chunk('BT', 60_000); // a press split across two reads
  chunk('N 1\r\n', 60_003);
  assert.deepEqual(events.map((e) => [e.kind, e.at_ms, e.code ?? null]), [
    [EventKind.MEDICATION, WALL0 + 10_000, 'ATC:N02BE01'],
    [EventKind.MEAL, WALL0 + 15_000, null],
    [EventKind.MEDICATION, WALL0 + 60_003, 'ATC:N02BE01'],
  ]);
  assert.equal(events[0]!.source, 'device:serial:/dev/ttyACM0');
  assert.equal(events[0]!.note, 'marked on the button box');
});

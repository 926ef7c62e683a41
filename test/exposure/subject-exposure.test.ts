// One subject's exposure streams reporting together: a report waits for every stream that is
// still sending, takes each stream's values as they stood at the report's time, and goes out
// without a stream that has stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exposure } from '../../src/frames/codec.js';
import { BreathCounter } from '../../src/exposure/breath-counter.js';
import { SubjectExposure, type SubjectExposureOptions } from '../../src/exposure/subject-exposure.js';
import type { TimedSample } from '../../src/profiles/timing.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 5, 1, 10);
const o: SubjectExposureOptions = {
  timeZone: 'UTC',
  periodMs: 5 * MIN,
  light: { thresholdLx: 250, nightThresholdLx: 10, nightStartMin: 1320, nightEndMin: 360, epochMs: 1000, maxGapMs: 5000, halfLivesMs: [] },
  breaths: { rateHz: 10, maxGapMs: 5000 },
  activity: { rateHz: 30, maxGapMs: 1000 / 6 },
};

const lux = (t: number, v = 300): TimedSample => ({ channel: 'illuminance', value: v, unit: 'lx', monoMs: t, wallMs: t });
const resp = (t: number): TimedSample => ({ channel: 'resp', value: Math.sin((2 * Math.PI * (t - T0)) / 4000), unit: '1', monoMs: t, wallMs: t });
const acc = (t: number, g: number): TimedSample[] => ['acc_x', 'acc_y', 'acc_z'].map((channel, i) => ({ channel, value: i === 2 ? 1 : g, unit: '[g]', monoMs: t, wallMs: t }));

function range(from: number, to: number, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t += stepMs) out.push(t);
  return out;
}

const value = (r: Exposure, code: string) => r.accumulators!.find((a) => a.code === code);

test('a report waits for the slower stream, then holds each stream\'s values at its time', () => {
  const x = new SubjectExposure(o);
  // Light runs 4 s ahead of breathing (15 a minute), within breathing's 5 s gap limit.
  x.add(range(T0, T0 + 5 * MIN - 1000, 100).map(resp));
  x.add(range(T0, T0 + 5 * MIN + 3000, 1000).map((t) => lux(t)));
  assert.equal(x.takeReports(), undefined, 'breathing has not passed 10:05 and has not stopped');
  x.add(range(T0 + 5 * MIN - 1000, T0 + 5 * MIN + 2000, 100).map(resp));
  const r = x.takeReports()!.reports;
  assert.deepEqual(r.map((e) => e.period_end_ms), [T0 + 5 * MIN]);
  // Breaths: those a counter alone finds in the samples before 10:05.
  const alone = new BreathCounter({ rateHz: 10 });
  const expected = range(T0, T0 + 5 * MIN, 100).filter((t) => alone.push(t, resp(t).value as number)).length;
  assert.ok(expected > 60 && expected <= 75, `about 15 a minute for 5 minutes: ${expected}`);
  assert.equal(value(r[0]!, 'resp.breaths')!.value, expected);
  assert.equal(value(r[0]!, 'resp.breaths')!.covered_s, 300);
  // Light had gone on past 10:05, but the report has its value at 10:05.
  assert.equal(value(r[0]!, 'light.dose')!.value, (300 * 300) / 3600);
  assert.equal(value(r[0]!, 'light.dose')!.covered_s, 300);
  assert.equal(value(r[0]!, 'activity.counts')!.covered_s, 0, 'no accelerometer yet: nothing covered, not zero movement');
});

test('on a live hub time moves by the wall clock only: a stream running ahead does not stop another', () => {
  const x = new SubjectExposure(o, undefined, false);
  x.add(range(T0, T0 + 6 * MIN, 1000).map((t) => lux(t)));
  x.add(range(T0, T0 + 5 * MIN, 100).map(resp));
  assert.equal(x.takeReports(), undefined, 'samples alone move nothing, however far ahead light is');
  x.advance(T0 + 5 * MIN + 1000);
  assert.equal(x.takeReports(), undefined, 'breathing was heard 1.1 s ago: not stopped, and not past 10:05 yet');
  x.add(range(T0 + 5 * MIN, T0 + 5 * MIN + 1000, 100).map(resp));
  x.advance(T0 + 5 * MIN + 1500);
  assert.deepEqual(x.takeReports()!.reports.map((e) => e.period_end_ms), [T0 + 5 * MIN]);
  // Breathing then stops: a minute later by the wall clock, the 10:10 report does not wait for it.
  x.add(range(T0 + 6 * MIN, T0 + 11 * MIN, 1000).map((t) => lux(t)));
  x.advance(T0 + 10 * MIN + 1000);
  const r = x.takeReports()!.reports;
  assert.deepEqual(r.map((e) => e.period_end_ms), [T0 + 10 * MIN]);
  assert.equal(value(r[0]!, 'resp.breaths')!.covered_s, 301, 'five minutes and a second of breathing');
});

test('a stream that stops does not hold the reports back, and its day stands as it was', () => {
  const x = new SubjectExposure(o);
  x.add(range(T0, T0 + 2 * MIN, 100).map(resp));
  x.add(range(T0, T0 + 16 * MIN, 1000).map((t) => lux(t, 100)));
  const r = x.takeReports()!.reports;
  assert.deepEqual(r.map((e) => e.period_end_ms), [T0 + 5 * MIN, T0 + 10 * MIN, T0 + 15 * MIN]);
  for (const e of r) assert.equal(value(e, 'resp.breaths')!.covered_s, 120, 'two minutes of breathing, then the belt stopped');
  assert.deepEqual(r.map((e) => value(e, 'light.dose')!.covered_s), [300, 600, 900]);
});

test('the accelerometer at rest counts nothing over the minutes it covered; movement counts', () => {
  const x = new SubjectExposure(o);
  const still = range(T0, T0 + 5 * MIN, 1000 / 30);
  x.add(still.flatMap((t) => acc(t, 0)));
  const moving = range(T0 + 5 * MIN, T0 + 10 * MIN + 1000, 1000 / 30);
  x.add(moving.flatMap((t) => acc(t, 0.3 * Math.sin((2 * Math.PI * 2 * (t - T0)) / 1000))));
  const r = x.takeReports()!.reports;
  assert.deepEqual(r.map((e) => e.period_end_ms), [T0 + 5 * MIN, T0 + 10 * MIN]);
  assert.equal(value(r[0]!, 'activity.counts')!.value, 0);
  assert.equal(value(r[0]!, 'activity.counts')!.covered_s, 300);
  assert.ok(value(r[1]!, 'activity.counts')!.value > 1000, `two hertz at 0.3 g is walking: ${value(r[1]!, 'activity.counts')!.value}`);
  assert.equal(value(r[1]!, 'activity.counts')!.covered_s, 600);
});

test('a sample for a day already closed is refused, not added to the next day', () => {
  const x = new SubjectExposure({ ...o, breaths: undefined, activity: undefined });
  const midnight = Date.UTC(2026, 5, 2);
  x.add(range(midnight - 2 * MIN, midnight + MIN, 1000).map((t) => lux(t)));
  const closed = x.takeReports()!.reports.find((e) => e.final)!;
  assert.equal(closed.local_date, '2026-06-01');
  assert.equal(value(closed, 'light.dose')!.covered_s, 120);
  // A second device's late sample from 23:59 (the stream takes samples in time order only).
  x.add([lux(midnight - 30_000, 5000)]);
  assert.equal(x.late, 1);
  x.add(range(midnight + MIN, midnight + 6 * MIN, 1000).map((t) => lux(t)));
  const next = x.takeReports()!.reports.find((e) => e.period_end_ms === midnight + 5 * MIN)!;
  assert.equal(value(next, 'light.dose')!.value, (300 * 300) / 3600, 'the next day has only its own light');
});

test('a state saved with other settings is not taken up', () => {
  const x = new SubjectExposure(o);
  x.add(range(T0, T0 + 6 * MIN, 1000).map((t) => lux(t)));
  x.add(range(T0, T0 + 6 * MIN, 100).map(resp));
  x.add(range(T0, T0 + 6 * MIN, 1000 / 30).flatMap((t) => acc(t, 0)));
  const saved = x.takeReports()!.state;
  assert.equal(SubjectExposure.resumes(o, saved), true);
  const other = { ...o, light: { ...o.light!, thresholdLx: 500 } };
  assert.equal(SubjectExposure.resumes(other, saved), false);
  const y = new SubjectExposure(other, saved);
  y.add([lux(T0 + 1000)]);
  assert.equal(y.late, 0, 'a fresh start: the old sample times do not apply');
});

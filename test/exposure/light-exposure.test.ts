// Light exposure per local day, worked by hand, with the daylight-saving days of Europe/Paris.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Exposure } from '../../src/frames/codec.js';
import { localClockMinutes, localDate, localDayBounds } from '../../src/exposure/local-days.js';
import { SubjectExposure, type SubjectExposureOptions } from '../../src/exposure/subject-exposure.js';
import { tempDir } from '../helpers/tmp.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const options = (timeZone = 'UTC', periodMs = HOUR): SubjectExposureOptions => ({
  timeZone, periodMs,
  light: { thresholdLx: 250, nightThresholdLx: 10, nightStartMin: 22 * 60, nightEndMin: 6 * 60, epochMs: MIN, maxGapMs: 5 * MIN, halfLivesMs: [24 * HOUR] },
});

const sample = (t: number, lx: number) => ({ channel: 'illuminance', value: lx, unit: 'lx', monoMs: t, wallMs: t });

/** Every report the rows give, the last day closed at the end of the input. */
function reportsOf(rows: ReadonlyArray<readonly [number, number]>, o = options()): Exposure[] {
  const x = new SubjectExposure(o);
  x.add(rows.map(([t, v]) => sample(t, v)));
  return [...(x.takeReports()?.reports ?? []), ...x.finish()];
}

interface Day { covered_min: number; [code: string]: number }

/** Final values per local day, in the units the codes name. */
function daysOf(rows: ReadonlyArray<readonly [number, number]>, o = options()): Map<string, Day> {
  const out = new Map<string, Day>();
  for (const r of reportsOf(rows, o).filter((r) => r.final)) {
    const day: Day = { covered_min: r.accumulators![0]!.covered_s! / 60 };
    for (const a of r.accumulators!) day[a.code] = a.value;
    out.set(r.local_date, day);
  }
  return out;
}

/** One sample a minute over [fromMs, toMs) at `lux`. */
function minutes(fromMs: number, toMs: number, lux: number | ((t: number) => number)): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = fromMs; t < toMs; t += MIN) out.push([t, typeof lux === 'number' ? lux : lux(t)]);
  return out;
}

test('a day worked by hand: dose, time above 250 lx, first/last/mean timing, light at night', () => {
  const day = Date.UTC(2026, 5, 1);
  // Dark all day (0 lx) except 300 lx from 08:00 to 08:59 and 20 lx from 23:00 to 23:09.
  const rows = minutes(day, day + 24 * 60 * MIN, (t) => {
    const m = (t - day) / MIN;
    return m >= 480 && m < 540 ? 300 : m >= 1380 && m < 1390 ? 20 : 0;
  });
  const l = daysOf(rows).get('2026-06-01')!;
  // Dose: 300 lx x 1 h + 20 lx x 10/60 h = 300 + 3.3333 lx.h.
  assert.ok(Math.abs(l['light.dose']! - (300 + 20 / 6)) < 1e-9, String(l['light.dose']));
  assert.equal(l['light.tat250'], 60);
  assert.equal(l['light.flit250'], 480, '08:00');
  assert.equal(l['light.llit250'], 539, '08:59');
  assert.equal(l['light.mlit250'], 509.5, 'the mean of 480..539');
  assert.equal(l['light.lan10'], 10, '23:00-23:09 above 10 lx, inside 22:00-06:00');
  assert.equal(l.covered_min, 1440);
});

test('exactly 250 lx counts as at or above; durations are epochs counted, not first-to-last', () => {
  const day = Date.UTC(2026, 5, 2);
  const rows: Array<[number, number]> = [[day + 600 * MIN, 250], [day + 601 * MIN, 249.9], [day + 900 * MIN, 260]];
  // The 260 lx sample follows a 299-minute gap: it stands for one epoch, the 249.9 before the
  // gap for one epoch too (the gap is not bridged).
  const l = daysOf(rows).get('2026-06-02')!;
  assert.equal(l['light.tat250'], 2);
  assert.equal(l.covered_min, 3);
  assert.equal(l['light.flit250'], 600);
  assert.equal(l['light.llit250'], 900);
});

test('a gap longer than the limit is not bridged: a day with the sensor off three hours is not dark', () => {
  const day = Date.UTC(2026, 5, 3);
  const rows = [...minutes(day, day + 10 * 60 * MIN, 100), ...minutes(day + 13 * 60 * MIN, day + 24 * 60 * MIN, 100)];
  const l = daysOf(rows).get('2026-06-03')!;
  assert.equal(l.covered_min, 21 * 60);
  assert.ok(Math.abs(l['light.dose']! - 2100) < 1e-9);
});

test('Europe/Paris: the spring day has 23 hours and the autumn day 25, and clock times read as local', () => {
  const tz = 'Europe/Paris';
  // 2026: summer time begins on Sunday 29 March at 02:00 (to 03:00) and ends on Sunday 25 October at 03:00 (to 02:00), the last Sundays of March and October (EU rule).
  const spring = localDayBounds('2026-03-29', tz);
  const autumn = localDayBounds('2026-10-25', tz);
  assert.equal((spring.endMs - spring.startMs) / 3_600_000, 23);
  assert.equal((autumn.endMs - autumn.startMs) / 3_600_000, 25);
  assert.equal(spring.startMs, Date.UTC(2026, 2, 28, 23), 'midnight CET is 23:00 UTC');
  assert.equal(autumn.startMs, Date.UTC(2026, 9, 24, 22), 'midnight CEST is 22:00 UTC');
  for (const [bounds, hours] of [[spring, 23], [autumn, 25]] as const) {
    const rows = minutes(bounds.startMs, bounds.endMs, 100);
    const days = daysOf(rows, options(tz));
    const l = days.get(localDate(bounds.startMs, tz))!;
    assert.equal(l.covered_min, hours * 60);
    assert.ok(Math.abs(l['light.dose']! - 100 * hours) < 1e-9);
    assert.equal(days.size, 1, 'no sample spills into the next day');
  }
  // 03:30 on the spring day is 01:30 UTC; the local clock reads 210 minutes.
  assert.equal(localClockMinutes(Date.UTC(2026, 2, 29, 1, 30), tz), 210);
  assert.equal(localDate(Date.UTC(2026, 2, 28, 23, 30), tz), '2026-03-29');
});

test('a decayed dose halves in one half-life, and is carried across days', () => {
  // 100 lx for one hour from 00:00 (one sample a minute, each 100/60 lx.h) is 100 lx.h on day 1.
  // Each minute's share is decayed from its own start, so at midnight it stands at the sum
  // of (100/60) x 2^-((24 h - i min) / 24 h), i = 0..59: a geometric series, worked here.
  const day = Date.UTC(2026, 5, 1);
  const rows = minutes(day, day + HOUR, 100);
  const days = daysOf([...rows, [day + 30 * HOUR, 0]]);
  const r = 2 ** (1 / 1440);
  const atMidnight = (100 / 60) * 2 ** -1 * (r ** 60 - 1) / (r - 1);
  assert.ok(Math.abs(days.get('2026-06-01')!['light.dose.hl24h']! - atMidnight) < 1e-9);
  // Day 2 adds nothing (one dark sample): the dose is the first day's, halved again.
  assert.ok(Math.abs(days.get('2026-06-02')!['light.dose.hl24h']! - atMidnight / 2) < 1e-9);
  assert.ok(atMidnight > 50 && atMidnight < 51.5, 'a little over half of the 100 lx.h: the later minutes have decayed less');
});

test('an epoch that runs over midnight is split between the two days', () => {
  const midnight = Date.UTC(2026, 5, 2);
  const days = daysOf([[midnight - 30_000, 600], [midnight + 30_000, 0]]);
  assert.equal(days.get('2026-06-01')!.covered_min, 0.5);
  assert.equal(days.get('2026-06-01')!['light.dose'], (600 * 30) / 3600);
  assert.equal(days.get('2026-06-01')!['light.tat250'], 0.5);
  assert.equal(days.get('2026-06-02')!['light.tat250'], 0.5, 'the 600 lx sample\'s second half is after midnight...');
  assert.equal(days.get('2026-06-02')!['light.dose'], (600 * 30) / 3600, '...and its dose is counted there');
  assert.equal(days.get('2026-06-02')!.covered_min, 1.5, 'with the dark sample, which stands for one period at the end');
});

test('hourly reports are cumulative for the day, each from the samples before its boundary', () => {
  const day = Date.UTC(2026, 5, 1);
  const rows = minutes(day + 6 * HOUR, day + 9 * HOUR, 300);
  const reports = reportsOf([...rows, [day + 9 * HOUR, 0]]);
  const at = (h: number) => reports.find((r) => r.period_end_ms === day + h * HOUR)!;
  const dose = (r: Exposure) => r.accumulators!.find((a) => a.code === 'light.dose')!.value;
  assert.equal(at(7).final, false);
  assert.equal(at(7).period_start_ms, day, 'the day so far');
  assert.equal(dose(at(7)), 300);
  assert.equal(dose(at(8)), 600);
  assert.equal(dose(at(9)), 900);
  assert.equal(dose(at(24)), 900);
  assert.equal(at(24).final, true);
  // One an hour while samples come; after the last, the reports due at once (10:00 to 23:00)
  // would all say the same: only the day's final one goes out.
  assert.deepEqual(reports.map((r) => r.period_end_ms), [7, 8, 9, 24].map((h) => day + h * HOUR), 'one report an hour from the first sample, none twice');
});

test('saved with any report and taken up again, a replay from the start gives the same reports, to the last digit', () => {
  const day = Date.UTC(2026, 9, 24, 20);
  // Four hours of light at a changing level across the night the clocks go back (Europe/Paris).
  const rows: Array<[number, number]> = [];
  for (let t = day; t < day + 10 * HOUR; t += 7_000) rows.push([t, 100 + 400 * Math.sin(t / 1e6) ** 2]);
  const o = options('Europe/Paris', 5 * MIN);
  const whole = reportsOf(rows, o);
  for (const cut of [1, 17, 64, 65, 90]) {
    const first = new SubjectExposure(o);
    const got: Exposure[] = [];
    let saved: unknown;
    let after = -1;
    for (const [t, v] of rows) {
      first.add([sample(t, v)]);
      const r = first.takeReports();
      // Reports made after the last save are lost with the crash, as frames not yet stored are.
      if (r && after < 0) {
        got.push(...r.reports);
        saved = JSON.parse(JSON.stringify(r.state));
        if (got.length >= cut) after = 0;
      }
      if (after >= 0 && ++after > 300) break;
    }
    // A crash: everything after the last save is lost, and the input plays again from its start.
    const again = new SubjectExposure(o, saved as never);
    again.add(rows.map(([t, v]) => sample(t, v)));
    got.push(...(again.takeReports()?.reports ?? []), ...again.finish());
    assert.deepEqual(got, whole, `cut after ${cut} reports`);
    assert.ok(again.late > 0, 'the replayed samples were recognised and skipped');
  }
  assert.ok(whole.some((r) => r.final && r.local_date === '2026-10-25'), 'the 25-hour day closed');
});

test('twinedge exposure prints each local day with its covered time', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const day = Date.UTC(2026, 5, 1);
  const rows = minutes(day, day + 2 * 1440 * MIN, (x) => ((x - day) / MIN % 1440 >= 480 && (x - day) / MIN % 1440 < 540 ? 300 : 0));
  await writeFile(join(dir, 'light.csv'), `time,lux\n${rows.map(([x, v]) => `${x / 1000},${v}`).join('\n')}\n`);
  const cli = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [cli, 'exposure', '--input', join(dir, 'light.csv'), '--channel', 'illuminance', '--tz', 'UTC', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const days = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(days.map((d) => [d.date, d.day_hours, d.covered_min]), [['2026-06-01', 24, 1440], ['2026-06-02', 24, 1440]]);
  const v = Object.fromEntries(days[0].values.map((x: { code: string; value: number }) => [x.code, x.value]));
  assert.equal(v['light.dose'], 300);
  assert.equal(v['light.tat250'], 60);
  assert.equal(v['light.mlit250'], 509.5);
  // The second day's decayed dose is its own day's, as on the first day, plus the first day's
  // carried a further 24 h (halved).
  const second = Object.fromEntries(days[1].values.map((x: { code: string; value: number }) => [x.code, x.value]));
  assert.ok(Math.abs(second['light.dose.hl24h'] - 1.5 * v['light.dose.hl24h']) < 1e-9);
  const bad = spawnSync(process.execPath, [cli, 'exposure', '--input', join(dir, 'light.csv'), '--channel', 'illuminance', '--tz', 'Mars/Olympus'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /'Mars\/Olympus' is not an IANA time zone/);
});

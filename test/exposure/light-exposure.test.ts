// Light exposure per local day, worked by hand, with the daylight-saving days of Europe/Paris.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decayedDose, epochs, lightDay } from '../../src/exposure/light-exposure.js';
import { localClockMinutes, localDate, localDayBounds } from '../../src/exposure/local-days.js';
import { tempDir } from '../helpers/tmp.js';

const MIN = 60_000;
const opts = (timeZone = 'UTC') => ({ timeZone, thresholdLx: 250, nightThresholdLx: 10, nightStartMin: 22 * 60, nightEndMin: 6 * 60, epochMs: MIN, maxGapMs: 5 * MIN });

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
  const l = lightDay(rows.map((r) => r[0]), rows.map((r) => r[1]), day + 24 * 60 * MIN, opts());
  // Dose: 300 lx x 1 h + 20 lx x 10/60 h = 300 + 3.3333 lx.h.
  assert.ok(Math.abs(l.doseLxh - (300 + 20 / 6)) < 1e-9, String(l.doseLxh));
  assert.equal(l.tatMin, 60);
  assert.equal(l.flitMin, 480, '08:00');
  assert.equal(l.llitMin, 539, '08:59');
  assert.equal(l.mlitMin, 509.5, 'the mean of 480..539');
  assert.equal(l.lanMin, 10, '23:00-23:09 above 10 lx, inside 22:00-06:00');
  assert.equal(l.coveredMin, 1440);
});

test('exactly 250 lx counts as at or above; durations are epochs counted, not first-to-last', () => {
  const day = Date.UTC(2026, 5, 2);
  const rows: Array<[number, number]> = [[day + 600 * MIN, 250], [day + 601 * MIN, 249.9], [day + 900 * MIN, 260]];
  // The 260 lx sample follows a 299-minute gap: it stands for one epoch, the 249.9 before the
  // gap for one epoch too (the gap is not bridged).
  const l = lightDay(rows.map((r) => r[0]), rows.map((r) => r[1]), day + 1440 * MIN, opts());
  assert.equal(l.tatMin, 2);
  assert.equal(l.coveredMin, 3);
  assert.equal(l.flitMin, 600);
  assert.equal(l.llitMin, 900);
});

test('a gap longer than the limit is not bridged: a day with the sensor off three hours is not dark', () => {
  const day = Date.UTC(2026, 5, 3);
  const rows = [...minutes(day, day + 10 * 60 * MIN, 100), ...minutes(day + 13 * 60 * MIN, day + 24 * 60 * MIN, 100)];
  const l = lightDay(rows.map((r) => r[0]), rows.map((r) => r[1]), day + 1440 * MIN, opts());
  assert.equal(l.coveredMin, 21 * 60);
  assert.ok(Math.abs(l.doseLxh - 2100) < 1e-9);
  assert.deepEqual(Array.from(epochs([0, MIN, 20 * MIN], MIN, 5 * MIN)), [MIN, MIN, MIN]);
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
    const l = lightDay(rows.map((r) => r[0]), rows.map((r) => r[1]), bounds.endMs, opts(tz));
    assert.equal(l.coveredMin, hours * 60);
    assert.ok(Math.abs(l.doseLxh - 100 * hours) < 1e-9);
  }
  // 03:30 on the spring day is 01:30 UTC; the local clock reads 210 minutes.
  assert.equal(localClockMinutes(Date.UTC(2026, 2, 29, 1, 30), tz), 210);
  assert.equal(localDate(Date.UTC(2026, 2, 28, 23, 30), tz), '2026-03-29');
});

test('a decayed dose halves in one half-life', () => {
  // 100 lx for one hour at t = 0 is 100 lx.h; 24 h later, with a 24 h half-life, 50 lx.h.
  const d = decayedDose(0, 0, 24 * 3_600_000 + 3_600_000, [3_600_000], [100], Float64Array.from([3_600_000]), 24 * 3_600_000);
  assert.ok(Math.abs(d - 50) < 1e-9, String(d));
  assert.ok(Math.abs(decayedDose(80, 0, 48 * 3_600_000, [], [], new Float64Array(0), 24 * 3_600_000) - 20) < 1e-9);
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
  // The second day's decayed dose: its own 300 (decayed 15.5 h from 09:00 to midnight) plus
  // the first day's, carried another 24 h.
  const second = Object.fromEntries(days[1].values.map((x: { code: string; value: number }) => [x.code, x.value]));
  assert.ok(second['light.dose.hl24h'] > v['light.dose.hl24h']);
  const bad = spawnSync(process.execPath, [cli, 'exposure', '--input', join(dir, 'light.csv'), '--channel', 'illuminance', '--tz', 'Mars/Olympus'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /'Mars\/Olympus' is not an IANA time zone/);
});

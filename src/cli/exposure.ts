import { readFile } from 'node:fs/promises';
import { breathTimes } from '../features/resp-rate.js';
import { AxisCounts, vectorMagnitude } from '../exposure/activity-counts.js';
import { decayedDose, epochs, lightDay } from '../exposure/light-exposure.js';
import { localDate, localDayBounds } from '../exposure/local-days.js';
import { TwinedgeError } from '../ops/errors.js';
import { numberOption, parseCommandArgs, requireOption } from './args.js';
import { medianIntervalMs, parseRowTime } from './csv-time.js';

/**
 * twinedge exposure --input FILE.csv --channel CH --tz ZONE [--json] [--threshold LX]
 *   [--night-threshold LX] [--night HH:MM-HH:MM] [--epoch S] [--max-gap S] [--half-life H]
 *
 * The hub's exposure code over a CSV of time,value rows (Unix seconds or ISO 8601), so that a
 * researcher can check each local day's values against their own light-dosimetry tools. One JSON
 * line a local day in ZONE, with the covered time beside the values. Channels: illuminance (lx),
 * resp (a respiration signal: breaths counted), acc (rows time,x,y,z in g at 30 Hz: ActiGraph
 * counts, vector magnitude of 60 s epochs, summed per day).
 */
function clockMinutes(text: string, flag: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `exposure: ${flag} takes HH:MM-HH:MM, got '${text}'`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('exposure', argv, {
    input: { type: 'string' }, channel: { type: 'string' }, tz: { type: 'string' }, json: { type: 'boolean' },
    threshold: { type: 'string' }, 'night-threshold': { type: 'string' }, night: { type: 'string' },
    epoch: { type: 'string' }, 'max-gap': { type: 'string' }, 'half-life': { type: 'string' },
  });
  const file = requireOption('exposure', values.input, '--input');
  const channel = requireOption('exposure', values.channel, '--channel');
  const timeZone = requireOption('exposure', values.tz, '--tz');
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new TwinedgeError('USAGE_BAD_ARGUMENT', `exposure: '${timeZone}' is not an IANA time zone such as Europe/Paris`);
  }
  if (channel !== 'illuminance' && channel !== 'resp' && channel !== 'acc') throw new TwinedgeError('USAGE_BAD_ARGUMENT', `exposure: --channel is illuminance, resp or acc, not '${channel}'`);
  const columns = channel === 'acc' ? 3 : 1;
  const [nightStart, nightEnd] = (values.night ?? '22:00-06:00').split('-');
  const night = { start: clockMinutes(nightStart ?? '', '--night'), end: clockMinutes(nightEnd ?? '', '--night') };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new TwinedgeError('USAGE_BAD_ARGUMENT', `exposure: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const rows: Array<[number, number]> = [];
  const axes: number[][] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [t, ...cells] = line.split(/[,;\t]/).map((c) => c.trim());
    if (i === 0 && !Number.isFinite(Number(cells[0]))) return; // a header
    if (cells.length !== columns) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${file}:${i + 1}: expected ${columns + 1} columns (time, ${columns === 1 ? 'value' : 'x, y, z in g'}), got ${cells.length + 1}`);
    const v = cells.map((c) => Number(c));
    const bad = cells.findIndex((c, k) => c === '' || !Number.isFinite(v[k]!));
    if (bad >= 0) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${file}:${i + 1}: '${cells[bad]}' is not a number`);
    rows.push([parseRowTime(t!, i + 1, file), v[0]!]);
    axes.push(v);
  });
  // Rows and their axes sorted together by time.
  const order = rows.map((_, i) => i).sort((a, b) => rows[a]![0] - rows[b]![0]);
  const sortedAxes = order.map((i) => axes[i]!);
  const sortedRows = order.map((i) => rows[i]!);
  rows.splice(0, rows.length, ...sortedRows);
  axes.splice(0, axes.length, ...sortedAxes);
  const epochMs = values.epoch !== undefined ? numberOption('exposure', values.epoch, '--epoch', 60) * 1000 : medianIntervalMs(rows.map((r) => r[0])) ?? 60_000;
  const maxGapMs = numberOption('exposure', values['max-gap'], '--max-gap', (5 * epochMs) / 1000) * 1000;
  const halfLifeMs = numberOption('exposure', values['half-life'], '--half-life', 24) * 3_600_000;
  if (channel === 'acc' && Math.abs(1000 / epochMs - 30) > 0.5) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `exposure: activity counts need 30 Hz acceleration (the ActiGraph algorithm's rate); the rows are at ${(1000 / epochMs).toFixed(1)} Hz`);
  const byDay = new Map<string, Array<[number, number]>>();
  const axesByDay = new Map<string, number[][]>();
  rows.forEach((r, i) => {
    const d = localDate(r[0], timeZone);
    const list = byDay.get(d) ?? [];
    list.push(r);
    byDay.set(d, list);
    const a = axesByDay.get(d) ?? [];
    a.push(axes[i]!);
    axesByDay.set(d, a);
  });
  // One counter per axis for the whole file: the filter's state carries across days.
  const counters = [0, 1, 2].map(() => new AxisCounts(60));
  let carried = 0;
  let carriedAt: number | undefined;
  for (const [date, list] of [...byDay].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const { startMs, endMs } = localDayBounds(date, timeZone);
    const times = list.map((r) => r[0]);
    const v = list.map((r) => r[1]);
    const day: { date: string; day_hours: number; covered_min: number; values: Array<{ code: string; value: number | null; unit: string }> } = { date, day_hours: (endMs - startMs) / 3_600_000, covered_min: 0, values: [] };
    if (channel === 'illuminance') {
      const threshold = numberOption('exposure', values.threshold, '--threshold', 250);
      const nightThreshold = numberOption('exposure', values['night-threshold'], '--night-threshold', 10);
      const l = lightDay(times, v, endMs, { timeZone, thresholdLx: threshold, nightThresholdLx: nightThreshold, nightStartMin: night.start, nightEndMin: night.end, epochMs, maxGapMs });
      const e = epochs(times, epochMs, maxGapMs, endMs);
      carried = decayedDose(carried, carriedAt ?? startMs, endMs, times, v, e, halfLifeMs);
      carriedAt = endMs;
      day.covered_min = l.coveredMin;
      const c = String(threshold);
      day.values.push(
        { code: 'light.dose', value: l.doseLxh, unit: 'lx.h' },
        { code: `light.tat${c}`, value: l.tatMin, unit: 'min' },
        { code: `light.flit${c}`, value: l.flitMin ?? null, unit: 'min' },
        { code: `light.llit${c}`, value: l.llitMin ?? null, unit: 'min' },
        { code: `light.mlit${c}`, value: l.mlitMin ?? null, unit: 'min' },
        { code: `light.lan${String(nightThreshold)}`, value: l.lanMin, unit: 'min' },
        { code: `light.dose.hl${halfLifeMs / 3_600_000}h`, value: carried, unit: 'lx.h' },
      );
    } else if (channel === 'resp') {
      const e = epochs(times, epochMs, maxGapMs, endMs);
      day.covered_min = e.reduce((a, b) => a + b, 0) / 60000;
      day.values.push({ code: 'resp.breaths', value: breathTimes(Float64Array.from(times), Float32Array.from(v), 1000 / epochMs).length, unit: '{breaths}' });
    } else {
      const e = epochs(times, epochMs, maxGapMs, endMs);
      day.covered_min = e.reduce((a, b) => a + b, 0) / 60000;
      const a = axesByDay.get(date)!;
      const per = counters.map((c, k) => c.push(a.map((row) => row[k]!)));
      let total = 0;
      for (let i = 0; i < per[0]!.length; i++) total += vectorMagnitude(per[0]![i]!, per[1]![i]!, per[2]![i]!);
      day.values.push({ code: 'activity.counts', value: Math.round(total), unit: '{counts}' });
    }
    if (values.json) process.stdout.write(`${JSON.stringify(day)}\n`);
    else process.stdout.write(`${date} (${day.day_hours} h, ${day.covered_min.toFixed(1)} min covered) ${day.values.map((x) => `${x.code}=${x.value === null ? '-' : Number(x.value.toPrecision(6))}${x.unit}`).join(' ')}\n`);
  }
  return 0;
}

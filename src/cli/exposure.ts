import { readFile } from 'node:fs/promises';
import { clockMinutesOf } from '../exposure/exposure-settings.js';
import { localDayBounds } from '../exposure/local-days.js';
import { SubjectExposure, type SubjectExposureOptions } from '../exposure/subject-exposure.js';
import type { TimedSample } from '../profiles/timing.js';
import { TwinedgeError } from '../ops/errors.js';
import { numberOption, parseCommandArgs, requireOption } from './args.js';
import { medianIntervalMs, parseRowTime } from './csv-time.js';

/**
 * twinedge exposure --input FILE.csv --channel CH --tz ZONE [--json] [--threshold LX]
 *   [--night-threshold LX] [--night HH:MM-HH:MM] [--epoch S] [--max-gap S] [--half-life H]
 *
 * The hub's own exposure code (the same SubjectExposure the daemon runs) over a CSV of
 * time,value rows (Unix seconds or ISO 8601), so that a researcher can check each local day's
 * values against their own tools. One JSON line a local day in ZONE, with the covered time beside
 * the values; the last day is closed at the end of the input, its covered time saying how much of
 * it there was. Channels: illuminance (lx), resp (a respiration signal, 2 Hz or faster: breaths
 * counted), acc (rows time,x,y,z in g at any rate: ActiGraph counts, vector magnitude of 60 s
 * epochs, summed per day).
 */
function clockMinutes(text: string, flag: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `exposure: ${flag} takes HH:MM-HH:MM, got '${text}'`);
  return clockMinutesOf(text);
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
  if (channel === 'resp' && 1000 / epochMs < 2) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `exposure: breaths need a respiration signal at 2 Hz or faster; the rows are at ${(1000 / epochMs).toFixed(2)} Hz`);
  // A nominal rate, as a profile would state it: the median interval of times written in
  // decimal seconds (1/30 s) is a hair off the rate it stands for.
  const rateHz = Number((1000 / epochMs).toPrecision(4));
  const timing = { epochMs: Math.min(epochMs, maxGapMs), maxGapMs };
  const o: SubjectExposureOptions = {
    timeZone,
    // Reports at each local midnight; the period's own ones (UTC midnights) are passed over.
    periodMs: 86_400_000,
    ...(channel === 'illuminance' ? { light: {
      thresholdLx: numberOption('exposure', values.threshold, '--threshold', 250),
      nightThresholdLx: numberOption('exposure', values['night-threshold'], '--night-threshold', 10),
      nightStartMin: night.start, nightEndMin: night.end, halfLivesMs: [halfLifeMs], ...timing,
    } } : channel === 'resp' ? { breaths: { rateHz, maxGapMs: timing.maxGapMs } } : { activity: { rateHz, maxGapMs: timing.maxGapMs } }),
  };
  const exposure = new SubjectExposure(o);
  const samples: TimedSample[] = [];
  rows.forEach(([t], i) => {
    if (channel === 'acc') for (const [k, name] of ['acc_x', 'acc_y', 'acc_z'].entries()) samples.push({ channel: name, value: axes[i]![k]!, unit: '[g]', monoMs: t, wallMs: t });
    else samples.push({ channel, value: rows[i]![1], unit: '', monoMs: t, wallMs: t });
  });
  exposure.add(samples);
  const reports = [...(exposure.takeReports()?.reports ?? []), ...exposure.finish()].filter((r) => r.final);
  for (const r of reports) {
    const { startMs, endMs } = localDayBounds(r.local_date, timeZone);
    const covered = r.accumulators![0]!.covered_s! / 60;
    const day = { date: r.local_date, day_hours: (endMs - startMs) / 3_600_000, covered_min: covered, values: r.accumulators!.map((a) => ({ code: a.code, value: a.value, unit: a.unit })) };
    if (values.json) process.stdout.write(`${JSON.stringify(day)}\n`);
    else process.stdout.write(`${day.date} (${day.day_hours} h, ${covered.toFixed(1)} min covered) ${day.values.map((x) => `${x.code}=${Number(x.value.toPrecision(6))}${x.unit}`).join(' ')}\n`);
  }
  return 0;
}

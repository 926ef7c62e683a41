import { readFile } from 'node:fs/promises';
import { computeFeatures, FEATURES } from '../features/definitions.js';
import type { ChannelWindow } from '../features/feature.js';
import { TwinedgeError } from '../ops/errors.js';
import { numberOption, parseCommandArgs, requireOption } from './args.js';
import { medianIntervalMs, parseRowTime } from './csv-time.js';

/**
 * twinedge features --input FILE.csv --channel CH [--window S] [--rate HZ] [--min-coverage F] [--json]
 *
 * The hub's own feature code over a CSV of time,value rows, so that anyone can check our numbers
 * against their tools. Time: Unix seconds (decimals allowed), or an ISO 8601 date-time. For the
 * accelerometer (`--channel acc`), rows are time,x,y,z in g. A first row that is not numbers is a
 * header. Windows are aligned to multiples of the window length since 1970, as on the hub.
 * Output: one JSON object a window that has samples (JSON lines), with the features emitted and
 * the codes left out for too little coverage.
 */
const ACC = ['acc_x', 'acc_y', 'acc_z'];

function readRows(text: string, file: string, columns: number): { times: number[]; values: number[][] } {
  const times: number[] = [];
  const values: number[][] = Array.from({ length: columns }, () => []);
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const cells = line.split(/[,;\t]/).map((c) => c.trim());
    if (i === 0 && cells.slice(1).some((c) => !Number.isFinite(Number(c)) || c === '')) return; // a header
    if (cells.length !== columns + 1) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${file}:${i + 1}: expected ${columns + 1} columns (time, ${columns === 1 ? 'value' : 'x, y, z'}), got ${cells.length}`);
    times.push(parseRowTime(cells[0]!, i + 1, file));
    cells.slice(1).forEach((c, k) => {
      const v = Number(c);
      if (c === '' || !Number.isFinite(v)) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${file}:${i + 1}: column ${k + 2} '${c}' is not a number`);
      values[k]!.push(v);
    });
  });
  return { times, values };
}

/** The rows' median spacing as a rate: what the hub knows from the profile. */
const rateOf = (intervalMs: number | undefined) => (intervalMs ? 1000 / intervalMs : undefined);

export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('features', argv, {
    input: { type: 'string' }, channel: { type: 'string' }, window: { type: 'string' }, rate: { type: 'string' },
    'min-coverage': { type: 'string' }, json: { type: 'boolean' },
  });
  const file = requireOption('features', values.input, '--input');
  const channel = requireOption('features', values.channel, '--channel');
  const windowMs = numberOption('features', values.window, '--window', 30) * 1000;
  if (windowMs <= 0) throw new TwinedgeError('USAGE_BAD_ARGUMENT', 'features: --window must be above 0 seconds');
  const minCoverage = numberOption('features', values['min-coverage'], '--min-coverage', 0.5);
  const channels = channel === 'acc' ? ACC : [channel];
  const known = [...new Set(FEATURES.flatMap((f) => f.channels)), 'acc'];
  const wanted = FEATURES.filter((f) => f.channels.every((c) => channels.includes(c)));
  if (wanted.length === 0) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `features: no feature reads channel '${channel}'; channels: ${known.filter((c) => !ACC.includes(c)).join(', ')}`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new TwinedgeError('USAGE_BAD_ARGUMENT', `features: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const rows = readRows(text, file, channels.length);
  // RR intervals are events (one per beat): they have no nominal rate.
  const rateHz = channel === 'rr' ? undefined : values.rate !== undefined ? numberOption('features', values.rate, '--rate', 0) : rateOf(medianIntervalMs(rows.times));
  const order = rows.times.map((_, i) => i).sort((a, b) => rows.times[a]! - rows.times[b]! || a - b);
  const byWindow = new Map<number, number[]>();
  for (const i of order) {
    const start = Math.floor(rows.times[i]! / windowMs) * windowMs;
    const list = byWindow.get(start) ?? [];
    list.push(i);
    byWindow.set(start, list);
  }
  for (const [start, idx] of [...byWindow].sort((a, b) => a[0] - b[0])) {
    const input = new Map<string, ChannelWindow>();
    channels.forEach((c, k) => input.set(c, {
      times: Float64Array.from(idx, (i) => rows.times[i]!),
      values: Float32Array.from(idx, (i) => rows.values[k]![i]!),
      rateHz,
    }));
    const emitted = computeFeatures({ startMs: start, endMs: start + windowMs, channels: input }, minCoverage);
    const features = emitted.map((f) => ({ code: f.code, value: f.value, unit: f.unit, n: f.n, coverage: f.coverage, ...(f.standardCode ? { standard_code: f.standardCode } : {}) }));
    const absent = wanted.filter((f) => !emitted.some((e) => e.code === f.code)).map((f) => f.code);
    const out = { window_start: new Date(start).toISOString(), window_end: new Date(start + windowMs).toISOString(), samples: idx.length, features, absent };
    if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else process.stdout.write(`${out.window_start} ${features.map((f) => `${f.code}=${Number(f.value.toPrecision(6))}${f.unit} (n=${f.n}, coverage ${f.coverage.toFixed(2)})`).join(' ') || '-'}${absent.length ? `  absent: ${absent.join(', ')}` : ''}\n`);
  }
  return 0;
}

// npm run bench [-- --out FILE] [--only NAME]... [--repeats N]
//
// Runs every scripts/bench/<scenario>.bench.ts (its exported `run(ctx)` returns result rows),
// each figure beside its raw baseline measured in the same run, prints an aligned table on
// stdout and, with --out, writes the rows as a JSON array of {name, value, unit, baseline, ratio}.
// --only NAME (repeatable, or comma-separated) runs the scenario file NAME (`sign` runs
// sign.bench.ts: rows sign and verify) or the row NAME (`publish.full` runs publish.bench.ts and
// keeps that row). Scenarios share one local mosquitto, started here when it is installed.
import { readdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { MosquittoBroker } from '../../test/helpers/mosquitto.js';
import { installHint, toolPath } from '../../test/helpers/tool-path.js';
import { startMosquittoForBench, type BenchContext, type BenchResult, type Scenario } from './bench-kit.js';

const USAGE = 'usage: npm run bench -- [--out FILE] [--only NAME]... [--repeats N]\n';

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

let values: { out?: string; only?: string[]; repeats?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: { out: { type: 'string' }, only: { type: 'string', multiple: true }, repeats: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  }));
} catch (e) {
  usageError((e as Error).message);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const repeats = Number(values.repeats ?? 3);
if (!Number.isInteger(repeats) || repeats < 1) usageError(`--repeats must be a whole number of at least 1, got '${values.repeats}'`);
const only = (values.only ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);

const dir = fileURLToPath(new URL('.', import.meta.url));
const scenarios = (await readdir(dir)).filter((f) => f.endsWith('.bench.ts')).sort().map((f) => ({ file: f, stem: f.slice(0, -'.bench.ts'.length) }));
// A NAME picks the file whose stem it is or begins with ("publish" or "publish.full" -> publish.bench.ts).
const picks = (stem: string, name: string) => name === stem || name.startsWith(`${stem}.`);
const selected = only.length === 0 ? scenarios : scenarios.filter((s) => only.some((n) => picks(s.stem, n)));
if (selected.length === 0) usageError(`no scenario matches ${only.join(', ')}; scenarios: ${scenarios.map((s) => s.stem).join(', ')}`);

/** Whether a row of scenario `stem` was asked for. */
function wanted(stem: string, row: string): boolean {
  return only.length === 0 || only.some((n) => n === stem || row === n || row.startsWith(`${n}.`));
}

let broker: MosquittoBroker | undefined;
if (toolPath('mosquitto')) broker = await startMosquittoForBench();

const results: BenchResult[] = [];
let failed = false;
try {
  for (const { file, stem } of selected) {
    process.stderr.write(`bench: ${file}\n`);
    const ctx: BenchContext = {
      repeats,
      get brokerUrl(): string {
        if (!broker) throw new Error(`this scenario needs a broker: ${installHint('mosquitto')}`);
        return broker.url;
      },
      wants: (row) => wanted(stem, row),
    };
    try {
      const mod = (await import(new URL(file, new URL('.', import.meta.url)).href)) as Partial<Scenario>;
      if (typeof mod.run !== 'function') throw new TypeError(`${file} exports no run(ctx)`);
      results.push(...(await mod.run(ctx)).filter((r) => ctx.wants(r.name)));
    } catch (e) {
      failed = true;
      process.stderr.write(`bench: ${file} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    }
  }
} finally {
  await broker?.close();
}

printTable(results);
if (values.out) await writeFile(values.out, `${JSON.stringify(results, null, 2)}\n`);
process.exitCode = failed ? 1 : 0;

function printTable(rows: readonly BenchResult[]): void {
  const header = ['name', 'value', 'baseline', 'ratio', 'unit'];
  const cells = rows.map((r) => [r.name, String(r.value), String(r.baseline), r.ratio.toFixed(3), r.unit]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  // Names and units to the left, numbers to the right.
  const line = (c: string[]) => c.map((x, i) => (i === 0 || i === 4 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ').trimEnd();
  process.stdout.write(`${[header, ...cells].map(line).join('\n')}\n`);
}

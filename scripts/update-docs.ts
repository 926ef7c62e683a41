// Regenerates the README's error table from the code table in src/ops/errors.ts, and its metric
// table from the hub's metrics registry (src/hub/hub-metrics.ts).
// `--check` exits 1 when the README is out of date (tests run the same comparisons).
import { readFile, writeFile } from 'node:fs/promises';
import { metricsTable } from '../src/hub/hub-metrics.js';
import { errorCodeTable, replaceSection, sectionOf } from '../src/ops/error-docs.js';

const readme = new URL('../README.md', import.meta.url);
const check = process.argv.includes('--check');
const text = await readFile(readme, 'utf8');
// The config reference has its own script, scripts/config-reference.ts.
const sections: Record<string, string> = { 'error-codes': errorCodeTable(), 'hub-metrics': metricsTable() };
if (check) {
  const stale = Object.entries(sections).filter(([name, body]) => sectionOf(text, name) !== body).map(([name]) => name);
  if (stale.length) {
    console.error(`README.md is out of date (${stale.join(', ')}): run npx tsx scripts/update-docs.ts`);
    process.exit(1);
  }
} else {
  let next = text;
  for (const [name, body] of Object.entries(sections)) next = replaceSection(next, name, body);
  await writeFile(readme, next);
}

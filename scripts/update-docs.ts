// Regenerates the README sections made from code: the error table (and the config reference,
// through scripts/config-reference.ts). `--check` exits 1 when the README is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { errorCodeTable, replaceSection, sectionOf } from '../src/ops/error-docs.js';

const readme = new URL('../README.md', import.meta.url);
const check = process.argv.includes('--check');
const text = await readFile(readme, 'utf8');
if (check) {
  if (sectionOf(text, 'error-codes') !== errorCodeTable()) {
    console.error('README.md error table is out of date: run npx tsx scripts/update-docs.ts');
    process.exit(1);
  }
} else {
  await writeFile(readme, replaceSection(text, 'error-codes', errorCodeTable()));
}

// The README's config reference, generated from the schema (src/config/reference.ts).
//
//   npx tsx scripts/config-reference.ts                 prints it
//   npx tsx scripts/config-reference.ts --check FILE    exits 1 when FILE's section has drifted
//   npx tsx scripts/config-reference.ts --write FILE    rewrites FILE's section
//
// The section is the text between the lines `<!-- config-reference:start -->` and
// `<!-- config-reference:end -->`. A FILE without them, or bad arguments, exit 2.
import { readFile, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { configReference } from '../src/config/reference.js';
import { replaceSection, sectionOf } from '../src/ops/error-docs.js';

export { configReference };

const SECTION = 'config-reference';
const USAGE = 'usage: config-reference.ts [--check FILE | --write FILE]\n';

interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** The command, callable from a test; resolves to the exit code. */
export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  let values: { check?: string | undefined; write?: string | undefined };
  try {
    ({ values } = parseArgs({ args: argv, options: { check: { type: 'string' }, write: { type: 'string' } }, strict: true }));
  } catch (e) {
    io.err.write(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const reference = configReference();
  if (values.check !== undefined && values.write !== undefined) {
    io.err.write(USAGE);
    return 2;
  }
  const file = values.check ?? values.write;
  if (file === undefined) {
    io.out.write(`${reference}\n`);
    return 0;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    io.err.write(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    return 2;
  }
  const current = sectionOf(text, SECTION);
  if (current === undefined) {
    io.err.write(`${file} has no <!-- ${SECTION}:start --> and <!-- ${SECTION}:end --> lines\n`);
    return 2;
  }
  if (values.check !== undefined) {
    if (current === reference) return 0;
    io.err.write(`${file}: the config reference is out of date; run npx tsx scripts/config-reference.ts --write ${file}\n`);
    return 1;
  }
  const next = replaceSection(text, SECTION, reference);
  if (next !== text) await writeFile(file, next);
  return 0;
}

function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}
if (invokedDirectly()) process.exitCode = await main(process.argv.slice(2));

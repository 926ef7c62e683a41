import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../scripts/config-reference.js';
import { configReference } from '../../src/config/reference.js';
import { ConfigSchema, ENV_OVERRIDES } from '../../src/config/schema.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = join(ROOT, 'README.md');

interface Node { type?: string; description?: string; default?: unknown; properties?: Record<string, Node>; items?: Node; 'x-default'?: string }

/** [key path, schema node] for every key, lists of mappings written `subjects[].ref`. */
function keys(n: Node, prefix: string, out: Array<[string, Node]>): Array<[string, Node]> {
  for (const [k, child] of Object.entries(n.properties ?? {})) {
    const path = prefix ? `${prefix}.${k}` : k;
    out.push([path, child]);
    keys(child, path, out);
    if (child.items) keys(child.items, `${path}[]`, out);
  }
  return out;
}
const ALL = keys(ConfigSchema as unknown as Node, '', []);
const SECTIONS = Object.keys((ConfigSchema as unknown as Node).properties ?? {});

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, text: () => text };
}

test('every key of the schema has a description', () => {
  const bare = ALL.filter(([, n]) => !n.description || n.description.length < 10).map(([p]) => p);
  assert.deepEqual(bare, []);
});

test('the reference has a table a section, a row a key, with its type and default', () => {
  const ref = configReference();
  const headings = ref.split('\n').filter((l) => l.startsWith('### ')).map((l) => l.slice(4));
  assert.deepEqual(headings, [...SECTIONS.map((s) => `\`${s}\``), 'Environment']);
  const rows = new Map(ref.split('\n').filter((l) => l.startsWith('| `')).map((l) => [/^\| `([^`]+)`/.exec(l)![1]!, l]));
  for (const [path, node] of ALL) {
    // A section is a heading, except a list, which is its own first row.
    if (SECTIONS.includes(path) && node.type !== 'array') continue;
    const row = rows.get(path);
    assert.ok(row, `a row for ${path}`);
    const cells = row.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    assert.equal(cells.length, 4, row);
    if (node.type === 'string' && typeof node.default === 'string') assert.equal(cells[2], `\`${node.default}\``, path);
    if ((node.type === 'integer' || node.type === 'number') && !node['x-default']) assert.equal(cells[2], `\`${String(node.default)}\``, path);
    if (node['x-default']) assert.equal(cells[2], node['x-default'], path);
  }
  assert.match(rows.get('hub.id')!, /\| required \|/);
  assert.match(rows.get('log.level')!, /`fatal` \\\| `error`/);
  assert.match(rows.get('publish.inflight')!, /\| integer, 1 to 65535 \|/);
});

test('each environment variable is in the reference and in the description of its key', () => {
  const ref = configReference();
  const byPath = new Map(ALL);
  for (const { name, path } of ENV_OVERRIDES) {
    assert.ok(ref.includes(`| \`${name}\` | \`${path.join('.')}\` |`), name);
    assert.ok(byPath.get(path.join('.'))?.description?.includes(name), `${path.join('.')} mentions ${name}`);
  }
});

const doc = (body: string) => `# Title\n\nBefore.\n\n<!-- config-reference:start -->\n${body}\n<!-- config-reference:end -->\n\nAfter.\n`;

test('--check exits 1 on drift and 0 when in step; --write brings a file in step and touches nothing else', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'README.md');
  await writeFile(file, doc('| stale | table |'));
  const err = sink();
  assert.equal(await main(['--check', file], { out: sink().stream, err: err.stream }), 1);
  assert.match(err.text(), /--write/);
  assert.equal(await main(['--write', file], { out: sink().stream, err: sink().stream }), 0);
  assert.equal(await readFile(file, 'utf8'), doc(configReference()));
  assert.equal(await main(['--check', file], { out: sink().stream, err: sink().stream }), 0);
});

test('without markers, a missing file or bad arguments it exits 2; with none it prints the reference', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'plain.md');
  await writeFile(file, '# no markers here\n');
  const quiet = () => ({ out: sink().stream, err: sink().stream });
  assert.equal(await main(['--check', file], quiet()), 2);
  assert.equal(await main(['--write', file], quiet()), 2);
  assert.equal(await readFile(file, 'utf8'), '# no markers here\n');
  assert.equal(await main(['--check', join(dir, 'missing.md')], quiet()), 2);
  assert.equal(await main(['--frobnicate'], quiet()), 2);
  assert.equal(await main(['--check', file, '--write', file], quiet()), 2);
  const out = sink();
  assert.equal(await main([], { out: out.stream, err: sink().stream }), 0);
  assert.equal(out.text(), `${configReference()}\n`);
});

test('the script runs on its own and reports drift by its exit code', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'README.md');
  await writeFile(file, doc('stale'));
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/config-reference.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(run('--check', file).status, 1);
  assert.equal(run('--write', file).status, 0);
  assert.equal(run('--check', file).status, 0);
});

test('the README config reference is in step with the schema', async () => {
  const quiet = { out: sink().stream, err: sink().stream };
  assert.equal(await main(['--check', README], quiet), 0, 'run npx tsx scripts/config-reference.ts --write README.md');
});

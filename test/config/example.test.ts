import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { configHash, loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';

const EXAMPLE = fileURLToPath(new URL('../../src/config/config.example.yaml', import.meta.url));

interface Node { type?: string; properties?: Record<string, Node>; items?: Node }

/** Every key path the schema knows, lists of mappings written `subjects[].ref`. */
function schemaKeys(n: Node, prefix: string, out: Set<string>): Set<string> {
  for (const [k, child] of Object.entries(n.properties ?? {})) {
    const path = prefix ? `${prefix}.${k}` : k;
    out.add(path);
    schemaKeys(child, path, out);
    if (child.items) schemaKeys(child.items, `${path}[]`, out);
  }
  return out;
}

/** Every key path a parsed YAML value has, in the same form. */
function dataKeys(v: unknown, prefix: string, out: Set<string>): Set<string> {
  if (Array.isArray(v)) for (const x of v) dataKeys(x, `${prefix}[]`, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.add(path);
      dataKeys(x, path, out);
    }
  }
  return out;
}

test('the example config is valid', async () => {
  const c = await loadConfig(EXAMPLE, {});
  assert.equal(c.hub.id, 'bedside-01');
});

test('the example states every default: it is the same config as hub.id alone', async () => {
  const example = await loadConfig(EXAMPLE, {});
  const minimal = await parseConfig('hub:\n  id: bedside-01\n', EXAMPLE, {});
  assert.deepEqual(example, minimal);
  assert.equal(configHash(example), configHash(minimal));
});

test('the example shows every key of the schema, and no other, counting the settings that are off', async () => {
  const text = await readFile(EXAMPLE, 'utf8');
  // Telegraf's convention: '##' documents, '#' switches a setting off.
  const allOn = text.split('\n').map((l) => l.replace(/^(\s*)# (?!#)/, '$1')).join('\n');
  const doc = parseDocument(allOn);
  assert.deepEqual(doc.errors, []);
  const shown = dataKeys(doc.toJS(), '', new Set());
  const known = schemaKeys(ConfigSchema as unknown as Node, '', new Set());
  assert.deepEqual([...known].filter((k) => !shown.has(k)), [], 'keys the example leaves out');
  assert.deepEqual([...shown].filter((k) => !known.has(k)), [], 'keys the example has that the schema does not');
});

test('every documentation comment of the example is made of sentences', async () => {
  const text = await readFile(EXAMPLE, 'utf8');
  // Consecutive '##' lines are one paragraph; an empty '##' line or any other line ends it.
  const paragraphs: string[] = [];
  let current: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*##(?: (.*))?$/.exec(line);
    if (m?.[1]) current.push(m[1]);
    else if (current.length) {
      paragraphs.push(current.join(' '));
      current = [];
    }
  }
  assert.ok(paragraphs.length > 20, `found ${paragraphs.length} paragraphs`);
  for (const p of paragraphs) assert.match(p, /^[A-Z'`].*[.]$/, p);
});

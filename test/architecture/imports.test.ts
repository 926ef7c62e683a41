// Data flows one way through the stages (DESIGN.md): a stage imports from stages before it and
// from ops/config/frames, never from one after it. Only src/hub wires stages together, and only
// src/cli sits above the hub.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve, dirname } from 'node:path';

const SRC = new URL('../../src', import.meta.url).pathname;

/** Folders of src/ in pipeline order; a folder may import from itself and those before it. */
const ORDER = ['ops', 'config', 'frames', 'events', 'transports', 'profiles', 'streams', 'windows', 'features', 'embeddings', 'exposure', 'outbox', 'publish', 'receiver', 'commands', 'hub', 'cli'];

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const stageOf = (file: string) => relative(SRC, file).split('/')[0]!;

test('no stage imports from a stage after it', async () => {
  const backward: string[] = [];
  const all = await files(SRC);
  assert.ok(all.length > 20, 'the sources were found');
  for (const file of all) {
    const from = stageOf(file);
    assert.ok(ORDER.includes(from), `src/${from} has a place in the stage order`);
    const text = await readFile(file, 'utf8');
    // `import x from '…'`, `export … from '…'`, `import '…'` and `import('…')`.
    for (const m of text.matchAll(/\b(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const to = stageOf(resolve(dirname(file), m[1]!));
      if (ORDER.indexOf(to) > ORDER.indexOf(from)) backward.push(`${relative(SRC, file)} -> ${m[1]}`);
    }
  }
  assert.deepEqual(backward, []);
});

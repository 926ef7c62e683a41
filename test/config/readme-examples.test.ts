// The README's example configs (a home hub, a clinic hub) are loaded by the real config loader:
// an example that drifted from the schema would fail here, not on an operator's hub.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/tmp.js';

/** The example with /etc/twinedge/ moved to a temp folder holding the files it names (TLS files are read at load). */
async function load(t: Parameters<typeof tempDir>[0], heading: string): ReturnType<typeof parseConfig> {
  const dir = await tempDir(t);
  const text = (await example(heading)).replaceAll('/etc/twinedge/', `${dir}/`);
  for (const m of text.matchAll(new RegExp(`${dir}/[\\w.-]+`, 'g'))) await writeFile(m[0], 'x');
  return parseConfig(text, join(dir, 'config.yaml'), {});
}

async function example(heading: string): Promise<string> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const at = readme.indexOf(`### Example: ${heading}`);
  assert.ok(at >= 0, `the README has an example for ${heading}`);
  const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, `the ${heading} example has a yaml block`);
  return block[1]!;
}

test('the README\'s home hub example is a valid config', async (t) => {
  const c = await load(t, 'a home hub');
  assert.equal(c.subjects.length, 1);
  assert.deepEqual(c.devices.map((d) => d.subject), ['p-7f3a2c', 'p-7f3a2c', 'p-7f3a2c'], 'every device measures the one subject');
  assert.match(c.broker.tls?.cert_file ?? '', /home-0412\.crt$/);
});

test('the README\'s clinic hub example is a valid config with several subjects', async (t) => {
  const c = await load(t, 'a clinic hub');
  assert.deepEqual(c.subjects.map((s) => s.ref), ['bed-12-a91c', 'bed-13-5d02', 'bed-14-c7e8']);
  assert.equal(new Set(c.devices.map((d) => d.subject)).size, 3, 'each bed has devices');
  assert.equal(c.exposure.period_s, 900);
  assert.equal(c.embeddings.encoding, 'int8');
});

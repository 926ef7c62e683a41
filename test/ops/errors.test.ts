import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ERROR_CODES, TwinedgeError } from '../../src/ops/errors.js';
import { errorCodeTable, sectionOf } from '../../src/ops/error-docs.js';

test('the README error table lists exactly the code table', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  assert.equal(sectionOf(readme, 'error-codes'), errorCodeTable(), 'run npx tsx scripts/update-docs.ts');
  for (const code of Object.keys(ERROR_CODES)) assert.match(readme, new RegExp(`\\| \`${code}\` \\|`));
});

test('codes are AREA_WHAT and every one says what to do', () => {
  for (const [code, e] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^[A-Z]+(_[A-Z0-9]+)+$/);
    assert.ok(e.action.length > 10, `${code} has an action`);
    assert.ok([1, 2, 3].includes(e.exit), `${code} exit code`);
  }
});

test('an error line names where it happened and its code', () => {
  const e = new TwinedgeError('CONFIG_VALUE_INVALID', 'expected an integer', { file: 'hub.yaml', line: 7, keyPath: 'publish.inflight' });
  assert.equal(e.toLine(), 'hub.yaml:7 publish.inflight: expected an integer [CONFIG_VALUE_INVALID]');
  assert.equal(e.exitCode, 2);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, configHash, loadConfig, parseConfig } from '../../src/config/load.js';
import { configReference } from '../../src/config/reference.js';
import { sectionOf } from '../../src/ops/error-docs.js';

const EXAMPLE = new URL('../../src/config/config.example.yaml', import.meta.url).pathname;

async function problems(text: string, env: NodeJS.ProcessEnv = {}) {
  try {
    await parseConfig(text, '/etc/twinedge/hub.yaml', env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, got ${String(e)}`);
    return e.problems.map((p) => ({ code: p.code, line: p.place.line, keyPath: p.place.keyPath }));
  }
  assert.fail('the config was accepted');
}

test('the example config is valid and states every default', async () => {
  const c = await loadConfig(EXAMPLE, {});
  const minimal = await parseConfig('hub:\n  id: bedside-01\n', EXAMPLE, {});
  // Defaults in the example equal the schema's, so copying it changes nothing by accident.
  assert.equal(configHash(c), configHash(minimal));
});

test('defaults fill every section, paths resolve against the file, client id follows the hub id', async () => {
  const c = await parseConfig('hub:\n  id: h1\n  data_dir: state\n', '/srv/hub/config.yaml', {});
  assert.equal(c.hub.data_dir, '/srv/hub/state');
  assert.equal(c.hub.key_file, '/srv/hub/data/hub.key');
  assert.equal(c.broker.client_id, 'twinedge-h1');
  assert.equal(c.broker.url, 'mqtt://127.0.0.1:1883');
  assert.equal(c.publish.inflight, 512);
  assert.equal(c.outbox.sync, 'batch');
  assert.equal(c.source.simulated.window_s, 10);
  assert.deepEqual(c.subjects, [{ ref: 'subject-1', time_zone: 'UTC' }]);
});

test('the result is frozen all the way down', async () => {
  const c = await parseConfig('hub:\n  id: h1\nsubjects:\n  - ref: a\n', '/x/c.yaml', {});
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.hub) && Object.isFrozen(c.subjects) && Object.isFrozen(c.subjects[0]));
  assert.throws(() => { (c.hub as { id: string }).id = 'other'; }, TypeError);
});

test('an unknown key is refused with its line and the nearest known key', async () => {
  const p = await problems('hub:\n  id: h1\n  data_dri: ./x\n');
  assert.deepEqual(p, [{ code: 'CONFIG_KEY_UNKNOWN', line: 3, keyPath: 'hub.data_dri' }]);
  await assert.rejects(parseConfig('hub:\n  id: h1\n  data_dri: ./x\n', 'c.yaml', {}), (e: ConfigError) => /did you mean 'data_dir'/.test(e.problems[0]!.message));
});

test('each kind of mistake has its own code, line and key path, and all are reported at once', async () => {
  const text = [
    'hub:', //            1
    '  id: h1', //        2
    'subjects:', //       3
    '  - ref: a', //      4
    '  - ref: a', //      5
    '    time_zone: Mars/Olympus', // 6
    'broker:', //         7
    '  url: http://x', // 8
    '  keepalive_s: thirty', // 9
    'publish:', //        10
    '  inflight: 0', //   11
    'log:', //            12
    '  level: loud', //   13
  ].join('\n');
  const p = await problems(text);
  const byPath = Object.fromEntries(p.map((x) => [x.keyPath, x]));
  assert.deepEqual(byPath['broker.url'], { code: 'CONFIG_VALUE_INVALID', line: 8, keyPath: 'broker.url' });
  assert.deepEqual(byPath['broker.keepalive_s'], { code: 'CONFIG_VALUE_INVALID', line: 9, keyPath: 'broker.keepalive_s' });
  assert.deepEqual(byPath['publish.inflight'], { code: 'CONFIG_VALUE_INVALID', line: 11, keyPath: 'publish.inflight' });
  assert.deepEqual(byPath['log.level'], { code: 'CONFIG_VALUE_INVALID', line: 13, keyPath: 'log.level' });
  assert.deepEqual(byPath['subjects[1].ref'], { code: 'CONFIG_VALUE_INVALID', line: 5, keyPath: 'subjects[1].ref' });
  assert.deepEqual(byPath['subjects[1].time_zone'], { code: 'CONFIG_VALUE_INVALID', line: 6, keyPath: 'subjects[1].time_zone' });
  assert.equal(p.length, 6);
});

test('a missing hub id, a reserved subject ref and inverted reconnect bounds are refused', async () => {
  assert.deepEqual(await problems('hub:\n  data_dir: x\n'), [{ code: 'CONFIG_KEY_MISSING', line: 2, keyPath: 'hub.id' }]);
  assert.deepEqual(await problems('hub:\n  id: h\nsubjects:\n  - ref: _hub\n'), [{ code: 'CONFIG_VALUE_INVALID', line: 4, keyPath: 'subjects[0].ref' }]);
  assert.deepEqual(await problems('hub:\n  id: h\nbroker:\n  reconnect_min_ms: 5000\n  reconnect_max_ms: 100\n'), [{ code: 'CONFIG_VALUE_INVALID', line: 5, keyPath: 'broker.reconnect_max_ms' }]);
  assert.deepEqual(await problems(''), [{ code: 'CONFIG_KEY_MISSING', line: 1, keyPath: 'hub' }]);
});

test('YAML syntax errors and unreadable files have their own codes', async () => {
  const p = await problems('hub:\n  id: h1\n  bad: [unclosed\n');
  assert.equal(p[0]!.code, 'CONFIG_YAML_SYNTAX');
  assert.ok(p[0]!.line !== undefined && p[0]!.line >= 3);
  await assert.rejects(loadConfig('/nonexistent/twinedge.yaml', {}), (e: ConfigError) => e.problems[0]!.code === 'CONFIG_FILE_UNREADABLE');
});

test('secrets from the environment win over the file; password_file is read, an unreadable one refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-config-'));
  try {
    await writeFile(join(dir, 'pw'), 's3cret\n');
    const text = 'hub:\n  id: h1\nbroker:\n  url: mqtt://file:1883\n  password_file: pw\n';
    const c = await parseConfig(text, join(dir, 'c.yaml'), { TWINEDGE_BROKER_URL: 'mqtts://env:8883', TWINEDGE_KEY_FILE: '/keys/h1.key' });
    assert.equal(c.broker.url, 'mqtts://env:8883');
    assert.equal(c.hub.key_file, '/keys/h1.key');
    assert.equal(c.broker.password, 's3cret');
    await chmod(join(dir, 'pw'), 0o000);
    if (process.getuid?.() !== 0) {
      assert.deepEqual((await problems(text.replace('pw\n', `${join(dir, 'pw')}\n`))).map((x) => x.keyPath), ['broker.password_file']);
    }
    assert.deepEqual(await problems('hub:\n  id: h1\nbroker:\n  password_file: /nonexistent/pw\n'), [{ code: 'CONFIG_VALUE_INVALID', line: 4, keyPath: 'broker.password_file' }]);
    const env = await parseConfig('hub:\n  id: h1\n', join(dir, 'c.yaml'), { TWINEDGE_BROKER_PASSWORD: 'from-env' });
    assert.equal(env.broker.password, 'from-env');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the config hash is stable, follows every setting and leaves the password out', async () => {
  const a = await parseConfig('hub:\n  id: h1\n', '/x/c.yaml', {});
  const b = await parseConfig('hub:\n  id: h1\n', '/x/c.yaml', { TWINEDGE_BROKER_PASSWORD: 'p' });
  const c = await parseConfig('hub:\n  id: h1\npublish:\n  inflight: 10\n', '/x/c.yaml', {});
  assert.match(configHash(a), /^[0-9a-f]{64}$/);
  assert.equal(configHash(a), configHash(b));
  assert.notEqual(configHash(a), configHash(c));
});

test('the README config reference is generated from the schema', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  assert.equal(sectionOf(readme, 'config-reference'), configReference(), 'run npx tsx scripts/update-docs.ts');
  assert.match(configReference(), /\| `outbox\.quota_mb` \| number \| `256` \|/);
});

test('arbitrary text gives a config or a ConfigError, never anything else', async () => {
  await fc.assert(fc.asyncProperty(fc.oneof(fc.string(), fc.constantFrom('hub:\n  id: x\n', 'hub: [1, 2]', 'subjects: 5', '- a\n- b', 'hub:\n  id: h\nsubjects:\n  - 7\n')), async (text) => {
    try {
      await parseConfig(text, 'c.yaml', {});
    } catch (e) {
      assert.ok(e instanceof ConfigError, `unexpected ${String(e)}`);
      assert.ok(e.problems.length > 0 && e.problems.every((p) => /^CONFIG_/.test(p.code)));
    }
  }), { numRuns: 300 });
});

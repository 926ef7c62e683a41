import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, configHash, defaultConfig, DEMO_HUB_ID, loadConfig, parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { FILE, problemsOf, tempDir, yaml } from './helpers.js';

test('defaults fill every key the file leaves out', async () => {
  const c = await parseConfig('hub:\n  id: h1\n', FILE, {});
  assert.deepEqual(c, {
    hub: { id: 'h1', data_dir: '/srv/twinedge/data', key_file: '/srv/twinedge/data/hub.key', clock_sync: 'auto' },
    subjects: [{ ref: 'subject-1', time_zone: 'UTC', consent: ['embeddings', 'features', 'exposure', 'events'] }],
    broker: {
      url: 'mqtt://127.0.0.1:1883', client_id: 'twinedge-h1', mqtt_version: 'auto', keepalive_s: 30, connect_timeout_s: 10,
      reconnect_min_ms: 500, reconnect_max_ms: 30000,
    },
    publish: { inflight: 512 },
    outbox: { quota_mb: 256, sync: 'batch', max_batch: 1000 },
    log: { level: 'info' },
    source: { simulated: { window_s: 10 } },
    profiles: { dirs: [] },
    devices: [],
    windows: { length_s: 30, grace_s: 2, min_coverage: 0.5 },
    exposure: { period_s: 300, grace_s: 5, light: { threshold_lx: 250, night_threshold_lx: 10, night_start: '22:00', night_end: '06:00', half_lives_h: [24] } },
    embeddings: { enabled: 'on', encoding: 'float32', intra_op_threads: 1, min_quality: 0.5, dirs: [] },
    ble: { max_connections: 4, max_connecting: 1, step_timeout_s: 10, backoff_max_s: 300 },
    http: { enabled: 'on', host: '127.0.0.1', port: 8470, max_body_bytes: 16384 },
    events: { max_age_days: 28, max_future_s: 300 },
    commands: { window_s: 300 },
  });
});

test('values in the file win over the defaults, and a given client id is kept', async () => {
  const c = await parseConfig(yaml(
    'hub:', '  id: h1', '  clock_sync: assume-unsynced',
    'subjects:', '  - ref: p-1', '    time_zone: Europe/Paris', '  - ref: p-2',
    'broker:', '  client_id: mine', '  keepalive_s: 5', '  tls:', '    verify: skip', '  url: mqtts://b.example:8883',
    'outbox:', '  quota_mb: 0.5', '  sync: none',
    'source:', '  simulated:', '    subjects: [p-2]',
  ), FILE, {});
  assert.equal(c.hub.clock_sync, 'assume-unsynced');
  assert.deepEqual(c.subjects, [{ ref: 'p-1', time_zone: 'Europe/Paris', consent: ['embeddings', 'features', 'exposure', 'events'] }, { ref: 'p-2', time_zone: 'UTC', consent: ['embeddings', 'features', 'exposure', 'events'] }]);
  assert.equal(c.broker.client_id, 'mine');
  assert.equal(c.broker.keepalive_s, 5);
  assert.deepEqual(c.broker.tls, { verify: 'skip' });
  assert.equal(c.outbox.quota_mb, 0.5);
  assert.equal(c.outbox.sync, 'none');
  assert.deepEqual(c.source.simulated, { window_s: 10, subjects: ['p-2'] });
});

test('the result is frozen all the way down', async () => {
  const c = await parseConfig(yaml('hub:', '  id: h1', 'broker:', '  tls:', '    verify: strict', '  url: wss://b:443'), FILE, {});
  const unfrozen: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (v === null || typeof v !== 'object') return;
    if (!Object.isFrozen(v)) unfrozen.push(path);
    for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  walk(c, 'config');
  assert.deepEqual(unfrozen, []);
  assert.throws(() => { (c.hub as { id: string }).id = 'other'; }, TypeError);
  assert.throws(() => { (c.subjects as unknown as unknown[]).push({ ref: 'x' }); }, TypeError);
  assert.throws(() => { (c.broker.tls as { verify: string }).verify = 'skip'; }, TypeError);
});

test('relative paths are taken from the config file\'s folder, absolute ones kept', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'tls'));
  for (const f of ['ca.pem', 'hub.crt', 'hub.key', 'pw']) await writeFile(join(dir, 'tls', f), 'x\n');
  const file = join(dir, 'etc', 'config.yaml');
  await mkdir(join(dir, 'etc'));
  const c = await parseConfig(yaml(
    'hub:', '  id: h1', '  data_dir: state', `  key_file: ${join(dir, 'abs.key')}`,
    'broker:', '  url: mqtts://b:8883', '  password_file: ../tls/pw',
    '  tls:', '    ca_file: ../tls/ca.pem', '    cert_file: ../tls/hub.crt', '    key_file: ../tls/hub.key',
  ), file, {});
  assert.equal(c.hub.data_dir, join(dir, 'etc', 'state'));
  assert.equal(c.hub.key_file, join(dir, 'abs.key'));
  assert.equal(c.broker.password_file, join(dir, 'tls', 'pw'));
  assert.equal(c.broker.tls?.ca_file, join(dir, 'tls', 'ca.pem'));
  assert.equal(c.broker.tls?.cert_file, join(dir, 'tls', 'hub.crt'));
  assert.equal(c.broker.tls?.key_file, join(dir, 'tls', 'hub.key'));
});

test('password_file is read into password, less one trailing newline', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'pw'), 's3cret \r\n');
  const c = await parseConfig(yaml('hub:', '  id: h1', 'broker:', '  password_file: pw'), join(dir, 'c.yaml'), {});
  assert.equal(c.broker.password, 's3cret ');
});

test('an unreadable, empty, oversized or not regular password_file is refused at its line and key path', { timeout: 10_000 }, async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'a-folder'));
  await writeFile(join(dir, 'empty'), '\n');
  await writeFile(join(dir, 'huge'), 'x'.repeat(5000));
  // A FIFO would block a read forever; /dev/zero would never end.
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  const file = join(dir, 'c.yaml');
  for (const pw of ['missing', 'a-folder', 'empty', 'huge', 'fifo', '/dev/zero']) {
    assert.deepEqual(
      await problemsOf(yaml('hub:', '  id: h1', 'broker:', '  username: u', `  password_file: ${pw}`), {}, file),
      [{ code: 'CONFIG_VALUE_INVALID', line: 5, keyPath: 'broker.password_file' }],
      pw,
    );
  }
});

test('the environment wins over the file, and a relative path from it is taken from the working directory', async (t) => {
  const dir = await tempDir(t);
  const text = yaml('hub:', '  id: h1', '  key_file: file.key', 'broker:', '  url: mqtt://file:1883', '  username: file-user', '  password_file: does-not-exist');
  const env = {
    TWINEDGE_KEY_FILE: 'env.key',
    TWINEDGE_BROKER_URL: 'mqtts://env:8883',
    TWINEDGE_BROKER_USERNAME: 'env-user',
    TWINEDGE_BROKER_PASSWORD: 'env-pass',
  };
  const c = await parseConfig(text, join(dir, 'c.yaml'), env);
  assert.equal(c.hub.key_file, resolve(process.cwd(), 'env.key'));
  assert.equal(c.broker.url, 'mqtts://env:8883');
  assert.equal(c.broker.username, 'env-user');
  // The password from the environment wins, so the (missing) password_file is not read.
  assert.equal(c.broker.password, 'env-pass');
  // The environment also fills a section the file does not have.
  const bare = await parseConfig('hub:\n  id: h1\n', FILE, { TWINEDGE_BROKER_PASSWORD: 'p' });
  assert.equal(bare.broker.password, 'p');
  // An empty variable counts as unset.
  const empty = await parseConfig(text.replace('  password_file: does-not-exist\n', ''), FILE, { TWINEDGE_BROKER_URL: '' });
  assert.equal(empty.broker.url, 'mqtt://file:1883');
});

test('a bad value from the environment is reported by its variable, without a line', async () => {
  assert.deepEqual(
    await problemsOf('hub:\n  id: h1\nbroker:\n  url: mqtt://fine:1883\n', { TWINEDGE_BROKER_URL: 'http://wrong' }),
    [{ code: 'CONFIG_VALUE_INVALID', line: undefined, keyPath: 'broker.url' }],
  );
});

test('a missing config file is CONFIG_FILE_UNREADABLE, naming the file', async (t) => {
  const dir = await tempDir(t);
  for (const file of [join(dir, 'nope.yaml'), dir]) {
    await assert.rejects(loadConfig(file, {}), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.problems.map((p) => [p.code, p.place.file]), [['CONFIG_FILE_UNREADABLE', file]]);
      assert.equal(e.exitCode, 2);
      return true;
    });
  }
});

test('loadConfig reads the file and anchors paths at its folder', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'hub.yaml'), 'hub:\n  id: from-disk\n');
  const c = await loadConfig(join(dir, 'hub.yaml'), {});
  assert.equal(c.hub.id, 'from-disk');
  assert.equal(c.hub.data_dir, join(dir, 'data'));
});

test('ConfigError prints one line a problem, each with file:line, key path and code', async () => {
  const text = yaml('hub:', '  id: h1', 'publish:', '  inflight: 0', 'log:', '  level: loud');
  await assert.rejects(parseConfig(text, FILE, {}), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    const lines = e.toLine().split('\n');
    assert.equal(lines.length, 2);
    assert.ok(lines[0]!.startsWith(`${FILE}:4 publish.inflight`) && lines[0]!.endsWith('[CONFIG_VALUE_INVALID]'), lines[0]);
    assert.ok(lines[1]!.startsWith(`${FILE}:6 log.level`) && lines[1]!.endsWith('[CONFIG_VALUE_INVALID]'), lines[1]);
    return true;
  });
});

test('defaultConfig gives the embedded defaults, with overrides checked like a file', () => {
  const d = defaultConfig();
  assert.equal(d.hub.id, DEMO_HUB_ID);
  assert.equal(d.broker.client_id, `twinedge-${DEMO_HUB_ID}`);
  assert.equal(d.hub.data_dir, resolve(process.cwd(), 'data'));
  assert.equal(d.publish.inflight, 512);
  assert.ok(Object.isFrozen(d.hub) && Object.isFrozen(d.subjects[0]));
  const o = defaultConfig({ hub: { id: 'demo-2', data_dir: '/tmp/demo' }, subjects: [{ ref: 'demo-subject' }], broker: { url: 'mqtt://127.0.0.1:1884' } });
  assert.deepEqual([o.hub.id, o.hub.data_dir, o.subjects[0]?.ref, o.subjects[0]?.time_zone, o.broker.url], ['demo-2', '/tmp/demo', 'demo-subject', 'UTC', 'mqtt://127.0.0.1:1884']);
  assert.throws(() => defaultConfig({ publish: { inflight: 0 }, log: { level: 'loud' as 'info' } }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.problems.map((p) => [p.code, p.place.keyPath, p.place.line]), [
      ['CONFIG_VALUE_INVALID', 'publish.inflight', undefined],
      ['CONFIG_VALUE_INVALID', 'log.level', undefined],
    ]);
    return true;
  });
});

test('defaultConfig leaves the overrides object as it was', () => {
  const overrides = { hub: { id: 'x' }, broker: {} };
  defaultConfig(overrides);
  assert.deepEqual(overrides, { hub: { id: 'x' }, broker: {} });
});

test('the config hash is stable, ignores key order and the password, and follows every other setting', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'pw'), 'one\n');
  const file = join(dir, 'c.yaml');
  const hash = async (text: string, env: Record<string, string> = {}) => configHash(await parseConfig(text, file, env));
  const base = yaml('hub:', '  id: h1', 'publish:', '  inflight: 10');
  const h = await hash(base);
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(await hash(base), h);
  assert.equal(await hash(yaml('publish:', '  inflight: 10', 'hub:', '  id: h1')), h);
  assert.equal(await hash(base, { TWINEDGE_BROKER_PASSWORD: 'secret' }), h);
  assert.equal(await hash(`${base}broker:\n  password: another\n`), h);
  assert.notEqual(await hash(yaml('hub:', '  id: h1', 'publish:', '  inflight: 11')), h);
  assert.notEqual(await hash(`${base}broker:\n  username: u\n`), h);
  assert.notEqual(await hash(`${base}subjects:\n  - ref: subject-1\n    time_zone: Europe/Paris\n`), h);
  // A default written out is the same effective config as a default left out.
  assert.equal(await hash(`${base}outbox:\n  sync: batch\n`), h);
});

test('configHash of a hand-made config covers nested values', () => {
  const a = defaultConfig();
  const b = defaultConfig({ source: { simulated: { window_s: 11 } } });
  assert.notEqual(configHash(a), configHash(b));
  assert.equal(configHash(a), configHash(defaultConfig({ broker: { password: 'x' } }) as Config));
});

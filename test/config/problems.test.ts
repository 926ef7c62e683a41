import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ID_PATTERN } from '../../src/publish/topics.js';
import { editDistance, nearest, suggestKey } from '../../src/config/problems.js';
import { ID_PATTERN_SOURCE } from '../../src/config/schema.js';
import { parseConfig } from '../../src/config/load.js';
import { FILE, problemsOf, refusal, tempDir, yaml } from './helpers.js';

const invalid = (line: number | undefined, keyPath: string) => ({ code: 'CONFIG_VALUE_INVALID', line, keyPath });

test('an unknown key is CONFIG_KEY_UNKNOWN at its own line, naming the nearest known key', async () => {
  const text = yaml('hub:', '  id: h1', '  data_dri: ./x', 'brokr:', '  url: mqtt://x', 'publish:', '  colour: blue');
  assert.deepEqual(await problemsOf(text), [
    { code: 'CONFIG_KEY_UNKNOWN', line: 3, keyPath: 'hub.data_dri' },
    { code: 'CONFIG_KEY_UNKNOWN', line: 4, keyPath: 'brokr' },
    { code: 'CONFIG_KEY_UNKNOWN', line: 7, keyPath: 'publish.colour' },
  ]);
  const [dri, brokr, colour] = (await refusal(text)).problems;
  assert.ok(dri!.message.includes("'data_dir'"), dri!.message);
  assert.ok(brokr!.message.includes("'broker'"), brokr!.message);
  assert.ok(!colour!.message.includes("'inflight'"), colour!.message);
});

test('the suggestion is a near key of the same mapping, or the same key in another section', () => {
  assert.equal(suggestKey('data_dri', ['hub']), 'data_dir');
  assert.equal(suggestKey('dataDir', ['hub']), 'data_dir');
  assert.equal(suggestKey('keepalive-s', ['broker']), 'keepalive_s');
  assert.equal(suggestKey('subject', []), 'subjects');
  assert.equal(suggestKey('url', ['hub']), 'broker.url');
  assert.equal(suggestKey('timezone', ['subjects', 0]), 'time_zone');
  assert.equal(suggestKey('colour', ['publish']), undefined);
  // Short keys get at most one edit: 'io' is not 'id'-plus-something.
  assert.equal(nearest('xy', ['id']), undefined);
  assert.equal(nearest('ie', ['id']), 'id');
  assert.equal(editDistance('data_dri', 'data_dir'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('a value of the wrong type is CONFIG_VALUE_INVALID at its line', async () => {
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', 'broker:', '  keepalive_s: thirty', '  username: [a, b]')), [invalid(4, 'broker.keepalive_s'), invalid(5, 'broker.username')]);
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', 'publish:', '  inflight: 1.5')), [invalid(4, 'publish.inflight')]);
  assert.deepEqual(await problemsOf(yaml('hub: just-a-string')), [invalid(1, 'hub')]);
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: 42')), [invalid(2, 'hub.id')]);
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', 'subjects: one')), [invalid(3, 'subjects')]);
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', 'outbox:', '  quota_mb: .inf')), [invalid(4, 'outbox.quota_mb')]);
});

test('a value out of range is CONFIG_VALUE_INVALID at its line', async () => {
  const cases: Array<[string, string, string]> = [
    ['publish', 'inflight', '0'], ['publish', 'inflight', '65536'], ['outbox', 'quota_mb', '0'], ['outbox', 'max_batch', '-1'],
    ['broker', 'keepalive_s', '0'], ['broker', 'connect_timeout_s', '0'], ['broker', 'reconnect_min_ms', '1'],
    ['source', 'simulated', '{window_s: 0}'], ['broker', 'client_id', "''"], ['hub', 'data_dir', "''"],
  ];
  for (const [section, key, value] of cases) {
    const extra = section === 'hub' ? [] : ['hub:', '  id: h1'];
    const body = section === 'hub' ? ['hub:', '  id: h1', `  ${key}: ${value}`] : [`${section}:`, `  ${key}: ${value}`];
    const keyPath = key === 'simulated' ? 'source.simulated.window_s' : `${section}.${key}`;
    const line = extra.length + body.length;
    assert.deepEqual(await problemsOf(yaml(...extra, ...body)), [invalid(line, keyPath)], `${keyPath}: ${value}`);
  }
  // Values at the edges of the ranges are accepted.
  await assert.doesNotReject(parseConfig(yaml('hub:', '  id: h1', 'publish:', '  inflight: 65535', 'outbox:', '  max_batch: 1', '  quota_mb: 0.001', 'broker:', '  keepalive_s: 1'), FILE, {}));
});

test('a value outside an enum is CONFIG_VALUE_INVALID at its line', async () => {
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', '  clock_sync: yes', 'log:', '  level: loud', 'outbox:', '  sync: always')), [
    invalid(3, 'hub.clock_sync'), invalid(5, 'log.level'), invalid(7, 'outbox.sync'),
  ]);
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', 'broker:', '  url: mqtts://b', '  tls:', '    verify: no')), [invalid(6, 'broker.tls.verify')]);
});

test('a missing hub.id is CONFIG_KEY_MISSING at the line of its section', async () => {
  assert.deepEqual(await problemsOf(yaml('log:', '  level: info', 'hub:', '  data_dir: x')), [{ code: 'CONFIG_KEY_MISSING', line: 3, keyPath: 'hub.id' }]);
  assert.deepEqual(await problemsOf(yaml('log:', '  level: info')), [{ code: 'CONFIG_KEY_MISSING', line: 1, keyPath: 'hub' }]);
  assert.deepEqual(await problemsOf(''), [{ code: 'CONFIG_KEY_MISSING', line: 1, keyPath: 'hub' }]);
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', 'subjects:', '  - time_zone: UTC')), [{ code: 'CONFIG_KEY_MISSING', line: 4, keyPath: 'subjects[0].ref' }]);
});

test('ids must be topic levels, and _hub is reserved', async () => {
  assert.equal(ID_PATTERN_SOURCE, ID_PATTERN.source, 'the config and the topics agree on ids');
  const text = yaml('hub:', '  id: a/b', 'subjects:', '  - ref: _hub', '  - ref: "has space"', '  - ref: +', `  - ref: ${'x'.repeat(65)}`, `  - ref: ${'y'.repeat(64)}`);
  assert.deepEqual(await problemsOf(text), [invalid(2, 'hub.id'), invalid(4, 'subjects[0].ref'), invalid(5, 'subjects[1].ref'), invalid(6, 'subjects[2].ref'), invalid(7, 'subjects[3].ref')]);
});

test('a duplicate subject ref is refused at the second one', async () => {
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', 'subjects:', '  - ref: a', '  - ref: b', '  - ref: a', '    time_zone: UTC')), [invalid(6, 'subjects[2].ref')]);
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', 'subjects: []')), [invalid(3, 'subjects')]);
});

test('a time zone that the platform does not know is refused', async () => {
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', 'subjects:', '  - ref: a', '    time_zone: Europe/Paris', '  - ref: b', '    time_zone: Mars/Olympus', '  - ref: c', "    time_zone: ''")), [
    invalid(7, 'subjects[1].time_zone'), invalid(9, 'subjects[2].time_zone'),
  ]);
});

test('the broker URL must be mqtt, mqtts, ws or wss with a host', async () => {
  for (const url of ['http://b:1883', 'b:1883', 'mqtt://', 'mqtt://:1883', 'mqtt://b:99999', 'MQTT://b']) {
    assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', 'broker:', `  url: '${url}'`)), [invalid(4, 'broker.url')], url);
  }
  for (const url of ['mqtt://b', 'mqtts://b.example:8883', 'ws://10.0.0.1:9001/mqtt', 'wss://[::1]:443']) {
    assert.deepEqual((await problemsOf(yaml('hub:', '  id: h1', 'broker:', `  url: '${url}'`, '  keepalive_s: 0'))).map((p) => p.keyPath), ['broker.keepalive_s'], url);
  }
});

test('keys that depend on each other are checked together', async (t) => {
  // reconnect_max_ms below reconnect_min_ms: the key the file writes is blamed.
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h', 'broker:', '  reconnect_min_ms: 5000', '  reconnect_max_ms: 100')), [invalid(5, 'broker.reconnect_max_ms')]);
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h', 'broker:', '  reconnect_min_ms: 50000')), [invalid(4, 'broker.reconnect_min_ms')]);
  // password and password_file both.
  const dir = await tempDir(t);
  await writeFile(join(dir, 'pw'), 'p');
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h', 'broker:', '  password: p', '  password_file: pw'), {}, join(dir, 'c.yaml')), [invalid(5, 'broker.password_file')]);
  // TLS settings with a URL that does not use TLS.
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h', 'broker:', '  url: mqtt://b', '  tls:', '    verify: strict')), [invalid(5, 'broker.tls')]);
  // A client certificate without its key, and the other way round.
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h', 'broker:', '  url: mqtts://b', '  tls:', `    cert_file: ${join(dir, 'pw')}`)), [invalid(6, 'broker.tls.cert_file')]);
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h', 'broker:', '  url: mqtts://b', '  tls:', `    key_file: ${join(dir, 'pw')}`)), [invalid(6, 'broker.tls.key_file')]);
  // A TLS file that cannot be read.
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h', 'broker:', '  url: mqtts://b', '  tls:', '    ca_file: no-such-ca.pem'), {}, join(dir, 'c.yaml')), [invalid(6, 'broker.tls.ca_file')]);
  // The simulated source names subjects that exist, once each.
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h', 'subjects:', '  - ref: a', 'source:', '  simulated:', '    subjects:', '      - a', '      - b')), [invalid(9, 'source.simulated.subjects[1]')]);
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h', 'subjects:', '  - ref: a', 'source:', '  simulated:', '    subjects: [a, a]')), [invalid(7, 'source.simulated.subjects')]);
});

test('a YAML syntax error is CONFIG_YAML_SYNTAX at its line, and nothing else is reported', async () => {
  const cases: Array<[string, number]> = [
    [yaml('hub:', '  id: h1', 'log:', '\tlevel: info'), 4],
    [yaml('hub:', '  id: h1', '  id: h2'), 3],
    [yaml('hub:', '  id: h1', 'subjects:', '- ref: a', '  - ref: b'), 5],
    [yaml('hub:', '  id: h1', 'broker:', '  url: !custom mqtt://b'), 4],
    [yaml('hub:', '  id: h1', '---', 'hub:', '  id: h2'), 3],
    [yaml('hub:', '  id: h1', 'log: *nowhere'), 3],
  ];
  for (const [text, line] of cases) {
    const p = await problemsOf(text);
    // The parser may say more than one thing about one mistake; all of it is syntax, at the line.
    assert.deepEqual([...new Set(p.map((x) => `${x.code}:${x.line}`))], [`CONFIG_YAML_SYNTAX:${line}`], text);
  }
});

test('YAML that JSON cannot hold is refused: a value tagged !!binary, an alias inside its own anchor, too many aliases', async () => {
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', 'broker:', '  password: !!binary aGVsbG8=')), [invalid(4, 'broker.password')]);
  const cycle = await problemsOf(yaml('hub:', '  id: h1', 'x: &a', '  - *a'));
  assert.deepEqual(cycle.find((p) => p.code === 'CONFIG_YAML_SYNTAX'), { code: 'CONFIG_YAML_SYNTAX', line: 4, keyPath: 'x[0]' });
  const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 12; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
  assert.deepEqual((await problemsOf(yaml(...laughs))).map((p) => p.code), ['CONFIG_YAML_SYNTAX']);
});

test('a problem reached through an alias is placed at the alias', async () => {
  const p = await problemsOf(yaml('hub:', '  id: h1', 'subjects:', '  - &s {ref: a}', '  - *s'));
  assert.deepEqual(p, [invalid(5, 'subjects[1].ref')]);
});

test('a file that is not a mapping of sections is refused', async () => {
  assert.deepEqual(await problemsOf(yaml('- hub', '- broker')), [{ code: 'CONFIG_VALUE_INVALID', line: 1, keyPath: undefined }]);
  assert.deepEqual(await problemsOf(yaml('# a comment', 'just text')), [{ code: 'CONFIG_VALUE_INVALID', line: 2, keyPath: undefined }]);
});

test('a key named __proto__ is an unknown key, not a prototype', async () => {
  assert.deepEqual(await problemsOf(yaml('hub:', '  id: h1', '  __proto__:', '    polluted: 1')), [{ code: 'CONFIG_KEY_UNKNOWN', line: 3, keyPath: 'hub.__proto__' }]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('every mistake of a file is reported at once, in the order of the file', async () => {
  const text = yaml(
    'hub:', //                       1
    '  data_dir: ./x', //            2  (hub.id missing: line 1)
    'subjects:', //                  3
    '  - ref: a', //                 4
    '  - ref: a', //                 5  duplicate
    '    time_zone: Mars/Olympus', // 6  bad zone
    'broker:', //                    7
    '  url: http://x', //            8  bad scheme
    '  keepalive_s: thirty', //      9  wrong type
    '  reconect_max_ms: 1', //       10 unknown key
    'publish:', //                   11
    '  inflight: 0', //              12 out of range
    'log:', //                       13
    '  level: loud', //              14 bad enum
  );
  assert.deepEqual(await problemsOf(text), [
    { code: 'CONFIG_KEY_MISSING', line: 1, keyPath: 'hub.id' },
    invalid(5, 'subjects[1].ref'),
    invalid(6, 'subjects[1].time_zone'),
    invalid(8, 'broker.url'),
    invalid(9, 'broker.keepalive_s'),
    { code: 'CONFIG_KEY_UNKNOWN', line: 10, keyPath: 'broker.reconect_max_ms' },
    invalid(12, 'publish.inflight'),
    invalid(14, 'log.level'),
  ]);
});

test('flow style and comments do not move the lines', async () => {
  const text = yaml('# twinedge', 'hub: {id: h1, clock_sync: never}', '', '# broker', 'broker: {url: "mqtt://b", keepalive_s: -1}');
  assert.deepEqual(await problemsOf(text), [invalid(2, 'hub.clock_sync'), invalid(5, 'broker.keepalive_s')]);
});

test('a broker password is never shown in a message, and the URL may not carry one', async () => {
  const e = await refusal(yaml('hub:', '  id: h1', 'broker:', '  password: 918273645'));
  assert.deepEqual(e.problems.map((p) => p.place.keyPath), ['broker.password']);
  assert.ok(!e.toLine().includes('918273645'), e.toLine());
  for (const url of ['mqtt://u:918273645@b:1883', 'http://u:918273645@b', 'mqtt://u:918273645@b:99999']) {
    const u = await refusal(yaml('hub:', '  id: h1', 'broker:', `  url: ${url}`), { });
    assert.deepEqual(u.problems.map((p) => [p.code, p.place.line, p.place.keyPath]), [['CONFIG_VALUE_INVALID', 4, 'broker.url']], url);
    assert.ok(!u.toLine().includes('918273645'), u.toLine());
  }
});

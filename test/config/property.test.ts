import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { FILE } from './helpers.js';

const KEYS = ['hub', 'id', 'data_dir', 'subjects', 'ref', 'time_zone', 'broker', 'url', 'tls', 'verify', 'password_file', 'publish', 'inflight', 'outbox', 'quota_mb', 'log', 'level', 'source', 'simulated', 'window_s', 'subject', '__proto__', 'x'];
const SCALARS = ['h1', '0', '-1', '1.5', '.inf', '.nan', 'null', '~', 'true', "''", '"a b"', 'mqtt://b', 'http://x', 'Europe/Paris', 'Mars/Olympus', '_hub', '[a, b]', '{a: 1}', '[', '{', '"', '&a x', '*a', '!!binary aGk=', '!tag x', '|', '>', '- x', ':', '#c', '65536'];

/** Text that looks like YAML: nested keys, lists, anchors, tags and the odd broken bracket. */
const yamlish = fc.array(
  fc.record({
    indent: fc.integer({ min: 0, max: 3 }),
    dash: fc.boolean(),
    key: fc.option(fc.constantFrom(...KEYS), { nil: undefined }),
    value: fc.option(fc.oneof(fc.constantFrom(...SCALARS), fc.string({ maxLength: 8 })), { nil: undefined }),
    tab: fc.boolean(),
  }),
  { maxLength: 14 },
).map((lines) => lines.map((l) => `${l.tab && l.indent ? '\t' : '  '.repeat(l.indent)}${l.dash ? '- ' : ''}${l.key !== undefined ? `${l.key}:` : ''}${l.value !== undefined ? ` ${l.value}` : ''}`).join('\n'));

const CONFIG_CODES = ['CONFIG_FILE_UNREADABLE', 'CONFIG_YAML_SYNTAX', 'CONFIG_KEY_UNKNOWN', 'CONFIG_KEY_MISSING', 'CONFIG_VALUE_INVALID'];

test('any text gives a frozen config or a ConfigError whose problems are placed in the file', async () => {
  await fc.assert(fc.asyncProperty(fc.oneof(yamlish, fc.string({ maxLength: 200 }), fc.constant('hub:\n  id: h1\n')), async (text) => {
    const lineCount = text.split('\n').length;
    try {
      const c = await parseConfig(text, FILE, {});
      assert.ok(Object.isFrozen(c) && Object.isFrozen(c.hub));
      assert.equal(typeof c.hub.id, 'string');
    } catch (e) {
      assert.ok(e instanceof ConfigError, `not a ConfigError: ${e instanceof Error ? e.stack : String(e)}`);
      assert.ok(e.problems.length > 0);
      for (const p of e.problems) {
        assert.ok(CONFIG_CODES.includes(p.code), p.code);
        assert.equal(p.place.file, FILE);
        assert.ok(p.place.line !== undefined && p.place.line >= 1 && p.place.line <= lineCount + 1, `line ${p.place.line} of ${lineCount}`);
      }
      // At most one problem a key path.
      const paths = e.problems.map((p) => p.place.keyPath).filter((k) => k !== undefined);
      assert.equal(new Set(paths).size, paths.length, paths.join(', '));
    }
  }), { numRuns: 1500 });
});

test('any valid settings written as YAML come back as written', async () => {
  const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
  const settings = fc.record({
    hub: fc.record({ id, clock_sync: fc.constantFrom('auto', 'assume-synced', 'assume-unsynced') }),
    subjects: fc.uniqueArray(fc.record({ ref: id, time_zone: fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata'), consent: fc.subarray(['embeddings', 'features', 'exposure', 'events']) }), { minLength: 1, maxLength: 4, selector: (s) => s.ref }),
    broker: fc.record({
      url: fc.constantFrom('mqtt://127.0.0.1:1883', 'mqtts://broker.example:8883', 'ws://h:9001/mqtt', 'wss://h'),
      keepalive_s: fc.integer({ min: 1, max: 65535 }),
      reconnect_min_ms: fc.integer({ min: 10, max: 1000 }),
      reconnect_max_ms: fc.integer({ min: 1000, max: 3_600_000 }),
    }),
    publish: fc.record({ inflight: fc.integer({ min: 1, max: 65535 }) }),
    outbox: fc.record({ quota_mb: fc.double({ min: 0.001, max: 1e6, noNaN: true }), sync: fc.constantFrom('batch', 'none') }),
    log: fc.record({ level: fc.constantFrom('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') }),
  });
  await fc.assert(fc.asyncProperty(settings, async (s) => {
    const c = await parseConfig(stringify(s), FILE, {});
    // fast-check may make objects without a prototype: compare the plain data.
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    assert.deepEqual(plain({ hub: { id: c.hub.id, clock_sync: c.hub.clock_sync }, subjects: c.subjects }), plain({ hub: s.hub, subjects: s.subjects }));
    assert.deepEqual(
      [c.broker.url, c.broker.keepalive_s, c.broker.reconnect_min_ms, c.broker.reconnect_max_ms, c.publish.inflight, c.outbox.quota_mb, c.outbox.sync, c.log.level],
      [s.broker.url, s.broker.keepalive_s, s.broker.reconnect_min_ms, s.broker.reconnect_max_ms, s.publish.inflight, s.outbox.quota_mb, s.outbox.sync, s.log.level],
    );
  }), { numRuns: 300 });
});

// The config loader under hostile input: arbitrary text, text that looks like YAML, arbitrary
// JSON-like values under the schema's own keys rendered to YAML, damaged copies of the shipped
// example config, arbitrary environment overrides, and arbitrary overrides of the embedded
// defaults. Each gives a frozen config or one ConfigError listing problems, each with a CONFIG_*
// code, placed in the file at a line it has (or named by its environment variable), at most one
// a key path; never another exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { ConfigError, defaultConfig, parseConfig } from '../../src/config/load.js';
import { ConfigSchema, ENV_OVERRIDES, type Config } from '../../src/config/schema.js';
import { assertClearError, ENGINE_MESSAGE, FUZZ_TEST, fuzzTarget, schemaKeys } from './fuzz.js';
import { applyEdit, jsonEdits, jsonLike } from './json-edits.js';

const fuzz = fuzzTarget('config-load');
// A folder that does not exist: relative paths in the fuzzed configs lead nowhere readable.
const FILE = '/nonexistent-twinedge-fuzz/config.yaml';
const EXAMPLE = readFileSync(new URL('../../src/config/config.example.yaml', import.meta.url), 'utf8');

const KEYS = [...schemaKeys(ConfigSchema), '__proto__', 'constructor', 'x', 'Hub', 'brokerUrl'];

function checkConfig(c: Config): void {
  const frozen = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    assert.ok(Object.isFrozen(v), 'a part of the config is not frozen');
    for (const x of Object.values(v)) frozen(x);
  };
  frozen(c);
  assert.equal(typeof c.hub.id, 'string');
  assert.equal(typeof c.broker.client_id, 'string');
  assert.ok(isAbsolute(c.hub.data_dir) && isAbsolute(c.hub.key_file), `${c.hub.data_dir}, ${c.hub.key_file}`);
  assert.ok(c.subjects.length >= 1);
}

/** Parses; a refusal must be a ConfigError whose problems are placed within the text. */
async function parseOrRefuse(text: string, env: Record<string, string> = {}): Promise<Config | undefined> {
  const lines = text.split(/\r\n|\r|\n/).length;
  try {
    const c = await parseConfig(text, FILE, env);
    checkConfig(c);
    return c;
  } catch (e) {
    assertClearError(e);
    assert.ok(e instanceof ConfigError, `a ${e.name} (${e.code}), not a ConfigError`);
    checkProblems(e, lines, true);
    return undefined;
  }
}

function checkProblems(e: ConfigError, lines: number, inFile: boolean): void {
  assert.ok(e.problems.length > 0);
  const paths = new Set<string>();
  for (const p of e.problems) {
    assertClearError(p);
    assert.match(p.code, /^CONFIG_/);
    assert.doesNotMatch(p.message, ENGINE_MESSAGE);
    if (p.message.startsWith('from TWINEDGE_')) assert.equal(p.place.line, undefined);
    else if (inFile) {
      assert.equal(p.place.file, FILE);
      assert.ok(p.place.line !== undefined && p.place.line >= 1 && p.place.line <= lines + 1, `line ${String(p.place.line)} of ${lines}: ${p.toLine()}`);
    }
    if (p.place.keyPath !== undefined) {
      assert.ok(!paths.has(p.place.keyPath), `two problems at ${p.place.keyPath}`);
      paths.add(p.place.keyPath);
    }
  }
  assert.ok(e.toLine().split('\n').length === e.problems.length);
}

const SCALARS = [
  'h1', 'bedside-01', '0', '-1', '1.5', '1e3', '0x10', '.inf', '-.inf', '.nan', 'null', '~', 'true', 'on', 'no', "''", '"a b"', 'mqtt://b',
  'mqtts://u:p@b:8883', 'ws://h:9001/mqtt', 'http://x', 'Europe/Paris', 'Mars/Olympus', '_hub', '[a, b]', '{a: 1}', '[', '{', '"', '&a x', '*a',
  '*b', '!!binary aGk=', '!!timestamp 2001-12-14', '!!set {a, b}', '!tag x', '|', '>', '- x', ':', '#c', '65536', '4000001', '/dev/null', '.',
  '..', './data', 'strict', 'skip', 'float16', 'int8', 'batch', 'none', 'silent', '<<: *a', '? complex', '%YAML 1.2', '---', '...',
];

/** Text that looks like YAML: nested keys, lists, anchors, aliases, merges, tags and broken brackets. */
const yamlish = fc.array(fc.record({
  indent: fc.nat({ max: 4 }), dash: fc.boolean(), anchor: fc.option(fc.constantFrom('&a ', '&b '), { nil: undefined }),
  key: fc.option(fc.constantFrom(...KEYS, '<<'), { nil: undefined }),
  value: fc.option(fc.oneof(fc.constantFrom(...SCALARS), fc.string({ maxLength: 8 })), { nil: undefined }), tab: fc.boolean(),
}), { maxLength: 24 }).map((lines) => lines.map((l) =>
  `${l.tab && l.indent ? '\t' : '  '.repeat(l.indent)}${l.dash ? '- ' : ''}${l.key !== undefined ? `${l.key}:` : ''}${l.value !== undefined ? ` ${l.anchor ?? ''}${l.value}` : ''}`).join('\n'));

test('any text: a frozen config or a ConfigError with placed problems', FUZZ_TEST, async (t) => {
  const text = fc.oneof({ weight: 4, arbitrary: yamlish }, { weight: 1, arbitrary: fc.string({ maxLength: 200 }) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) });
  await fuzz.check(t, fc.asyncProperty(text, async (s) => { await parseOrRefuse(s); }), 400);
});

const jsonish = jsonLike(KEYS, [null, true, false, 0, -1, 1, 1.5, 65535, 65536, 1e300, -0, '', 'h1', 'UTC', 'Mars/Olympus', 'mqtt://broker:1883', 'mqtts://u:p@b', 'on', 'off', 'batch', '/dev/null', './x']);

test('any JSON-like object under the schema\'s keys, written as YAML: a frozen config or placed problems', FUZZ_TEST, async (t) => {
  const top = fc.dictionary(fc.constantFrom(...KEYS), jsonish, { maxKeys: 8 });
  await fuzz.check(t, fc.asyncProperty(top, async (o) => { await parseOrRefuse(stringify(o)); }), 400);
});

const edits = jsonEdits(jsonish);

test('the example config, damaged: every change gives a frozen config or placed problems', FUZZ_TEST, async (t) => {
  const example = parse(EXAMPLE) as unknown;
  await fuzz.check(t, fc.asyncProperty(edits, async (es) => {
    const damaged = es.reduce(applyEdit, example);
    await parseOrRefuse(stringify(damaged));
  }), 300);
});

test('the example config, with its text cut or a line repeated: a frozen config or placed problems', FUZZ_TEST, async (t) => {
  const lines = EXAMPLE.split('\n');
  await fuzz.check(t, fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.constantFrom('drop', 'repeat', 'indent', 'dedent', 'cut')), { minLength: 1, maxLength: 3 }), async (ops) => {
    const l = [...lines];
    for (const [at, op] of ops) {
      const i = at % l.length;
      if (op === 'drop') l.splice(i, 1);
      else if (op === 'repeat') l.splice(i, 0, l[i]!);
      else if (op === 'indent') l[i] = `  ${l[i]}`;
      else if (op === 'dedent') l[i] = l[i]!.replace(/^ {1,2}/, '');
      else l[i] = l[i]!.slice(0, at % (l[i]!.length + 1));
    }
    await parseOrRefuse(l.join('\n'));
  }), 200);
});

test('the example config with arbitrary environment overrides: a config that takes them, or problems naming the variable', FUZZ_TEST, async (t) => {
  const envValue = fc.oneof(fc.constantFrom('mqtt://other:1883', 'mqtts://b', 'ftp://x', 'mqtt://u:p@h', 'not a url', './key', '/abs/key', ''), fc.string({ maxLength: 12 }));
  const env = fc.record(Object.fromEntries(ENV_OVERRIDES.map((o) => [o.name, envValue])), { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>;
  const base = fc.oneof(fc.constant(EXAMPLE), fc.constant('hub:\n  id: h1\n'), fc.constant('hub:\n  id: h1\nbroker: 5\n'), fc.constant('hub: {id: h1}\nbroker: {url: "mqtt://b"}\n'));
  await fuzz.check(t, fc.asyncProperty(base, env, async (text, vars) => {
    const c = await parseOrRefuse(text, vars);
    if (!c) return;
    const url = vars.TWINEDGE_BROKER_URL;
    if (url) assert.equal(c.broker.url, url, 'the environment wins over the file');
  }), 200);
});

test('the embedded defaults with arbitrary overrides: a frozen config or a ConfigError', FUZZ_TEST, async (t) => {
  const overrides = fc.dictionary(fc.constantFrom(...KEYS), jsonish, { maxKeys: 6 });
  await fuzz.check(t, fc.property(overrides, (o) => {
    try {
      checkConfig(defaultConfig(o as never));
    } catch (e) {
      assertClearError(e);
      assert.ok(e instanceof ConfigError, `a ${e.name}, not a ConfigError`);
      checkProblems(e, 0, false);
    }
  }), 400);
});

// Found by the property above: defaultConfig({ hub: 1.5 }) threw "TypeError: Cannot create
// property 'id' on number '1.5'" while setting the demo hub id, instead of refusing the override.
test('regression: overrides whose hub, or which themselves, are not mappings are refused with a ConfigError', () => {
  for (const overrides of [{ hub: 1.5 }, { hub: 'h1' }, { hub: [] }, null, [1]]) {
    assert.throws(() => defaultConfig(overrides as never), (e) => e instanceof ConfigError && /^CONFIG_(VALUE_INVALID|KEY_MISSING)$/.test(e.code), JSON.stringify(overrides));
  }
  assert.equal(defaultConfig({ hub: {} }).hub.id, 'demo-hub');
});

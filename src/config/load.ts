import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document } from 'yaml';
import { TwinedgeError, type ErrorCode } from '../ops/errors.js';
import { ConfigSchema, type Config } from './schema.js';

/** Every problem of a config file at once; the CLI prints one line each and exits 2. */
export class ConfigError extends TwinedgeError {
  readonly problems: readonly TwinedgeError[];

  constructor(problems: readonly TwinedgeError[]) {
    super(problems[0]!.code, `${problems.length} problem(s) in the config`, problems[0]!.place);
    this.name = 'ConfigError';
    this.problems = problems;
  }

  override toLine(): string {
    return this.problems.map((p) => p.toLine()).join('\n');
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(ConfigSchema);

/** Environment variables that win over the file: secrets and per-machine values. */
const ENV_OVERRIDES: ReadonlyArray<[string, readonly string[]]> = [
  ['TWINEDGE_KEY_FILE', ['hub', 'key_file']],
  ['TWINEDGE_BROKER_URL', ['broker', 'url']],
  ['TWINEDGE_BROKER_USERNAME', ['broker', 'username']],
  ['TWINEDGE_BROKER_PASSWORD', ['broker', 'password']],
];

type Json = Record<string, unknown>;

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError([new TwinedgeError('CONFIG_FILE_UNREADABLE', `cannot read config: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file })]);
  }
  return parseConfig(text, file, env);
}

export async function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => new TwinedgeError('CONFIG_YAML_SYNTAX', e.message.split('\n')[0]!, { file, line: lines.linePos(e.pos[0]).line })));
  }
  const where = (path: readonly (string | number)[], keyOf?: string) => ({ file, line: lineOf(doc, lines, path, keyOf), keyPath: keyPathOf(keyOf ? [...path, keyOf] : path) });
  let raw: unknown;
  try {
    // A small alias budget: a config has no use for the "billion laughs".
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    throw new ConfigError([new TwinedgeError('CONFIG_YAML_SYNTAX', (e as Error).message, { file, line: 1 })]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError([new TwinedgeError('CONFIG_VALUE_INVALID', 'the config must be a mapping of sections (hub, subjects, broker, ...)', { file, line: 1 })]);
  }
  const obj = raw as Json;
  for (const [name, path] of ENV_OVERRIDES) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    let at = obj;
    for (const k of path.slice(0, -1)) at = (at[k] && typeof at[k] === 'object' ? at[k] : (at[k] = {})) as Json;
    at[path[path.length - 1]!] = v;
  }
  const problems: TwinedgeError[] = [];
  if (!validate(obj)) {
    for (const e of validate.errors ?? []) {
      const p = problemOf(e, where);
      if (p && !problems.some((q) => q.place.keyPath === p.place.keyPath && q.code === p.code)) problems.push(p);
    }
  }
  // One problem per key: a value the schema refused is not checked again across keys.
  const crossProblems: TwinedgeError[] = [];
  crossChecks(obj, where, crossProblems);
  for (const p of crossProblems) if (!problems.some((q) => q.place.keyPath === p.place.keyPath)) problems.push(p);
  if (problems.length === 0) {
    const base = dirname(resolve(file));
    const hub = obj.hub as Json;
    const broker = obj.broker as Json;
    hub.data_dir = resolve(base, hub.data_dir as string);
    hub.key_file = resolve(base, hub.key_file as string);
    broker.client_id ??= `twinedge-${hub.id as string}`;
    const tls = broker.tls as Json | undefined;
    if (tls) for (const k of ['ca_file', 'cert_file', 'key_file']) if (typeof tls[k] === 'string' && !isAbsolute(tls[k] as string)) tls[k] = resolve(base, tls[k] as string);
    if (typeof broker.password_file === 'string') {
      const pf = resolve(base, broker.password_file);
      try {
        broker.password = (await readFile(pf, 'utf8')).replace(/\r?\n$/, '');
      } catch (e) {
        problems.push(new TwinedgeError('CONFIG_VALUE_INVALID', `cannot read password file ${pf}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, where(['broker', 'password_file'])));
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(obj) as unknown as Config;
}

/** Checks across keys; each looks only at values of the right type, so they run beside the schema's. */
function crossChecks(obj: Json, where: (p: (string | number)[]) => { file: string; line: number | undefined; keyPath: string }, problems: TwinedgeError[]): void {
  const c = obj as unknown as Config;
  const seen = new Map<string, number>();
  (Array.isArray(c.subjects) ? c.subjects : []).forEach((s, i) => {
    if (typeof s?.ref !== 'string' || typeof s.time_zone !== 'string') return;
    if (s.ref === '_hub') problems.push(new TwinedgeError('CONFIG_VALUE_INVALID', "'_hub' is reserved for frames about the hub itself; choose another ref", where(['subjects', i, 'ref'])));
    const before = seen.get(s.ref);
    if (before !== undefined) problems.push(new TwinedgeError('CONFIG_VALUE_INVALID', `subject ref '${s.ref}' is already used by subjects[${before}]`, where(['subjects', i, 'ref'])));
    seen.set(s.ref, i);
    try {
      new Intl.DateTimeFormat('en', { timeZone: s.time_zone });
    } catch {
      problems.push(new TwinedgeError('CONFIG_VALUE_INVALID', `'${s.time_zone}' is not an IANA time zone (e.g. Europe/Paris)`, where(['subjects', i, 'time_zone'])));
    }
  });
  if (typeof c.broker?.reconnect_max_ms === 'number' && typeof c.broker.reconnect_min_ms === 'number' && c.broker.reconnect_max_ms < c.broker.reconnect_min_ms) {
    problems.push(new TwinedgeError('CONFIG_VALUE_INVALID', `must be at least reconnect_min_ms (${c.broker.reconnect_min_ms})`, where(['broker', 'reconnect_max_ms'])));
  }
  if (c.broker?.password !== undefined && c.broker.password_file !== undefined) {
    problems.push(new TwinedgeError('CONFIG_VALUE_INVALID', 'give password or password_file, not both', where(['broker', 'password_file'])));
  }
}

function problemOf(e: ErrorObject, where: (p: (string | number)[], keyOf?: string) => { file: string; line: number | undefined; keyPath: string }): TwinedgeError | undefined {
  const path = e.instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
  let code: ErrorCode = 'CONFIG_VALUE_INVALID';
  let message: string;
  let place;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const known = Object.keys(schemaAt(path)?.properties ?? {});
      const near = nearest(key, known);
      code = 'CONFIG_KEY_UNKNOWN';
      message = `unknown key '${key}': a typo, or not in this version${near ? ` (did you mean '${near}'?)` : ''}`;
      place = where(path, key);
      break;
    }
    case 'required':
      code = 'CONFIG_KEY_MISSING';
      message = `missing required key '${String(e.params.missingProperty)}'`;
      place = { ...where(path), keyPath: keyPathOf([...path, String(e.params.missingProperty)]) };
      break;
    case 'enum':
    case 'const':
      return undefined;
    case 'anyOf': {
      const options = (schemaAt(path)?.anyOf as Array<{ const?: unknown }> | undefined)?.map((o) => JSON.stringify(o.const)).join(', ');
      message = `expected one of ${options ?? 'the allowed values'}`;
      place = where(path);
      break;
    }
    case 'type':
      message = `expected ${String(e.params.type)}`;
      place = where(path);
      break;
    case 'pattern':
      message = `does not match ${String(e.params.pattern)}`;
      place = where(path);
      break;
    default:
      message = e.message ?? 'invalid value';
      place = where(path);
  }
  return new TwinedgeError(code, message, place);
}

/** The schema of the object at a path, for listing its known keys. */
function schemaAt(path: readonly (string | number)[]): { properties?: Record<string, unknown>; anyOf?: unknown[] } | undefined {
  type Node = { properties?: Record<string, unknown>; items?: unknown; anyOf?: unknown[] };
  let s: Node | undefined = ConfigSchema as unknown as Node;
  for (const k of path) {
    if (!s) return undefined;
    s = (typeof k === 'number' ? s.items : s.properties?.[k]) as typeof s;
  }
  return s;
}

function keyPathOf(path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '');
}

/** The line of the value at `path` (or of the key `keyOf` inside it), 1-based. */
function lineOf(doc: Document, lines: LineCounter, path: readonly (string | number)[], keyOf?: string): number | undefined {
  let node: unknown = doc.contents;
  let last: unknown = node;
  for (const k of path) {
    if (!isMap(node) && !(node && typeof node === 'object' && 'items' in node)) break;
    const found = (node as { items: unknown[] }).items.find((it, i) => (isPair(it) ? isScalar(it.key) && it.key.value === k : i === k));
    if (!found) break;
    node = isPair(found) ? found.value : found;
    last = isPair(found) ? (found.value ?? found.key) : found;
  }
  if (keyOf && isMap(node)) {
    const pair = node.items.find((it) => isScalar(it.key) && it.key.value === keyOf);
    if (pair && isScalar(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]).line;
  }
  const range = (last as { range?: [number, number, number] } | null)?.range;
  return range ? lines.linePos(range[0]).line : 1;
}

/** Damerau-free edit distance; the nearest known key within two edits. */
function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Lowercase hex SHA-256 of the effective config, secrets left out, keys in a fixed order. */
export function configHash(config: Config): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical)
      : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().filter((k) => k !== 'password').map((k) => [k, canonical((v as Json)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(canonical(config))).digest('hex');
}

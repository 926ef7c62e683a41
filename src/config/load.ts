import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { TwinedgeError } from '../ops/errors.js';
import { crossChecks } from './checks.js';
import { keyPathOf, type Locator, type Path } from './locate.js';
import { addSchemaErrors, Problems, suggestKey, type SchemaErrorStyle } from './problems.js';
import { parseYaml, plainCopy, type YamlCodes } from './yaml-document.js';
import { ConfigSchema, ENV_OVERRIDES, SECRET_PATHS, type Config, type ConfigInput } from './schema.js';

/**
 * Every problem of one config at once. `problems` holds one TwinedgeError each, with its code
 * and place (file, line, key path); `toLine()` gives one line each, which the CLI prints before
 * exiting with status 2. The error's own code is the first problem's.
 */
export class ConfigError extends TwinedgeError {
  readonly problems: readonly TwinedgeError[];

  constructor(problems: readonly TwinedgeError[], file?: string) {
    if (problems.length === 0) throw new TypeError('a ConfigError needs at least one problem');
    super(problems[0]!.code, `${problems.length} problem(s) in ${file ?? 'the config'}`, file === undefined ? {} : { file });
    this.name = 'ConfigError';
    this.problems = problems;
  }

  override toLine(): string {
    return this.problems.map((p) => p.toLine()).join('\n');
  }
}

/** The hub id of `defaultConfig` when the overrides give none. */
export const DEMO_HUB_ID = 'demo-hub';

// x-expected and x-default are annotations for messages and docs; ajv is told so, and stays strict.
const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true });
ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
ajv.addKeyword({ keyword: 'x-default', schemaType: 'string' });
const validate = ajv.compile(ConfigSchema);

/** Paths that name files: relative ones are taken from the config file's folder. */
const FILE_PATHS: readonly Path[] = [
  ['hub', 'data_dir'], ['hub', 'key_file'], ['hub', 'next_key_file'], ['hub', 'seal_to'], ['broker', 'password_file'],
  ['broker', 'tls', 'ca_file'], ['broker', 'tls', 'cert_file'], ['broker', 'tls', 'key_file'],
  ['commands', 'trust_file'],
];
const TLS_FILES: readonly Path[] = FILE_PATHS.filter((p) => p[1] === 'tls');

const YAML_CODES: YamlCodes = { syntax: 'CONFIG_YAML_SYNTAX', invalid: 'CONFIG_VALUE_INVALID' };
const CONFIG_ERROR_STYLE: SchemaErrorStyle = {
  unknownKey: 'CONFIG_KEY_UNKNOWN',
  missingKey: 'CONFIG_KEY_MISSING',
  invalidValue: 'CONFIG_VALUE_INVALID',
  suggestKey,
  isSecret: (path) => SECRET_PATHS.some((s) => keyPathOf(s) === keyPathOf(path)),
};

type Json = Record<string, unknown>;
type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the config file. Resolves to the frozen config, or rejects with a
 * ConfigError that lists every problem (an unreadable file: CONFIG_FILE_UNREADABLE).
 */
export async function loadConfig(file: string, env: Env = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ConfigError([new TwinedgeError('CONFIG_FILE_UNREADABLE', `cannot read config: ${why}`, { file }, { cause: e })], file);
  }
  return parseConfig(text, file, env);
}

/** Validates config text as if read from `file` (which places errors and anchors relative paths). */
export async function parseConfig(text: string, file: string, env: Env = process.env): Promise<Config> {
  const parsed = parseYaml(text, file, YAML_CODES);
  if ('problems' in parsed) throw new ConfigError(parsed.problems, file);
  return settle(parsed.data, { file, locator: parsed.locator, baseDir: dirname(resolve(file)), env, copyProblems: parsed.copyProblems });
}

/**
 * The embedded defaults, for running without a config file (the demo): `overrides` are keys as
 * in the YAML file, validated the same way; relative paths are taken from the working
 * directory; the hub id is DEMO_HUB_ID unless given. Throws a ConfigError on a bad override.
 */
export function defaultConfig(overrides: ConfigInput = {}, env: Env = {}): Config {
  const raw: unknown = structuredClone(overrides);
  // Overrides of the wrong shape are left for the schema to refuse, as in a file.
  if (isObject(raw)) {
    raw.hub ??= {};
    if (isObject(raw.hub)) raw.hub.id ??= DEMO_HUB_ID;
  }
  return settle(raw, { file: undefined, locator: undefined, baseDir: process.cwd(), env });
}

interface SettleContext {
  file: string | undefined;
  locator: Locator | undefined;
  baseDir: string;
  env: Env;
  /** Problems found while copying the YAML into plain values (cycles, tagged values). */
  copyProblems?: Problems;
}

function settle(raw: unknown, ctx: SettleContext): Config {
  const problems = ctx.copyProblems ?? new Problems(ctx.file, ctx.locator);
  const data = ctx.copyProblems ? (raw ?? {}) : plainCopy(raw ?? {}, problems, YAML_CODES);
  if (!isObject(data)) {
    const place = ctx.file === undefined ? {} : { file: ctx.file, line: ctx.locator?.valueLine([]) ?? 1 };
    throw new ConfigError([new TwinedgeError('CONFIG_VALUE_INVALID', 'expected a mapping of sections (hub, subjects, broker, ...)', place)], ctx.file);
  }
  const fromEnv = applyEnv(data, ctx.env);
  problems.fromEnv = fromEnv;
  if (!validate(data)) addSchemaErrors(problems, validate.errors ?? [], data, CONFIG_ERROR_STYLE);
  crossChecks(data, { problems, written: (p) => ctx.locator?.has(p) ?? true, fromEnv: new Set(fromEnv.keys()) });

  for (const path of FILE_PATHS) {
    const value = get(data, path);
    if (typeof value !== 'string' || problems.blocked(path)) continue;
    // A path from the environment was typed relative to where the command runs.
    set(data, path, resolve(fromEnv.has(keyPathOf(path)) ? process.cwd() : ctx.baseDir, value));
  }
  for (const section of ['profiles', 'embeddings']) {
    const dirs = get(data, [section, 'dirs']);
    if (Array.isArray(dirs) && !problems.blocked([section, 'dirs'])) {
      (data[section] as Json).dirs = dirs.map((d: unknown) => (typeof d === 'string' ? resolve(ctx.baseDir, d) : d));
    }
  }
  if (Array.isArray(data.devices)) {
    data.devices.forEach((d: unknown, i: number) => {
      const ble = isObject(d) ? d.ble : undefined;
      if (isObject(ble) && typeof ble.bind_key_file === 'string' && !problems.blocked(['devices', i, 'ble', 'bind_key_file'])) ble.bind_key_file = resolve(ctx.baseDir, ble.bind_key_file);
      const replay = isObject(d) ? d.replay : undefined;
      if (isObject(replay) && typeof replay.file === 'string' && !problems.blocked(['devices', i, 'replay', 'file'])) replay.file = resolve(ctx.baseDir, replay.file);
    });
  }
  // A device without a subject measures the first (on a home hub, the only) subject.
  const firstRef = get(data, ['subjects', 0, 'ref']);
  if (Array.isArray(data.devices) && typeof firstRef === 'string') {
    for (const d of data.devices) if (isObject(d) && d.subject === undefined) d.subject = firstRef;
  }
  readPasswordFile(data, problems, fromEnv);
  for (const path of TLS_FILES) {
    const value = get(data, path);
    if (typeof value !== 'string' || problems.blocked(path)) continue;
    try {
      accessSync(value, constants.R_OK);
    } catch (e) {
      problems.add('CONFIG_VALUE_INVALID', `cannot read ${value} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, path);
    }
  }
  const broker = data.broker;
  const hubId = get(data, ['hub', 'id']);
  if (isObject(broker) && broker.client_id === undefined && typeof hubId === 'string') broker.client_id = `twinedge-${hubId}`;

  if (problems.list.length > 0) throw new ConfigError(problems.sorted(), ctx.file);
  return deepFreeze(data) as unknown as Config;
}

/** Puts the environment's values in place; returns key path -> variable name for those used. */
function applyEnv(data: Json, env: Env): Map<string, string> {
  const used = new Map<string, string>();
  for (const { name, path } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const [section, key] = path;
    // Only into a section that is a mapping or absent: any other value is reported as it is.
    if (data[section] === undefined || data[section] === null) data[section] = {};
    const target = data[section];
    if (!isObject(target)) continue;
    target[key] = value;
    used.set(keyPathOf(path), name);
  }
  return used;
}

const MAX_PASSWORD_FILE_BYTES = 4096;

/** The password from broker.password_file, unless the environment gave one (which wins). */
function readPasswordFile(data: Json, problems: Problems, fromEnv: ReadonlyMap<string, string>): void {
  const path = ['broker', 'password_file'];
  const file = get(data, path);
  if (typeof file !== 'string' || problems.blocked(path) || fromEnv.has('broker.password')) return;
  let text: string;
  try {
    // A FIFO or a device given by mistake would block or never end: a password is a small file.
    const st = statSync(file);
    if (!st.isFile() || st.size > MAX_PASSWORD_FILE_BYTES) {
      problems.add('CONFIG_VALUE_INVALID', `${file} is not a password file: ${st.isFile() ? `${st.size} bytes, more than ${MAX_PASSWORD_FILE_BYTES}` : 'not a regular file'}`, path);
      return;
    }
    text = readFileSync(file, 'utf8');
  } catch (e) {
    problems.add('CONFIG_VALUE_INVALID', `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, path);
    return;
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') problems.add('CONFIG_VALUE_INVALID', `${file} is empty`, path);
  else (data.broker as Json).password = password;
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function get(data: unknown, path: Path): unknown {
  let at = data;
  for (const k of path) at = at !== null && typeof at === 'object' ? (at as Record<string | number, unknown>)[k] : undefined;
  return at;
}

function set(data: Json, path: Path, value: unknown): void {
  const parent = get(data, path.slice(0, -1));
  if (parent !== null && typeof parent === 'object') (parent as Record<string | number, unknown>)[path[path.length - 1]!] = value;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * Lowercase hex SHA-256 of the effective config as canonical JSON (keys sorted, at every
 * level), with the secrets (SECRET_PATHS) left out: the birth frame carries it, so the twin
 * server can tell which settings produced a frame without learning a password.
 */
export function configHash(config: Config): string {
  const secrets = new Set(SECRET_PATHS.map((p) => keyPathOf(p)));
  const canonical = (v: unknown, path: (string | number)[]): string => {
    if (Array.isArray(v)) return `[${v.map((x, i) => canonical(x, [...path, i])).join(',')}]`;
    if (v !== null && typeof v === 'object') {
      const parts = Object.keys(v).sort()
        .filter((k) => (v as Json)[k] !== undefined && !secrets.has(keyPathOf([...path, k])))
        .map((k) => `${JSON.stringify(k)}:${canonical((v as Json)[k], [...path, k])}`);
      return `{${parts.join(',')}}`;
    }
    return JSON.stringify(v);
  };
  return createHash('sha256').update(canonical(config, [])).digest('hex');
}

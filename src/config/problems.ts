import type { ErrorObject } from 'ajv';
import { TwinedgeError, type ErrorCode, type ErrorPlace } from '../ops/errors.js';
import { keyPathOf, type Locator, type Path } from './locate.js';
import { ConfigSchema } from './schema.js';

/** Which line a problem points at: the value, the key itself, or the key of its parent object. */
export type LineOf = 'value' | 'key' | 'parent';

/**
 * Collects the problems of one config, at most one per key path, each placed at file:line and
 * key path. A value that came from the environment is placed by its variable instead, since no
 * line of the file holds it.
 */
export class Problems {
  readonly list: TwinedgeError[] = [];
  readonly #file: string | undefined;
  readonly #locator: Locator | undefined;
  /** Key path -> the environment variable its value came from. */
  fromEnv: ReadonlyMap<string, string> = new Map();

  constructor(file: string | undefined, locator: Locator | undefined) {
    this.#file = file;
    this.#locator = locator;
  }

  add(code: ErrorCode, message: string, path: Path, lineOf: LineOf = 'value'): void {
    const keyPath = keyPathOf(path);
    if (this.list.some((p) => p.place.keyPath === keyPath)) return;
    const envName = this.fromEnv.get(keyPath);
    if (envName !== undefined) {
      this.list.push(new TwinedgeError(code, `from ${envName}: ${message}`, { keyPath }));
      return;
    }
    const place: ErrorPlace = {};
    if (this.#file !== undefined) place.file = this.#file;
    if (this.#locator) {
      place.line = lineOf === 'value' ? this.#locator.valueLine(path)
        : lineOf === 'key' ? this.#locator.keyLine(path)
          : this.#locator.keyLine(path.slice(0, -1));
    }
    if (keyPath !== '') place.keyPath = keyPath;
    this.list.push(new TwinedgeError(code, message, place));
  }

  /** Whether a problem was found at `path` or above it: checks across keys then leave it alone. */
  blocked(path: Path): boolean {
    const keyPath = keyPathOf(path);
    return this.list.some((p) => {
      const at = p.place.keyPath ?? '';
      return at === '' || at === keyPath || keyPath.startsWith(`${at}.`) || keyPath.startsWith(`${at}[`);
    });
  }

  /** In the order of the file; problems without a line (from the environment) last. */
  sorted(): TwinedgeError[] {
    return this.list
      .map((p, i) => ({ p, i }))
      .sort((a, b) => (a.p.place.line ?? Infinity) - (b.p.place.line ?? Infinity) || a.i - b.i)
      .map((x) => x.p);
  }
}

type SchemaNode = {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  enum?: readonly unknown[];
  'x-expected'?: string;
};

/** The path of an ajv error, with indexes as numbers where the data is an array there. */
export function pathOf(instancePath: string, data: unknown): (string | number)[] {
  if (instancePath === '') return [];
  const out: (string | number)[] = [];
  let at: unknown = data;
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const key = Array.isArray(at) ? Number(seg) : seg;
    out.push(key);
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[seg] : undefined;
  }
  return out;
}

/** Which codes a file's schema problems get, and how keys are suggested and secrets hidden. */
export interface SchemaErrorStyle {
  readonly unknownKey: ErrorCode;
  readonly missingKey: ErrorCode;
  readonly invalidValue: ErrorCode;
  /** The key an unknown key was probably meant to be. */
  readonly suggestKey?: (key: string, path: Path) => string | undefined;
  /** Whether the value at this path must never be shown. */
  readonly isSecret?: (path: Path) => boolean;
}

/** Turns ajv's errors (all of them, from allErrors mode) into problems. */
export function addSchemaErrors(problems: Problems, errors: readonly ErrorObject[], data: unknown, style: SchemaErrorStyle, prefix: Path = []): void {
  const invalid = style.invalidValue;
  for (const e of errors) {
    // `data` was validated on its own, at `prefix` in the file.
    const path = [...prefix, ...pathOf(e.instancePath, data)];
    const p = e.params as Record<string, unknown>;
    const schema = e.parentSchema as SchemaNode | undefined;
    // A secret is named by its type only, never shown.
    const got = style.isSecret?.(path) ? typeName(e.data) : describe(typeof e.data === 'string' ? withoutUserInfo(e.data) : e.data);
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String(p.additionalProperty);
        const hint = style.suggestKey?.(key, path);
        problems.add(style.unknownKey, `unknown key '${key}': a typo, or not in this version${hint ? ` (did you mean '${hint}'?)` : ''}`, [...path, key], 'key');
        break;
      }
      case 'required':
        problems.add(style.missingKey, `missing required key '${String(p.missingProperty)}'`, [...path, String(p.missingProperty)], 'parent');
        break;
      case 'type':
        problems.add(invalid, `expected ${article(String(p.type))}, got ${got}`, path);
        break;
      case 'enum': {
        const allowed = (p.allowedValues as unknown[]).map(String);
        const near = typeof e.data === 'string' ? nearest(e.data, allowed) : undefined;
        problems.add(invalid, `expected one of ${allowed.join(', ')}, got ${got}${near ? ` (did you mean '${near}'?)` : ''}`, path);
        break;
      }
      case 'pattern':
        problems.add(invalid, `expected ${schema?.['x-expected'] ?? `a string matching ${String(p.pattern)}`}, got ${got}`, path);
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        problems.add(invalid, `expected a number ${String(p.comparison)} ${String(p.limit)}, got ${got}`, path);
        break;
      case 'minItems':
        problems.add(invalid, `expected at least ${String(p.limit)} item(s), got none`, path);
        break;
      case 'uniqueItems':
        problems.add(invalid, `items ${String(p.j)} and ${String(p.i)} are the same`, path);
        break;
      case 'minLength':
        problems.add(invalid, 'expected a non-empty string', path);
        break;
      case 'maxLength':
        problems.add(invalid, `expected at most ${String(p.limit)} characters`, path);
        break;
      default:
        problems.add(invalid, e.message ?? 'invalid value', path);
    }
  }
}

function article(type: string): string {
  return type === 'object' ? 'a mapping' : type === 'array' ? 'a list' : /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** A value, short, for a message. */
export function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'boolean') return String(v);
  return typeName(v);
}

/** A URL-like string with any `user:password@` replaced, so that a message never shows a password. */
export function withoutUserInfo(s: string): string {
  return s.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@');
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return article(typeof v);
}

function schemaAt(path: Path): SchemaNode | undefined {
  let s: SchemaNode | undefined = ConfigSchema as unknown as SchemaNode;
  for (const k of path) s = typeof k === 'number' ? s?.items : s?.properties?.[k];
  return s;
}

/** Every object in the schema with its key path in the docs' form (`subjects[].ref`). */
function objectsOf(node: SchemaNode, prefix: string, out: Array<[string, SchemaNode]>): Array<[string, SchemaNode]> {
  if (node.properties) {
    out.push([prefix, node]);
    for (const [k, child] of Object.entries(node.properties)) objectsOf(child, prefix ? `${prefix}.${k}` : k, out);
  }
  if (node.items) objectsOf(node.items, `${prefix}[]`, out);
  return out;
}
const OBJECTS = objectsOf(ConfigSchema as unknown as SchemaNode, '', []);

/**
 * The key that an unknown key was probably meant to be: a near key of the same object (a
 * typo, or camelCase for snake_case), else the same key in another section (`hub.url` for
 * `broker.url`).
 */
export function suggestKey(key: string, path: Path): string | undefined {
  const here = Object.keys(schemaAt(path)?.properties ?? {});
  const near = nearest(key, here);
  if (near) return near;
  const other = OBJECTS.find(([, node]) => node !== schemaAt(path) && Object.hasOwn(node.properties ?? {}, key));
  return other ? (other[0] ? `${other[0]}.${key}` : key) : undefined;
}

/** The nearest of `known` to `word`, if any is close enough to be a slip: within 2 edits, or 1 for short words. */
export function nearest(word: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();
  const w = norm(word);
  const limit = w.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestD = limit + 1;
  for (const k of known) {
    const d = editDistance(w, norm(k));
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

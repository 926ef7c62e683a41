import { LineCounter, parseDocument, visit } from 'yaml';
import { TwinedgeError, type ErrorCode } from '../ops/errors.js';
import { Locator } from './locate.js';
import { Problems } from './problems.js';

/**
 * Reading a YAML file that people write by hand (the config, device profiles) into plain JSON
 * values, with a Locator that places later problems at their line. The file's kind chooses the
 * codes its problems get.
 */
export interface YamlCodes {
  /** Not YAML, or YAML that cannot be a plain value (an alias cycle, unknown anchors). */
  readonly syntax: ErrorCode;
  /** A value of a kind JSON has no word for (a tagged !!binary buffer, a date). */
  readonly invalid: ErrorCode;
}

/** A file the YAML cannot hold anything worse than: a few aliases, no "billion laughs". */
const MAX_ALIASES = 100;

export type ParsedYaml =
  | { data: unknown; locator: Locator; copyProblems: Problems }
  | { problems: TwinedgeError[] };

/**
 * Parses YAML text as if read from `file`. Syntax problems come back as a list, each at its
 * line. Otherwise `data` is a plain copy (see plainCopy) and `copyProblems` holds what copying
 * found; the caller adds its own problems to that same list.
 */
export function parseYaml(text: string, file: string, codes: YamlCodes): ParsedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
  // An unknown tag is only a warning to the parser; these files have no use for one.
  const bad = [...doc.errors, ...doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED')]
    .map((e) => ({ message: e.message.split('\n')[0]!, at: e.pos[0] }));
  // The parser leaves an alias without an anchor for toJS to throw on, without a position.
  visit(doc, {
    Alias(_, alias) {
      if (!alias.resolve(doc)) bad.push({ message: `unknown alias *${alias.source}: its anchor &${alias.source} must come before it`, at: alias.range?.[0] ?? 0 });
    },
  });
  if (bad.length > 0) {
    bad.sort((a, b) => a.at - b.at);
    return { problems: bad.map((e) => new TwinedgeError(codes.syntax, e.message, { file, line: lines.linePos(e.at).line })) };
  }
  const locator = new Locator(doc, lines);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    return { problems: [new TwinedgeError(codes.syntax, (e as Error).message, { file, line: locator.valueLine([]) })] };
  }
  const copyProblems = new Problems(file, locator);
  return { data: plainCopy(raw, copyProblems, codes), locator, copyProblems };
}

/**
 * A copy of parsed YAML as plain JSON values. YAML can make what JSON cannot: a value an alias
 * shares with another key (copied, so that filling defaults in one leaves the other alone), an
 * alias inside its own anchor (a cycle), and tagged values such as !!binary buffers. Each of the
 * last two is reported and becomes null, so that the schema's error for that key is the only one.
 */
export function plainCopy(v: unknown, problems: Problems, codes: YamlCodes): unknown {
  return copy(v, [], new Set(), problems, codes);
}

function copy(v: unknown, path: (string | number)[], within: Set<object>, problems: Problems, codes: YamlCodes): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (within.has(v)) {
    problems.add(codes.syntax, 'an alias refers to a mapping or list that contains it', path);
    return null;
  }
  const plainObject = Object.getPrototypeOf(v) === Object.prototype;
  if (!Array.isArray(v) && !plainObject) {
    problems.add(codes.invalid, `expected a plain value, got ${v.constructor?.name ?? 'an object'} (from a YAML tag)`, path);
    return null;
  }
  within.add(v);
  let out: unknown;
  if (Array.isArray(v)) {
    out = v.map((x, i) => copy(x, [...path, i], within, problems, codes));
  } else {
    const o: Record<string, unknown> = {};
    // defineProperty, so that a key named __proto__ stays a key (and is refused as unknown).
    for (const [k, x] of Object.entries(v)) Object.defineProperty(o, k, { value: copy(x, [...path, k], within, problems, codes), enumerable: true, writable: true, configurable: true });
    out = o;
  }
  within.delete(v);
  return out;
}

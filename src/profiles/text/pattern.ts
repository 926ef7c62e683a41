/**
 * Lines read with a JavaScript regular expression whose named groups are the fields, e.g.
 * "Light: (?<illuminance>\d+(?:\.\d+)?) lx" for "Light: 123.50 lx".
 *
 * - The expression must match the whole line (it is anchored at both ends); else LINE_NO_MATCH.
 * - Flags: any of 'i', 's', 'u'.
 * - Every named group is a field. A group that took no part in the match or matched nothing is
 *   LINE_MISSING_FIELD, unless it is listed as optional: then it is left out of the fields.
 *
 * Checked at compile time, cheaply, against expressions that can take exponential time on a bad
 * line: a repeated group (quantifier +, * or {n,m} with m > 1) that itself holds a variable
 * quantifier, as "(a+)+" or "(?:\d+,)*", or an alternation, as "(a|a)*" (its branches may match
 * the same text, and a line that fails makes the engine try every way of splitting it between
 * them; "[ab]*" says "(a|b)*" safely), is refused, and so are backreferences. The lines come from
 * devices, so they are hostile input; the expressions are an engineer's, so this is a guard
 * against the usual mistakes, not a proof that every accepted expression is fast.
 */
import {
  checkFieldName, checkNameList, checkOptionKeys, fieldValue, LINE_ERRORS, lineError, numericFlags,
  type FieldValue, type LineOptionsBase, type TextLineParser,
} from './line-common.js';

export interface PatternOptions extends LineOptionsBase {
  readonly kind: 'pattern';
  /** The expression's source, as written between slashes. */
  readonly regex: string;
  readonly flags?: string;
  /** Named groups that may be absent. */
  readonly optional?: readonly string[];
}

const OPTION_KEYS = ['kind', 'regex', 'flags', 'optional', 'numeric', 'checksum'];

interface Quantifier {
  /** Where the source continues after it (and after a lazy '?'). */
  readonly end: number;
  /** It may match a varying number of times: ?, *, +, {n,}, {n,m} with m != n. */
  readonly variable: boolean;
  /** It may match more than once: *, +, {n,} or {n,m} with m > 1. */
  readonly repeats: boolean;
}

const BRACES = /\{(\d+)(,(\d*))?\}/y;

/** The quantifier at i, if there is one. A '{' that does not start one is a literal. */
function quantifierAt(source: string, i: number): Quantifier | undefined {
  const c = source[i];
  let end: number;
  let variable = true;
  let repeats = true;
  if (c === '*' || c === '+') end = i + 1;
  else if (c === '?') { end = i + 1; repeats = false; }
  else if (c === '{') {
    BRACES.lastIndex = i;
    const m = BRACES.exec(source);
    if (m === null) return undefined;
    end = i + m[0].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    variable = max !== min;
    repeats = max > 1;
  } else return undefined;
  if (source[end] === '?') end++;
  return { end, variable, repeats };
}

/**
 * Walks the source once: returns the named groups in order, and throws a TypeError for a nested
 * quantifier or a backreference. The source has already compiled, so its syntax is sound.
 */
function scan(source: string, what: string): string[] {
  const names: string[] = [];
  // For each open group (the whole expression at the bottom): whether it holds a variable quantifier.
  const open: boolean[] = [false];
  // Whether the atom just read is a group holding a variable quantifier; null after '|', '(' or a quantifier.
  let last: 'atom' | 'group' | 'group-variable' | null = null;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const e = source[i + 1] ?? '';
      if (/[1-9]/.test(e) || (e === 'k' && source[i + 2] === '<')) throw new TypeError(`${what}: backreferences are not allowed (${source.slice(i, i + 4)}...)`);
      if ((e === 'p' || e === 'P' || e === 'u') && source[i + 2] === '{') {
        const close = source.indexOf('}', i + 3);
        i = close < 0 ? source.length : close + 1;
      } else i += e === 'c' ? 3 : 2;
      last = 'atom';
    } else if (c === '[') {
      let j = i + 1;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      i = j + 1;
      last = 'atom';
    } else if (c === '(') {
      if (source[i + 1] === '?') {
        if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
          const close = source.indexOf('>', i + 3);
          names.push(source.slice(i + 3, close));
          i = close + 1;
        } else i += 3; // (?: (?= (?! ; (?<= (?<! go on with '=' or '!' read as a literal, harmlessly
      } else i += 1;
      open.push(false);
      last = null;
    } else if (c === ')') {
      const variable = open.pop() ?? false;
      if (variable && open.length > 0) open[open.length - 1] = true;
      last = variable ? 'group-variable' : 'group';
      i++;
    } else if (c === '|') {
      // A group with branches is as dangerous to repeat as one with a variable quantifier.
      open[open.length - 1] = true;
      last = null;
      i++;
    } else {
      const q = last === null ? undefined : quantifierAt(source, i);
      if (q === undefined) {
        last = 'atom';
        i++;
        continue;
      }
      if (last === 'group-variable' && q.repeats) {
        throw new TypeError(`${what}: a repeated group holds a quantifier or alternatives ("${source.slice(0, q.end)}"), which can take exponential time on a line that does not match; rewrite it without the nesting (a character class such as [ab]+ for (a|b)+)`);
      }
      if (q.variable && open.length > 0) open[open.length - 1] = true;
      last = null;
      i = q.end;
    }
  }
  return names;
}

/** The named groups of a pattern's expression, in order: the fields its lines give. */
export function patternGroupNames(source: string): string[] {
  return scan(source, 'pattern line');
}

export function compilePattern(options: PatternOptions): TextLineParser {
  const what = 'pattern line';
  checkOptionKeys(options, OPTION_KEYS, what);
  const { regex: source, flags = '' } = options;
  if (typeof source !== 'string' || source.length === 0) throw new TypeError(`${what}: regex must be a non-empty string`);
  if (typeof flags !== 'string' || !/^[isu]*$/.test(flags) || new Set(flags).size !== flags.length) throw new TypeError(`${what}: flags may be 'i', 's' and 'u', each once, not ${JSON.stringify(flags)}`);
  let re: RegExp;
  try {
    // Alone first: a source such as "a)|(b" would otherwise escape the anchoring group below.
    new RegExp(source, flags);
    re = new RegExp(`^(?:${source})$`, flags);
  } catch (error) {
    throw new TypeError(`${what}: regex does not compile: ${(error as Error).message}`);
  }
  const names = scan(source, what);
  if (names.length === 0) throw new TypeError(`${what}: regex has no named group, so a line would give no field; name them as (?<name>...)`);
  for (const name of names) checkFieldName(name, `${what} group`);
  const optionalNames = checkNameList(options.optional, 'optional', what);
  for (const name of optionalNames) {
    if (!names.includes(name)) throw new TypeError(`${what}: optional names '${name}', which is not a group of the regex (${names.join(', ')})`);
  }
  const optional = names.map((name) => optionalNames.includes(name));
  const numeric = numericFlags(options.numeric, names, what);

  return (text) => {
    const m = re.exec(text);
    if (m === null) return lineError(LINE_ERRORS.NO_MATCH, 'the line does not match the pattern');
    const groups = m.groups!;
    const fields: Record<string, FieldValue> = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const raw = groups[name];
      if (raw === undefined || raw.length === 0) {
        if (optional[i]) continue;
        return lineError(LINE_ERRORS.MISSING_FIELD, `${name} matched nothing`, { field: name });
      }
      const value = fieldValue(raw, numeric[i]!, name);
      if (typeof value === 'object') return value;
      fields[name] = value;
    }
    return { fields };
  };
}

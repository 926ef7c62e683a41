// What the fuzz suites share: how many cases to run, with which seed, and the checks of "a clear
// error". A suite is one target; each of its properties is one test, and the suite reports the
// cases it ran as a test diagnostic (`fuzz <target>: N cases`), also appended as a JSON line to
// the file TWINEDGE_FUZZ_REPORT names, which `npm run fuzz` sums per target.
//
// TWINEDGE_FUZZ_SCALE multiplies every property's default number of cases (default 1: all the
// suites together take seconds); TWINEDGE_FUZZ_SEED sets the seed (default a constant, so that a
// plain `npm test` is reproducible). A failure prints the seed and fast-check's replay path.
import { after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { ERROR_CODES, TwinedgeError } from '../../src/ops/errors.js';

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new TypeError(`${name} must be a positive number, not '${text}'`);
  return n;
}

const SCALE = positive('TWINEDGE_FUZZ_SCALE', process.env.TWINEDGE_FUZZ_SCALE, 1);
const DEFAULT_SEED = 20260501;
export const FUZZ_SEED = (() => {
  const text = process.env.TWINEDGE_FUZZ_SEED;
  if (text === undefined || text === '') return DEFAULT_SEED;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new TypeError(`TWINEDGE_FUZZ_SEED must be an integer, not '${text}'`);
  return n | 0;
})();
/**
 * Time after which a property stops starting new cases (it finishes the one under way). A safety
 * net for large scales, never an assertion: the counts reported say how many cases did run.
 */
const TIME_LIMIT_MS = positive('TWINEDGE_FUZZ_TIME_LIMIT_S', process.env.TWINEDGE_FUZZ_TIME_LIMIT_S, 120) * 1000;
const REPORT = process.env.TWINEDGE_FUZZ_REPORT;

/** Options for node:test: a hang in an async property ends the test instead of the whole run. */
export const FUZZ_TEST = { timeout: Math.max(600_000, TIME_LIMIT_MS * 3) };

export interface FuzzTarget {
  /**
   * Runs a property `base * TWINEDGE_FUZZ_SCALE` times (at least once) and counts its cases
   * toward this target. Fails the test with fast-check's report (counterexample, seed, path).
   */
  check<Ts extends [unknown, ...unknown[]]>(t: TestContext, property: fc.IRawProperty<Ts>, base: number): Promise<void>;
}

/** One suite's target: its name is what the counts are reported under. */
export function fuzzTarget(target: string): FuzzTarget {
  let total = 0;
  after((t) => {
    const line = `fuzz ${target}: ${total} cases (seed ${FUZZ_SEED}, scale ${SCALE})`;
    if ('diagnostic' in t) t.diagnostic(line);
    else console.log(line);
    if (REPORT) appendFileSync(REPORT, `${JSON.stringify({ target, cases: total, seed: FUZZ_SEED, scale: SCALE })}\n`);
  });
  return {
    async check(t, property, base) {
      const numRuns = Math.max(1, Math.round(base * SCALE));
      const details = await fc.check(property, {
        seed: FUZZ_SEED,
        numRuns,
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        markInterruptAsFailure: false,
      });
      total += details.numRuns;
      t.diagnostic(`fuzz ${target} / ${t.name}: ${details.numRuns} cases`);
      if (details.failed) {
        const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
        assert.fail(`${fc.defaultReportMessage(details) ?? 'property failed'}\nWhat failed: ${cause}\nreplay with TWINEDGE_FUZZ_SEED=${details.seed} (fast-check path ${details.counterexamplePath ?? ''})`);
      }
    },
  };
}

/** What V8 says when code trips over a value: never acceptable as a message to a person. */
export const ENGINE_MESSAGE = /Cannot read propert|Cannot set propert|Cannot create propert|is not a function|is not iterable|is not defined|Maximum call stack|Invalid array length|Cannot convert|index out of range|Invalid (string length|typed array)/;

/**
 * What a call made with arbitrary input threw must be a TwinedgeError with a code of the table;
 * anything else (a TypeError or RangeError from inside) is a bug.
 */
export function assertClearError(e: unknown, codes?: readonly string[]): asserts e is TwinedgeError {
  if (!(e instanceof TwinedgeError)) assert.fail(`not a TwinedgeError: ${e instanceof Error ? e.stack : String(e)}`);
  assert.ok(Object.hasOwn(ERROR_CODES, e.code), `unknown code ${e.code}`);
  if (codes) assert.ok(codes.includes(e.code), `code ${e.code}, expected one of ${codes.join(', ')}`);
  assert.ok(e.message.length > 0, 'an error without a message');
  assert.doesNotMatch(e.message, ENGINE_MESSAGE);
}

/** A per-packet problem record (decoders, line parsers, framings): a stable code and a message. */
export function assertIssue(issue: { code: string; message: string; byteOffset?: number }, prefixes: readonly string[], length?: number): void {
  assert.match(issue.code, /^[A-Z]+_[A-Z0-9_]+$/, JSON.stringify(issue));
  assert.ok(prefixes.some((p) => issue.code.startsWith(`${p}_`)), `code ${issue.code} is none of ${prefixes.join(', ')}`);
  assert.equal(typeof issue.message, 'string');
  assert.ok(issue.message.length > 0, `${issue.code} without a message`);
  if (issue.byteOffset !== undefined) {
    assert.ok(Number.isInteger(issue.byteOffset) && issue.byteOffset >= 0, `byteOffset ${issue.byteOffset}`);
    if (length !== undefined) assert.ok(issue.byteOffset <= length, `byteOffset ${issue.byteOffset} past the ${length} bytes`);
  }
}

/** Bytes with one bit flipped (a copy). */
export function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/**
 * Damage done to a valid input on its way: bits flipped, bytes cut off either end, bytes
 * inserted, removed or repeated. Keeps the input recognisable, so that the decoder gets past its
 * first checks, which arbitrary bytes rarely do.
 */
export function mutated(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  type Edit =
    | { op: 'flip'; at: number; bit: number }
    | { op: 'cut-end'; n: number }
    | { op: 'cut-start'; n: number }
    | { op: 'insert'; at: number; bytes: Uint8Array }
    | { op: 'remove'; at: number; n: number }
    | { op: 'repeat'; at: number; n: number }
    | { op: 'set'; at: number; value: number };
  const edit: fc.Arbitrary<Edit> = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
    fc.record({ op: fc.constant('cut-end' as const), n: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ op: fc.constant('cut-start' as const), n: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
    fc.record({ op: fc.constant('remove' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 24 }) }),
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x2a, 0x24) }),
  );
  return fc.tuple(base, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([input, edits]) => {
    let b: Uint8Array = Uint8Array.from(input);
    for (const e of edits) {
      const at = 'at' in e ? e.at % (b.length + 1) : 0;
      switch (e.op) {
        case 'flip': if (b.length > 0) b = flip(b, (at % b.length) * 8 + e.bit); break;
        case 'cut-end': b = b.subarray(0, Math.max(0, b.length - e.n)); break;
        case 'cut-start': b = b.subarray(Math.min(b.length, e.n)); break;
        case 'insert': b = Uint8Array.from([...b.subarray(0, at), ...e.bytes, ...b.subarray(at)]); break;
        case 'remove': b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + e.n)]); break;
        case 'repeat': b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at, at + e.n), ...b.subarray(at)]); break;
        case 'set': if (b.length > 0) { b = Uint8Array.from(b); b[at % b.length] = e.value; } break;
      }
    }
    return Uint8Array.from(b);
  });
}

/** A stream cut into chunks at arbitrary points: the cut positions, sorted and distinct. */
export function chunked(stream: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (stream.length === 0 ? 0 : c % (stream.length + 1))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) out.push(stream.subarray(from, p));
    from = Math.max(from, p);
  }
  if (from < stream.length || out.length === 0) out.push(stream.subarray(from));
  return out;
}

/** Every key a JSON schema (TypeBox) knows, at any depth, so that generated objects reach deep into it. */
export function schemaKeys(node: unknown, out = new Set<string>()): Set<string> {
  if (node && typeof node === 'object') {
    const n = node as { properties?: Record<string, unknown>; items?: unknown; anyOf?: unknown[] };
    for (const [k, v] of Object.entries(n.properties ?? {})) { out.add(k); schemaKeys(v, out); }
    if (n.items) schemaKeys(n.items, out);
    for (const v of n.anyOf ?? []) schemaKeys(v, out);
  }
  return out;
}

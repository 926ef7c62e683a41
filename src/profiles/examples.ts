/**
 * Runs a profile's examples: each input through the profile's real decoding, its samples and
 * error codes compared with what the example expects. `twinedge profiles test` and the test
 * suite both run them, so a profile's documentation is also its test.
 */
import type { Profile, ProfileDecode, SampleValue } from './profile.js';
import type { ExampleSpec } from './schema.js';

export interface ExampleResult {
  readonly profile: string;
  readonly example: string;
  readonly ok: boolean;
  /** Why it failed: what was expected and what came out. Empty when ok. */
  readonly problems: readonly string[];
}

/** The bytes of an example's input: its hex, or its text as UTF-8. */
export function exampleInput(ex: ExampleSpec): Uint8Array {
  if (ex.hex !== undefined) return Buffer.from(ex.hex.replace(/[\s:]/g, ''), 'hex');
  return Buffer.from(ex.text ?? '', 'utf8');
}

/** Relative difference allowed when an example gives no tolerance: decimal literals, not bits. */
const DEFAULT_RELATIVE = 1e-9;

function close(actual: number, expected: number, tolerance: number | undefined): boolean {
  const allowed = tolerance ?? DEFAULT_RELATIVE * Math.max(1, Math.abs(expected));
  return Math.abs(actual - expected) <= allowed;
}

function matches(actual: SampleValue, expected: SampleValue, tolerance: number | undefined): boolean {
  if (typeof expected === 'boolean' || typeof actual === 'boolean') return actual === expected;
  if (typeof expected === 'number') return typeof actual === 'number' && close(actual, expected, tolerance);
  return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => close(actual[i]!, e, tolerance));
}

const show = (v: unknown) => JSON.stringify(v);

export function runExample(profile: Profile, ex: ExampleSpec): ExampleResult {
  const out: ProfileDecode = profile.decode(exampleInput(ex), ex.source);
  const problems: string[] = [];
  const codes = out.errors.map((e) => e.code);
  if (ex.rejected !== undefined) {
    if (out.samples.length > 0) problems.push(`expected rejection with ${ex.rejected}, got samples ${show(out.samples.map((s) => [s.channel, s.value]))}`);
    if (!codes.includes(ex.rejected)) problems.push(`expected error ${ex.rejected}, got ${codes.length ? codes.join(', ') : 'no error'}${out.errors[0] ? ` (${out.errors[0].message})` : ''}`);
  } else {
    const expected = ex.samples ?? [];
    const got = out.samples;
    const n = Math.max(expected.length, got.length);
    for (let i = 0; i < n; i++) {
      const e = expected[i];
      const g = got[i];
      if (!e) problems.push(`unexpected sample ${i + 1}: ${g!.channel} = ${show(g!.value)}`);
      else if (!g) problems.push(`missing sample ${i + 1}: ${e.channel} = ${show(e.value)}`);
      else if (g.channel !== e.channel || !matches(g.value, e.value, e.tolerance)) problems.push(`sample ${i + 1}: expected ${e.channel} = ${show(e.value)}, got ${g.channel} = ${show(g.value)}`);
    }
    const expectedCodes = ex.errors ?? [];
    if (show(codes) !== show(expectedCodes)) {
      problems.push(`expected errors ${expectedCodes.length ? expectedCodes.join(', ') : 'none'}, got ${codes.length ? out.errors.map((x) => `${x.code} (${x.message})`).join(', ') : 'none'}`);
    }
  }
  return { profile: profile.id, example: ex.name, ok: problems.length === 0, problems };
}

export function runExamples(profile: Profile): ExampleResult[] {
  return profile.examples.map((ex) => runExample(profile, ex));
}

// Suites that need a Debian tool (mosquitto, socat, openssl, protoc) skip where it is missing and
// say which package brings it; with TWINEDGE_REQUIRE_ALL=1 (CI) a missing tool is a failure.
import { test } from 'node:test';
import { installHint, toolPath } from './tool-path.js';

/** True when CI asked for every suite to run (TWINEDGE_REQUIRE_ALL=1). */
export function requireAll(): boolean {
  return process.env.TWINEDGE_REQUIRE_ALL === '1';
}

const reported = new Set<string>();

/**
 * For node:test's `skip` option:
 *
 *   test('...', { skip: requireTool('mosquitto') }, async () => { ... });
 *
 * Returns undefined when every tool named is installed, else a reason naming the missing tools
 * and their Debian packages, so the test is skipped visibly. Under TWINEDGE_REQUIRE_ALL=1 it
 * also registers, once per missing tool and test file, a test named after the tool that fails
 * with the same reason: the run fails and says why, while the suite itself stays skipped rather
 * than failing later on a confusing ENOENT. It is called while tests are being declared, so the
 * failing test lands beside the skipped one (at top level, or in the same describe()).
 */
export function requireTool(...names: string[]): string | undefined {
  const missing = names.filter((n) => toolPath(n) === undefined);
  if (missing.length === 0) return undefined;
  const reason = `needs ${missing.map(installHint).join(', ')}`;
  if (requireAll()) {
    for (const name of missing) {
      if (reported.has(name)) continue;
      reported.add(name);
      test(`required tool ${name} is installed`, () => {
        throw new Error(`TWINEDGE_REQUIRE_ALL=1 and ${installHint(name)} is missing`);
      });
    }
  }
  return reason;
}

/** The same as requireTool; reads well in `{ skip: skipUnless('mosquitto') }`. */
export const skipUnless = requireTool;

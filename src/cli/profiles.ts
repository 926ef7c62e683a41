import { TwinedgeError } from '../ops/errors.js';
import { runExamples } from '../profiles/examples.js';
import { parseCommandArgs } from './args.js';
import { loadProfiles, profileDirs } from './profile-dirs.js';

/**
 * twinedge profiles validate [DIR...]   check every profile file; list the good ones
 * twinedge profiles test [DIR...]       and run every example of the good ones
 *
 * Without DIR, the profiles shipped with twinedge. Problems go to stderr, one line each with
 * file:line and field. Exit 2 when a profile is refused, else 1 when an example failed, else 0.
 */
export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'validate' && sub !== 'test') throw new TwinedgeError('USAGE_BAD_ARGUMENT', `profiles: expected 'validate' or 'test', got '${sub ?? ''}'`);
  const { positionals } = parseCommandArgs(`profiles ${sub}`, rest, {}, true);
  const loaded = await loadProfiles(profileDirs(positionals));
  const profiles = [...loaded.profiles.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  let failed = 0;
  let examples = 0;
  for (const p of profiles) {
    if (sub === 'validate') {
      process.stdout.write(`ok   ${p.id} ${p.version}  ${p.file}\n`);
      continue;
    }
    for (const r of runExamples(p)) {
      examples++;
      if (r.ok) {
        process.stdout.write(`ok   ${p.id}: ${r.example}\n`);
      } else {
        failed++;
        process.stdout.write(`FAIL ${p.id}: ${r.example}\n`);
        for (const why of r.problems) process.stdout.write(`       ${p.file}: ${why}\n`);
      }
    }
  }
  for (const e of loaded.problems) process.stderr.write(`${e.toLine()}\n`);
  const summary = sub === 'validate'
    ? `${profiles.length} profile(s) valid, ${loaded.problems.length} problem(s) in ${loaded.files.length} file(s)`
    : `${examples} example(s) in ${profiles.length} profile(s): ${examples - failed} passed, ${failed} failed${loaded.problems.length ? `; ${loaded.problems.length} problem(s) kept profiles out` : ''}`;
  process.stdout.write(`${summary}\n`);
  if (loaded.problems.length > 0) return 2;
  return failed > 0 ? 1 : 0;
}

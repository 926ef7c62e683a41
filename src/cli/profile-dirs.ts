import { TwinedgeError } from '../ops/errors.js';
import { loadProfiles, SHIPPED_PROFILES_DIR, type LoadedProfiles } from '../profiles/load.js';
import type { Profile } from '../profiles/profile.js';

/** The folders a command reads profiles from: those given with --profiles, else the shipped ones. */
export function profileDirs(given: readonly string[] | undefined): string[] {
  return given && given.length > 0 ? [...given] : [SHIPPED_PROFILES_DIR];
}

/** The profile with this id, or PROFILE_UNKNOWN saying which ids there are and whether files were refused. */
export function findProfile(loaded: LoadedProfiles, id: string): Profile {
  const p = loaded.profiles.get(id);
  if (p) return p;
  const refused = loaded.problems.length > 0 ? `; ${loaded.problems.length} problem(s) kept some profiles out: run twinedge profiles validate` : '';
  throw new TwinedgeError('PROFILE_UNKNOWN', `no profile '${id}'; known: ${[...loaded.profiles.keys()].sort().join(', ') || 'none'}${refused}`);
}

export { loadProfiles };

/**
 * Loads device profiles from folders of YAML files. A bad file is reported with its file, line
 * and field, and skipped; the good ones are returned. Two files with one id are both refused,
 * each error naming the other file: which one was meant is not the loader's guess to make.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { addSchemaErrors } from '../config/problems.js';
import { parseYaml } from '../config/yaml-document.js';
import { TwinedgeError } from '../ops/errors.js';
import { PACKAGE_ROOT } from '../ops/package-root.js';
import { compileProfile, PROFILE_ERROR_STYLE } from './compile.js';
import type { Profile } from './profile.js';
import { ProfileSchema, type ProfileFile } from './schema.js';

/** The profiles that ship with twinedge: device-profiles/ at the package root. */
export const SHIPPED_PROFILES_DIR = join(PACKAGE_ROOT, 'device-profiles');

const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true });
ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
const validate = ajv.compile(ProfileSchema);

const YAML_CODES = { syntax: 'PROFILE_YAML_SYNTAX', invalid: 'PROFILE_INVALID' } as const;

export interface LoadedProfiles {
  /** Good profiles by id. */
  readonly profiles: ReadonlyMap<string, Profile>;
  /** Every problem, each with its file and line; the files concerned are not in `profiles`. */
  readonly problems: readonly TwinedgeError[];
  /** Profile files read. */
  readonly files: readonly string[];
}

/** Every .yaml or .yml file under `dir`, in a stable order. */
async function profileFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await profileFiles(p));
    // Regular files only (or links to them): reading a FIFO or a device named *.yaml would hang the load.
    else if (/\.ya?ml$/.test(e.name) && (e.isFile() || (e.isSymbolicLink() && (await stat(p).catch(() => undefined))?.isFile()))) out.push(p);
  }
  return out;
}

/** One profile from its text, as if read from `file`. */
export function parseProfile(text: string, file: string): { profile: Profile; idLine: number } | { problems: TwinedgeError[] } {
  const parsed = parseYaml(text, file, YAML_CODES);
  if ('problems' in parsed) return parsed;
  const problems = parsed.copyProblems;
  const data = parsed.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { problems: [new TwinedgeError('PROFILE_INVALID', 'expected a mapping (id, version, title, transport, channels, decode, examples)', { file, line: 1 })] };
  }
  if (!validate(data)) addSchemaErrors(problems, validate.errors ?? [], data, PROFILE_ERROR_STYLE);
  const profile = problems.list.length === 0 ? compileProfile(data as ProfileFile, file, problems) : undefined;
  if (!profile) return { problems: problems.sorted() };
  return { profile, idLine: parsed.locator.valueLine(['id']) };
}

/**
 * Loads every profile under the folders given, in order. A folder that cannot be read is a
 * problem too (PROFILE_INVALID naming it), not an exception: the other folders still load.
 */
export async function loadProfiles(dirs: readonly string[], shownFrom = process.cwd()): Promise<LoadedProfiles> {
  const problems: TwinedgeError[] = [];
  const files: string[] = [];
  for (const dir of dirs) {
    try {
      files.push(...await profileFiles(resolve(dir)));
    } catch (e) {
      problems.push(new TwinedgeError('PROFILE_INVALID', `cannot read the profile folder: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: dir }));
    }
  }
  const byId = new Map<string, Array<{ profile: Profile; idLine: number }>>();
  for (const path of files) {
    const shown = relative(shownFrom, path) || path;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      problems.push(new TwinedgeError('PROFILE_INVALID', `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: shown }));
      continue;
    }
    const r = parseProfile(text, shown);
    if ('problems' in r) {
      problems.push(...r.problems);
      continue;
    }
    const same = byId.get(r.profile.id) ?? [];
    same.push(r);
    byId.set(r.profile.id, same);
  }
  const profiles = new Map<string, Profile>();
  for (const [id, list] of byId) {
    if (list.length === 1) {
      profiles.set(id, list[0]!.profile);
      continue;
    }
    for (const { profile, idLine } of list) {
      const others = list.filter((o) => o.profile !== profile).map((o) => o.profile.file).join(', ');
      problems.push(new TwinedgeError('PROFILE_DUPLICATE_ID', `profile id '${id}' is also declared in ${others}; none of them is used`, { file: profile.file, line: idLine }));
    }
  }
  return { profiles, problems, files };
}

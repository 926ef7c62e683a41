import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../src/config/load.js';

export const FILE = '/srv/twinedge/config.yaml';

export interface Seen {
  code: string;
  line: number | undefined;
  keyPath: string | undefined;
}

/** The problems of a config text (which must be refused), as code, line and key path. */
export async function problemsOf(text: string, env: Record<string, string> = {}, file = FILE): Promise<Seen[]> {
  const e = await refusal(text, env, file);
  return e.problems.map((p) => ({ code: p.code, line: p.place.line, keyPath: p.place.keyPath }));
}

/** The ConfigError that refuses a config text. */
export async function refusal(text: string, env: Record<string, string> = {}, file = FILE): Promise<ConfigError> {
  try {
    await parseConfig(text, file, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    assert.ok(e.problems.length > 0);
    return e;
  }
  return assert.fail(`the config was accepted:\n${text}`);
}

/** Lines joined with newlines, so tests can count them. */
export const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

/** A fresh folder, removed when the test ends. */
export async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

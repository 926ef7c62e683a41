import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What tempDir needs of a node:test context (TestContext, SuiteContext hooks). */
export interface AfterHook {
  after(fn: () => Promise<void> | void): void;
}

export interface TempDir {
  readonly path: string;
  /** Removes the folder and everything in it; calling it again does nothing. */
  remove(): Promise<void>;
}

/** A fresh folder under the OS temp folder; the caller removes it. */
export async function makeTempDir(prefix = 'twinedge-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * A fresh folder under the OS temp folder, removed when the test ends (passed or failed):
 *
 *   test('...', async (t) => { const dir = await tempDir(t); ... });
 */
export async function tempDir(t: AfterHook, prefix = 'twinedge-'): Promise<string> {
  const dir = await makeTempDir(prefix);
  t.after(() => dir.remove());
  return dir.path;
}

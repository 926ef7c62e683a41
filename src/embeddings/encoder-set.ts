/**
 * The encoders a hub runs: one per modality, from every `*.manifest.json` in the folders given
 * (the shipped models first, then the config's; a later one for the same modality wins). Each
 * model file is watched: a changed model is loaded beside the running one and takes over only
 * once it has loaded and warmed up, and the change is logged with the new SHA-256. A model
 * that fails to load leaves the encoder it would replace running.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../ops/log.js';
import { PACKAGE_ROOT } from '../ops/package-root.js';
import { Encoder, type EncoderOptions } from './encoder.js';

/** The encoders shipped with twinedge, built by scripts/build-encoders.ts. */
export const SHIPPED_ENCODERS_DIR = join(PACKAGE_ROOT, 'src', 'embeddings', 'models');

export interface EncoderInfo {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly modality: string;
}

export class EncoderSet {
  readonly #byModality = new Map<string, Encoder>();
  readonly #log: Logger;
  readonly #options: EncoderOptions;
  readonly #watched: string[] = [];
  readonly #watchIntervalMs: number;

  private constructor(log: Logger, options: EncoderOptions, watchIntervalMs: number) {
    this.#log = log;
    this.#options = options;
    this.#watchIntervalMs = watchIntervalMs;
  }

  /**
   * Loads the encoders of `dirs`. A manifest or model that cannot be used is logged and skipped
   * (ENCODER_INVALID): the hub runs without that encoder rather than not at all.
   */
  static async load(dirs: readonly string[], log: Logger, options: EncoderOptions & { watchIntervalMs?: number }): Promise<EncoderSet> {
    const set = new EncoderSet(log, options, options.watchIntervalMs ?? 5000);
    for (const dir of dirs) {
      let names: string[];
      try {
        names = (await readdir(dir)).filter((n) => n.endsWith('.manifest.json')).sort();
      } catch (e) {
        log.warn({ dir, err: (e as NodeJS.ErrnoException).code ?? String(e) }, 'encoder folder cannot be read');
        continue;
      }
      for (const name of names) {
        try {
          const encoder = await Encoder.load(join(dir, name), options);
          const before = set.#byModality.get(encoder.manifest.modality);
          if (before) await before.release();
          set.#byModality.set(encoder.manifest.modality, encoder);
        } catch (e) {
          log.error({ file: join(dir, name), err: (e as Error).message, code: (e as { code?: string }).code }, 'encoder not loaded');
        }
      }
    }
    for (const e of set.#byModality.values()) {
      set.#watch(e);
      log.info({ encoder: e.manifest.name, version: e.manifest.version, modality: e.manifest.modality, sha256: e.sha256 }, 'encoder loaded');
    }
    return set;
  }

  get encoders(): Encoder[] {
    return [...this.#byModality.values()];
  }

  info(): EncoderInfo[] {
    return this.encoders.map((e) => ({ name: e.manifest.name, version: e.manifest.version, sha256: e.sha256, modality: e.manifest.modality }));
  }

  #watch(encoder: Encoder): void {
    const file = encoder.modelFile;
    if (this.#watched.includes(file)) return;
    this.#watched.push(file);
    watchFile(file, { interval: this.#watchIntervalMs, persistent: false }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) void this.#reload(encoder.manifestFile, encoder.manifest.modality);
    });
  }

  async #reload(manifestFile: string, modality: string): Promise<void> {
    let next: Encoder;
    try {
      next = await Encoder.load(manifestFile, this.#options);
    } catch (e) {
      this.#log.error({ file: manifestFile, err: (e as Error).message }, 'changed encoder not loaded; the previous one keeps running');
      return;
    }
    const before = this.#byModality.get(modality);
    if (before?.sha256 === next.sha256) {
      await next.release();
      return;
    }
    this.#byModality.set(modality, next);
    this.#log.info({ encoder: next.manifest.name, version: next.manifest.version, modality, sha256: next.sha256, previous: before?.sha256 }, 'encoder changed');
    // A run may still hold the old session for a moment; it is released after that run's turn.
    if (before) setTimeout(() => void before.release(), 1000).unref();
  }

  async close(): Promise<void> {
    for (const f of this.#watched) unwatchFile(f);
    await Promise.all(this.encoders.map((e) => e.release()));
    this.#byModality.clear();
  }
}

/**
 * What happens to a subject's samples between the devices and the frames: routed into
 * timelines and coverage counts as they come, then at each window's close the features, the
 * embeddings (one batched run per encoder) and the quality and provenance of every subject's
 * cross-section. No timers and no transports here: DeviceSource drives it by the wall clock, and
 * the benchmarks drive it with simulated time, faster than real time.
 */
import { Embedder, type EmbedderOptions } from '../embeddings/embedder.js';
import type { EncoderSet } from '../embeddings/encoder-set.js';
import type { CrossSection } from '../frames/codec.js';
import { computeFeatures } from '../features/definitions.js';
import type { Logger } from '../ops/log.js';
import type { TimedSample } from '../profiles/timing.js';
import { SubjectStreams } from '../streams/subject-streams.js';
import { CoverageWindows, type WindowDevice } from '../windows/coverage-windows.js';

export interface WindowPipelineOptions {
  readonly devices: readonly WindowDevice[];
  readonly windowMs: number;
  readonly graceMs: number;
  readonly minCoverage: number;
  readonly encoders?: { readonly set: EncoderSet; readonly options: EmbedderOptions } | undefined;
  readonly log: Logger;
  /** Wall clock now: where the first window is. */
  readonly nowWallMs: number;
}

/** A closed window whose embeddings are still being computed. */
export interface ClosedWindow {
  readonly startMs: number;
  readonly endMs: number;
  /** Resolves to each subject's cross-section, embeddings included. Never rejects. */
  readonly sections: Promise<Map<string, CrossSection>>;
}

export class WindowPipeline {
  readonly #o: WindowPipelineOptions;
  readonly #windows: CoverageWindows;
  readonly #streams: SubjectStreams;
  readonly #embedder: Embedder | undefined;
  readonly #subjectOf = new Map<string, string>();
  readonly #subjects: string[];

  constructor(options: WindowPipelineOptions) {
    this.#o = options;
    this.#windows = new CoverageWindows(options.devices, options.windowMs, options.nowWallMs);
    this.#embedder = options.encoders ? new Embedder(options.encoders.set, options.encoders.options) : undefined;
    // A window, its grace, the next window filling meanwhile, and what the encoders look back over.
    this.#streams = new SubjectStreams((2 * options.windowMs + options.graceMs + (this.#embedder?.lookbackMs ?? 0)) / 1000);
    for (const d of options.devices) {
      this.#subjectOf.set(d.deviceId, d.subject);
      for (const c of d.channels) this.#streams.declare(d.subject, c);
    }
    this.#subjects = [...new Set(options.devices.map((d) => d.subject))];
  }

  get windowStartMs(): number {
    return this.#windows.windowStartMs;
  }

  /** When the current window closes: its end plus the grace. */
  get closesAtMs(): number {
    return this.#windows.windowEndMs + this.#o.graceMs;
  }

  add(deviceId: string, samples: readonly TimedSample[]): void {
    this.#windows.add(deviceId, samples);
    const subject = this.#subjectOf.get(deviceId);
    if (subject !== undefined) this.#streams.add(subject, samples);
  }

  /** Frames name the device under `key` by `deviceId` from now on. */
  rename(key: string, deviceId: string): void {
    this.#windows.rename(key, deviceId);
  }

  gap(deviceId: string): void {
    this.#windows.gap(deviceId);
  }

  /** After a wall clock jump: see CoverageWindows.realign. Returns how far the window moved. */
  realign(nowWallMs: number): number {
    const moved = this.#windows.realign(nowWallMs, this.#o.graceMs);
    // Samples stamped on the old timeline would land in the wrong windows.
    if (moved !== 0) this.#streams.dropBefore(Infinity);
    return moved;
  }

  /**
   * Closes the current window. Features and the encoders' inputs are taken now, while the
   * window's samples are at hand; the encoder runs follow, and an encoder failing leaves the
   * window with its features rather than losing it.
   */
  close(nowMonoMs: number, nowWallMs: number, partial: boolean): ClosedWindow {
    const start = this.#windows.windowStartMs;
    const end = this.#windows.windowEndMs;
    const sections = this.#windows.close(nowMonoMs, nowWallMs, partial);
    for (const [subject, section] of sections) {
      const features = computeFeatures({ startMs: start, endMs: end, channels: this.#streams.window(subject, start, end) }, this.#o.minCoverage);
      section.features = features.map((f) => ({
        code: f.code, value: f.value, unit: f.unit, coverage: f.coverage, n: f.n,
        ...(f.standardCode ? { standard_code: f.standardCode } : {}),
      }));
    }
    const jobs = this.#embedder?.prepare(this.#subjects, (subject, from, to) => this.#streams.window(subject, from, to), end) ?? [];
    this.#streams.dropBefore(end - (this.#embedder?.lookbackMs ?? 0));
    if (jobs.length === 0) return { startMs: start, endMs: end, sections: Promise.resolve(sections) };
    const done = this.#embedder!.run(jobs).then((embeddings) => {
      for (const [subject, section] of sections) section.embeddings = embeddings.get(subject) ?? [];
      return sections;
    }, (e: Error) => {
      this.#o.log.error({ err: e.message }, 'encoder run failed; window sent without embeddings');
      return sections;
    });
    return { startMs: start, endMs: end, sections: done };
  }
}

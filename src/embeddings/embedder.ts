/**
 * Embeddings for a closed window: for each encoder, every subject with data for it is prepared
 * into one batch tensor (synchronously, while the window's samples are at hand), then each
 * encoder runs its whole batch in one session.run: on a Pi the per-run overhead, not the
 * arithmetic, is what costs.
 */
import type { Embedding } from '../frames/codec.js';
import type { ChannelWindow } from '../streams/subject-streams.js';
import type { Encoder } from './encoder.js';
import type { EncoderSet } from './encoder-set.js';
import { prepareWindow } from './prepare.js';
import { encodeVector, type VectorEncodingName } from './vector-encoding.js';

export interface EmbedderOptions {
  readonly encoding: VectorEncodingName;
  /** Windows with less real data than this (fraction of the encoder's input) get no embedding. */
  readonly minQuality: number;
}

/** One encoder's batch for one window, ready to run. */
export interface EmbeddingJob {
  readonly encoder: Encoder;
  readonly subjects: readonly string[];
  readonly qualities: readonly number[];
  readonly input: Float32Array;
}

export class Embedder {
  readonly #set: EncoderSet;
  readonly #o: EmbedderOptions;

  constructor(set: EncoderSet, options: EmbedderOptions) {
    this.#set = set;
    this.#o = options;
  }

  /** How far back from a window's end the encoders look (ms): the timelines must keep that much. */
  get lookbackMs(): number {
    return Math.max(0, ...this.#set.encoders.map((e) => e.spanMs));
  }

  prepare(subjects: readonly string[], windowOf: (subject: string, fromMs: number, toMs: number) => Map<string, ChannelWindow>, endMs: number): EmbeddingJob[] {
    const jobs: EmbeddingJob[] = [];
    for (const encoder of this.#set.encoders) {
      const size = encoder.windowSize;
      const input = new Float32Array(size * subjects.length);
      const kept: string[] = [];
      const qualities: number[] = [];
      for (const subject of subjects) {
        const channels = windowOf(subject, endMs - encoder.spanMs, endMs);
        if (!encoder.manifest.input.channels.some((c) => channels.has(c))) continue;
        const { quality } = prepareWindow(encoder.manifest, channels, endMs, input, kept.length * size);
        if (quality < this.#o.minQuality) continue;
        kept.push(subject);
        qualities.push(quality);
      }
      if (kept.length > 0) jobs.push({ encoder, subjects: kept, qualities, input: input.subarray(0, kept.length * size) });
    }
    return jobs;
  }

  /** Runs each job's batch; resolves to each subject's embeddings. */
  async run(jobs: readonly EmbeddingJob[]): Promise<Map<string, Embedding[]>> {
    const out = new Map<string, Embedding[]>();
    for (const job of jobs) {
      const { encoder } = job;
      const dim = encoder.manifest.output.dim;
      const vectors = await encoder.run(job.input, job.subjects.length);
      job.subjects.forEach((subject, i) => {
        const list = out.get(subject) ?? [];
        out.set(subject, list);
        list.push({
          modality: encoder.manifest.modality,
          encoder_name: encoder.manifest.name,
          encoder_version: encoder.manifest.version,
          encoder_sha256: encoder.sha256,
          quality: job.qualities[i]!,
          ...encodeVector(vectors.subarray(i * dim, (i + 1) * dim), this.#o.encoding),
        });
      });
    }
    return out;
  }
}

/**
 * One ONNX encoder: its manifest, its model's SHA-256 (every embedding carries it, so the twin
 * server never mixes vectors of different models), and one onnxruntime session made once and
 * warmed up with a run, which also proves that the model keeps the manifest's contract.
 *
 * onnxruntime-node is imported when the first encoder loads: commands and hubs without encoders
 * never load its native library.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { TwinedgeError } from '../ops/errors.js';
import { readManifest, type EncoderManifest } from './manifest.js';

export interface EncoderOptions {
  /** Threads one run may use; 1 suits a Pi that has other work. */
  readonly intraOpThreads: number;
}

export class Encoder {
  readonly manifestFile: string;
  readonly modelFile: string;
  readonly manifest: EncoderManifest;
  readonly sha256: string;
  readonly #session: InferenceSession;
  readonly #ort: typeof import('onnxruntime-node');

  private constructor(manifestFile: string, modelFile: string, manifest: EncoderManifest, sha256: string, session: InferenceSession, ort: typeof import('onnxruntime-node')) {
    this.manifestFile = manifestFile;
    this.modelFile = modelFile;
    this.manifest = manifest;
    this.sha256 = sha256;
    this.#session = session;
    this.#ort = ort;
  }

  /** Samples per window and channel, times channels: the size of one window's input. */
  get windowSize(): number {
    return this.manifest.input.channels.length * this.manifest.input.length;
  }

  /** How far back from a window's end the encoder looks, in ms. */
  get spanMs(): number {
    return (this.manifest.input.length * 1000) / this.manifest.input.sample_rate_hz;
  }

  static async load(manifestFile: string, options: EncoderOptions): Promise<Encoder> {
    const manifest = await readManifest(manifestFile);
    const modelFile = join(dirname(manifestFile), manifest.model);
    let bytes: Buffer;
    try {
      bytes = await readFile(modelFile);
    } catch (e) {
      throw new TwinedgeError('ENCODER_INVALID', `cannot read the model ${manifest.model}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: manifestFile });
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const ort = await import('onnxruntime-node');
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: options.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (e) {
      throw new TwinedgeError('ENCODER_INVALID', `onnxruntime cannot load ${manifest.model}: ${(e as Error).message}`, { file: manifestFile });
    }
    const encoder = new Encoder(manifestFile, modelFile, manifest, sha256, session, ort);
    if (!session.inputNames.includes(manifest.input.name) || !session.outputNames.includes(manifest.output.name)) {
      await session.release();
      throw new TwinedgeError('ENCODER_INVALID', `the model's input/output are ${session.inputNames.join(', ')} / ${session.outputNames.join(', ')}, not ${manifest.input.name} / ${manifest.output.name} as the manifest says`, { file: manifestFile });
    }
    // The warm-up run: the first run allocates; doing it now keeps it off the first window.
    try {
      await encoder.run(new Float32Array(encoder.windowSize), 1);
    } catch (e) {
      await session.release();
      throw new TwinedgeError('ENCODER_INVALID', `a run with the manifest's shape [1, ${manifest.input.channels.length}, ${manifest.input.length}] failed: ${(e as Error).message}`, { file: manifestFile });
    }
    return encoder;
  }

  /** Runs `n` windows at once (input [n, C, L], row-major); resolves to [n, dim]. */
  async run(input: Float32Array, n: number): Promise<Float32Array> {
    const { channels, length } = this.manifest.input;
    const tensor = new this.#ort.Tensor('float32', input.subarray(0, n * this.windowSize), [n, channels.length, length]);
    const result = await this.#session.run({ [this.manifest.input.name]: tensor });
    const out = result[this.manifest.output.name]!;
    const dim = this.manifest.output.dim;
    if (out.type !== 'float32' || out.dims.length !== 2 || out.dims[0] !== n || out.dims[1] !== dim) {
      throw new TypeError(`output ${this.manifest.output.name} is ${out.type} [${out.dims.join(', ')}], not float32 [${n}, ${dim}]`);
    }
    return out.data as Float32Array;
  }

  release(): Promise<void> {
    return this.#session.release();
  }
}

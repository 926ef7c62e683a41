// The hub's window pipeline under a bedside's load, and the encoders' batching.
//
// - pipeline.realtime (x): data seconds over CPU seconds for 8 subjects (ECG 130 Hz, 3-axis
//   accelerometer 100 Hz, PPG 64 Hz, respiration 25 Hz, light 1 Hz) through timelines, 30 s
//   windows, features, the shipped encoders and signed frames, in a compiled worker process.
//   Baseline 1: real time. CPU time, not wall time, so that threads count against it.
// - pipeline.cpu (s per subject-hour): the worker's CPU seconds per subject-hour of data, against
//   the 3600 s of the hour itself: the ratio is the share of one core a subject takes.
// - pipeline.rss (MB): the worker's peak RSS, against its own RSS once its modules were loaded
//   and before any encoder or sample. The worker runs with V8's young generation capped at 4 MB
//   (--max-semi-space-size=4): replayed 1000 times faster than real time it allocates 1000 times
//   faster than a hub does, and V8 would grow the young generation to 3 x 16 MB for that alone.
//   The peak without the cap is printed beside it.
// - encoder.batched (windows/s): the motion encoder on 8 windows in one run, against 8 runs of one.
// - encoder.session (windows/s): the hub's Encoder on those 8 windows, against a bare
//   onnxruntime-node session made from the same file with the same options, on the same tensor.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Encoder } from '../../src/embeddings/encoder.js';
import { SHIPPED_ENCODERS_DIR } from '../../src/embeddings/encoder-set.js';
import { median, result, type BenchContext, type BenchResult } from './bench-kit.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MINUTES = Number(process.env.TWINEDGE_BENCH_PIPELINE_MINUTES ?? 60);
const BATCH = 8;

interface WorkerResult { dataS: number; wallS: number; cpuS: number; startRss: number; peakRss: number; frames: number; embeddings: number; subjects: number }

function compileWorker(): string {
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', join(ROOT, 'tsconfig.json'), '--noEmit', 'false', '--outDir', join(ROOT, 'dist', 'bench')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`compiling the bench worker failed: ${r.stdout}${r.stderr}`);
  return join(ROOT, 'dist', 'bench', 'scripts', 'bench', 'workers', 'bedside.js');
}

function runWorker(file: string, flags: string[] = ['--max-semi-space-size=4']): WorkerResult {
  const r = spawnSync(process.execPath, [...flags, file, String(MINUTES)], { encoding: 'utf8', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  if (r.status !== 0) throw new Error(`the bench worker failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as WorkerResult;
}

async function encoderRows(ctx: BenchContext): Promise<BenchResult[]> {
  const encoder = await Encoder.load(join(SHIPPED_ENCODERS_DIR, 'motion.manifest.json'), { intraOpThreads: 1 });
  const bare = await ort.InferenceSession.create(encoder.modelFile, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const size = encoder.windowSize;
  const input = new Float32Array(BATCH * size);
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i / 13) + Math.sin(i / 97);
  const windows = Array.from({ length: BATCH }, (_, k) => input.slice(k * size, (k + 1) * size));
  const tensor = new ort.Tensor('float32', input, [BATCH, encoder.manifest.input.channels.length, encoder.manifest.input.length]);
  const rate = async (fn: () => Promise<unknown>) => {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < 500) { await fn(); n++; }
    return (n * BATCH * 1000) / (performance.now() - start);
  };
  const batched: number[] = [];
  const single: number[] = [];
  const bareRates: number[] = [];
  await rate(() => encoder.run(input, BATCH));
  for (let r = 0; r < ctx.repeats; r++) {
    single.push(await rate(async () => { for (const w of windows) await encoder.run(w, 1); }));
    batched.push(await rate(() => encoder.run(input, BATCH)));
    bareRates.push(await rate(() => bare.run({ [encoder.manifest.input.name]: tensor })));
  }
  await encoder.release();
  await bare.release();
  return [
    result('encoder.batched', 'windows/s', median(batched), median(single)),
    result('encoder.session', 'windows/s', median(batched), median(bareRates)),
  ];
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  if (ctx.wants('pipeline.realtime') || ctx.wants('pipeline.cpu') || ctx.wants('pipeline.rss')) {
    const worker = compileWorker();
    const runs = Array.from({ length: ctx.repeats }, () => runWorker(worker));
    const realtime = median(runs.map((r) => r.dataS / r.cpuS));
    const cpuPerSubjectHour = median(runs.map((r) => (r.cpuS / r.subjects) * (3600 / r.dataS)));
    const mb = (b: number) => b / (1024 * 1024);
    const last = runs[runs.length - 1]!;
    const uncapped = runWorker(worker, []);
    process.stderr.write(`pipeline: ${last.subjects} subjects x ${MINUTES} min of data, ${last.frames} frames, ${last.embeddings} embeddings; wall ${last.wallS.toFixed(2)} s, CPU ${last.cpuS.toFixed(2)} s; peak RSS ${mb(last.peakRss).toFixed(0)} MB, ${mb(uncapped.peakRss).toFixed(0)} MB with V8's default young generation\n`);
    rows.push(result('pipeline.realtime', 'x', realtime, 1));
    rows.push(result('pipeline.cpu', 's/subject-h', cpuPerSubjectHour, 3600));
    rows.push(result('pipeline.rss', 'MB', median(runs.map((r) => mb(r.peakRss))), median(runs.map((r) => mb(r.startRss)))));
  }
  if (ctx.wants('encoder.batched') || ctx.wants('encoder.session')) rows.push(...await encoderRows(ctx));
  return rows;
}

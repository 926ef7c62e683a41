// The shipped encoders, run by the real onnxruntime-node on the committed files: they are what
// scripts/build-encoders.ts builds, they keep their manifests' contract, and they tell apart the
// rhythms they claim to (synthetic, seeded signals, z-scored per channel as the hub does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { readManifest, type EncoderManifest } from '../../src/embeddings/manifest.js';
import { mulberry32 } from '../../src/ops/prng.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODELS = join(ROOT, 'src/embeddings/models');
const MODALITIES = ['motion', 'cardiac', 'respiration'] as const;
type Modality = (typeof MODALITIES)[number];

interface Loaded {
  readonly manifest: EncoderManifest;
  readonly session: InferenceSession;
}

const loaded = new Map<Modality, Promise<Loaded>>();
function load(modality: Modality): Promise<Loaded> {
  let p = loaded.get(modality);
  if (!p) {
    p = (async () => {
      const manifest = await readManifest(join(MODELS, `${modality}.manifest.json`));
      const session = await InferenceSession.create(join(MODELS, manifest.model), { intraOpNumThreads: 1 });
      return { manifest, session };
    })();
    loaded.set(modality, p);
  }
  return p;
}

test.after(async () => {
  for (const p of loaded.values()) await (await p).session.release();
});

async function embed({ manifest, session }: Loaded, windows: readonly Float32Array[]): Promise<Float32Array[]> {
  const size = manifest.input.channels.length * manifest.input.length;
  const batch = new Float32Array(size * windows.length);
  windows.forEach((w, i) => batch.set(w, i * size));
  const input = new Tensor('float32', batch, [windows.length, manifest.input.channels.length, manifest.input.length]);
  const out = (await session.run({ [manifest.input.name]: input }))[manifest.output.name]!;
  assert.deepEqual(out.dims, [windows.length, manifest.output.dim]);
  const data = out.data as Float32Array;
  return windows.map((_, i) => data.slice(i * manifest.output.dim, (i + 1) * manifest.output.dim));
}

function buildScript(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-encoders.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Seeded signals: the same windows on every run, so a ratio that passes once passes always.

function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Channels (each L samples) into one [C, L] window, each channel z-scored as the hub does (flat stays 0). */
function hubWindow(channels: readonly Float64Array[]): Float32Array {
  const L = channels[0]!.length;
  const out = new Float32Array(channels.length * L);
  channels.forEach((x, c) => {
    const mean = x.reduce((a, b) => a + b, 0) / L;
    const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / L);
    for (let i = 0; i < L; i++) out[c * L + i] = sd > 0 ? (x[i]! - mean) / sd : 0;
  });
  return out;
}

const signal = (L: number, rateHz: number, f: (t: number) => number): Float64Array => Float64Array.from({ length: L }, (_, i) => f(i / rateHz));

function motionRest(random: () => number): Float32Array {
  const noise = gaussian(random);
  // Lying or sitting still: gravity split over the axes by the posture, sensor noise of a few mg.
  const tilt = random() * 0.3;
  return hubWindow([
    signal(1500, 50, () => Math.sin(tilt) + 0.003 * noise()),
    signal(1500, 50, () => 0.003 * noise()),
    signal(1500, 50, () => Math.cos(tilt) + 0.003 * noise()),
  ]);
}

function motionWalking(random: () => number): Float32Array {
  const noise = gaussian(random);
  const step = 1.8; // Hz, a usual walking cadence
  const a = 0.25 + 0.1 * random();
  const [p1, p2, p3, p4] = [random(), random(), random(), random()].map((x) => 2 * Math.PI * x) as [number, number, number, number];
  const w = 2 * Math.PI * step;
  return hubWindow([
    // Sway from side to side once a stride (two steps).
    signal(1500, 50, (t) => 0.1 * a * Math.sin((w / 2) * t + p4) + 0.02 * noise()),
    signal(1500, 50, (t) => 0.4 * a * Math.sin(w * t + p2) + 0.02 * noise()),
    signal(1500, 50, (t) => 1 + a * Math.sin(w * t + p1) + 0.4 * a * Math.sin(2 * w * t + p2) + 0.2 * a * Math.sin(3 * w * t + p3) + 0.02 * noise()),
  ]);
}

function breathing(perMinute: number) {
  return (random: () => number): Float32Array => {
    const noise = gaussian(random);
    const amp = 0.5 + random();
    const phase = 2 * Math.PI * random();
    const f = (perMinute * (0.95 + 0.1 * random())) / 60;
    return hubWindow([signal(1500, 25, (t) => amp * Math.sin(2 * Math.PI * f * t + phase) + 0.2 * amp * noise())]);
  };
}

/** A crude ECG: a narrow R spike and a broad T wave each beat, a little RR jitter, wander and noise. */
function ecg(bpm: number) {
  return (random: () => number): Float32Array => {
    const noise = gaussian(random);
    const beats: number[] = [];
    const rr = 60 / bpm;
    for (let t = -rr * random(); t < 10 + rr; t += rr * (0.97 + 0.06 * random())) beats.push(t);
    const wander = 2 * Math.PI * random();
    const g = (x: number, s: number): number => Math.exp(-0.5 * (x / s) ** 2);
    return hubWindow([signal(1300, 130, (t) => {
      let v = 0.1 * Math.sin(2 * Math.PI * 0.25 * t + wander) + 0.02 * noise();
      for (const b of beats) {
        if (Math.abs(t - b) > 0.6) continue;
        v += 1.2 * g(t - b, 0.012) - 0.2 * g(t - b - 0.03, 0.01) + 0.3 * g(t - b - 0.28 * Math.sqrt(rr), 0.05);
      }
      return v;
    })]);
  };
}

const distance = (a: Float32Array, b: Float32Array): number => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0));

/** Mean distance between windows of different states over mean distance within a state. */
function separation(a: readonly Float32Array[], b: readonly Float32Array[]): { ratio: number; between: number; within: number } {
  const within: number[] = [];
  for (const group of [a, b]) for (let i = 0; i < group.length; i++) for (let j = i + 1; j < group.length; j++) within.push(distance(group[i]!, group[j]!));
  const between = a.flatMap((x) => b.map((y) => distance(x, y)));
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  return { ratio: mean(between) / mean(within), between: mean(between), within: mean(within) };
}

test('the committed files are what scripts/build-encoders.ts builds', () => {
  const r = buildScript('--check');
  assert.equal(r.status, 0, r.stderr);
  for (const m of MODALITIES) assert.match(r.stdout, new RegExp(`^${m}\\.onnx +\\d+ bytes +sha256 [0-9a-f]{64}$`, 'm'));
});

test('--check names each file that differs or is missing, and only those', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-encoders-'));
  try {
    assert.equal(buildScript('--dir', dir).status, 0);
    const cardiac = await readFile(join(dir, 'cardiac.onnx'));
    cardiac[cardiac.length - 1] = cardiac[cardiac.length - 1]! ^ 1;
    await writeFile(join(dir, 'cardiac.onnx'), cardiac);
    await unlink(join(dir, 'respiration.manifest.json'));
    const r = buildScript('--check', '--dir', dir);
    assert.equal(r.status, 1);
    const named = r.stderr.trim().split('\n');
    assert.equal(named.length, 2, r.stderr);
    assert.ok(named.some((l) => l.includes('cardiac.onnx')));
    assert.ok(named.some((l) => l.includes('respiration.manifest.json')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

for (const modality of MODALITIES) {
  test(`${modality}: the manifest and the model agree on names and shapes`, async () => {
    const enc = await load(modality);
    const { manifest, session } = enc;
    assert.equal(manifest.modality, modality);
    assert.equal(manifest.model, `${modality}.onnx`);
    assert.equal(manifest.name, `twinedge-${modality}-spectral`);
    assert.deepEqual(manifest.normalisation, { kind: 'zscore' });
    assert.equal(manifest.output.dim, 16);
    assert.ok((manifest.description ?? '').length > 200);
    assert.deepEqual(session.inputNames, [manifest.input.name]);
    assert.deepEqual(session.outputNames, [manifest.output.name]);
    const [input] = session.inputMetadata;
    const [output] = session.outputMetadata;
    assert.ok(input?.isTensor && output?.isTensor);
    assert.equal(input.type, 'float32');
    assert.equal(output.type, 'float32');
    // The batch is symbolic (any N); channels and length are fixed.
    assert.equal(typeof input.shape[0], 'string');
    assert.deepEqual(input.shape.slice(1), [manifest.input.channels.length, manifest.input.length]);
    assert.equal(output.shape[0], input.shape[0]);
    assert.equal(output.shape[1], manifest.output.dim);
    const random = gaussian(mulberry32(3));
    const size = manifest.input.channels.length * manifest.input.length;
    const windows = [0, 1, 2].map(() => Float32Array.from({ length: size }, random));
    const batched = await embed(enc, windows);
    assert.equal(batched.length, 3);
    // Batching across subjects must not change a subject's vector beyond float rounding.
    for (let i = 0; i < 3; i++) {
      const [alone] = await embed(enc, [windows[i]!]);
      for (let d = 0; d < manifest.output.dim; d++) assert.ok(Math.abs(alone![d]! - batched[i]![d]!) < 1e-5);
    }
  });

  test(`${modality}: deterministic, and finite for silence, huge values and noise`, async () => {
    const enc = await load(modality);
    const size = enc.manifest.input.channels.length * enc.manifest.input.length;
    const random = mulberry32(11);
    const normal = gaussian(random);
    const inputs = {
      zeros: new Float32Array(size),
      constant: new Float32Array(size).fill(1e4),
      huge: Float32Array.from({ length: size }, () => (random() < 0.5 ? -1e4 : 1e4)),
      noise: Float32Array.from({ length: size }, normal),
    };
    const windows = Object.values(inputs);
    const first = await embed(enc, windows);
    const again = await embed(enc, windows);
    assert.deepEqual(again, first);
    Object.keys(inputs).forEach((name, i) => assert.ok(first[i]!.every(Number.isFinite), `${name} gives a non-finite value`));
  });
}

const SEPARATION: Record<Modality, readonly [string, (r: () => number) => Float32Array, string, (r: () => number) => Float32Array]> = {
  motion: ['rest', motionRest, 'walking', motionWalking],
  respiration: ['10/min', breathing(10), '24/min', breathing(24)],
  cardiac: ['60 bpm', ecg(60), '120 bpm', ecg(120)],
};

for (const modality of MODALITIES) {
  const [nameA, makeA, nameB, makeB] = SEPARATION[modality];
  test(`${modality}: ${nameA} and ${nameB} windows are more than twice as far apart as windows of one state`, async (t) => {
    const enc = await load(modality);
    const random = mulberry32(0x5eed + modality.length);
    const a = await embed(enc, Array.from({ length: 8 }, () => makeA(random)));
    const b = await embed(enc, Array.from({ length: 8 }, () => makeB(random)));
    const s = separation(a, b);
    t.diagnostic(`${modality} separation ${s.ratio.toFixed(2)} (between ${s.between.toFixed(3)}, within ${s.within.toFixed(3)})`);
    assert.ok(s.ratio > 2, `ratio ${s.ratio}`);
  });
}

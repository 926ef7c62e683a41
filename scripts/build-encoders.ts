/**
 * Builds the shipped encoders (src/embeddings/models/<modality>.onnx and .manifest.json): fixed
 * spectral encoders, computed here rather than trained, so that anyone can rebuild them and get
 * the same bytes, and read in this file exactly what each number in them means.
 *
 *   node --import tsx scripts/build-encoders.ts           writes the six files, prints each model's SHA-256
 *   node --import tsx scripts/build-encoders.ts --check   builds in memory; exit 1 names every file that differs
 *   --dir DIR                                             another folder than src/embeddings/models
 *
 * The graph, per window of shape [N, C, L] (the hub has z-scored each channel):
 *
 *   input ─MatMul(basis [L, 2P])─► Mul(itself) ─MatMul(band_mean [2P, K])─► Add(eps) ─► Log
 *         ─Reshape([0, C*K])─► MatMul(projection [C*K, dim]) ─Add(bias)─► Tanh ─► embedding [N, dim]
 *
 * The basis holds P probes, each a Hann-windowed cosine and sine pair; a pair's squares summed
 * are the power near its frequency. K bands split the modality's range at log-spaced edges, and
 * each band holds probes at most 2/T apart (T the window's length in s): the Hann main lobe is
 * 4/T wide and -6 dB at 1/T from its centre, so a tone anywhere in a band is seen at most 3 dB
 * down. One probe per band would be blind to most of the band (a 30 s probe is 0.07 Hz wide; a
 * walking cadence of 1.8 Hz would fall between two centres). The price is size: the basis is
 * L x 2P floats, B·T/2 probes for a range of B Hz.
 *
 * band_mean averages the probes' power in each band, so the log feature is a power spectral
 * density and does not grow with the band's width. The projection is a seeded random matrix;
 * it is folded with a fixed rescaling of the log band powers: relative to what unit white noise
 * gives in that band, in units of the 30 dB between that and the floor. A flat spectrum maps to 0,
 * silence to -1 and a band 30 dB above white noise to +1 before the projection, which keeps tanh
 * out of saturation for most signals; the bias is the offset that rescaling needs.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { mulberry32 } from '../src/ops/prng.js';

/** One shipped encoder. */
interface EncoderSpec {
  readonly modality: 'motion' | 'cardiac' | 'respiration';
  readonly channels: readonly string[];
  readonly rateHz: number;
  readonly length: number;
  /** The range the bands cover, Hz. */
  readonly lowHz: number;
  readonly highHz: number;
  readonly bands: number;
  readonly dim: number;
  /** For the description: what the channels are and what the bands catch. */
  readonly about: string;
  readonly goodFor: string;
}

const VERSION = '1.0.0';

const SPECS: readonly EncoderSpec[] = [
  {
    modality: 'motion', channels: ['acc_x', 'acc_y', 'acc_z'], rateHz: 50, length: 1500, lowHz: 0.3, highHz: 12, bands: 12, dim: 16,
    about: 'three accelerometer axes (g) at 50 Hz, 30 s',
    goodFor: 'telling rest from rhythmic movement and slow from brisk walking or running by their cadence and harmonics',
  },
  {
    modality: 'cardiac', channels: ['ecg'], rateHz: 130, length: 1300, lowHz: 0.5, highHz: 40, bands: 12, dim: 16,
    about: 'one ECG lead (mV) at 130 Hz (the Polar H10 rate), 10 s',
    goodFor: 'telling slow from fast heart rates and a regular beat from noise by where the beat\'s harmonics fall',
  },
  {
    modality: 'respiration', channels: ['resp'], rateHz: 25, length: 1500, lowHz: 0.05, highHz: 1.5, bands: 12, dim: 16,
    about: 'one respiration signal (any unit) at 25 Hz, 60 s, long enough to hold several slow breaths',
    goodFor: 'telling slow from fast breathing and regular breathing from irregular',
  },
];

/**
 * The floor of the log: power 30 dB below unit white noise, so silence gives a finite, known
 * value. It is also the unit of the rescaled log features (see the header).
 */
const FLOOR_BELOW_WHITE = 1e-3;
const LOG_UNIT = Math.log(1 / FLOOR_BELOW_WHITE);
/** Probes in a band lie at most this many frequency bins (1/T) apart; see the header. */
const PROBE_SPACING_BINS = 2;

/*
 * The part of the ONNX IR this builder writes (field numbers from the ONNX IR specification,
 * onnx/onnx docs/IR.md). Written from that spec as proto3: packed repeated scalars and unset
 * defaults are read the same way by every protobuf parser.
 */
const ONNX_SUBSET = `
syntax = "proto3";
package onnx;
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message StringStringEntryProto { string key = 1; string value = 2; }
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  string doc_string = 6;
}
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  string name = 8;
  bytes raw_data = 9;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
`;

/** TensorProto.DataType values. */
const FLOAT = 1;
const INT64 = 7;
/** IR 7 is the version that came with opset 13 (ONNX 1.8); every onnxruntime since 1.6 reads it. */
const IR_VERSION = 7;
const OPSET = 13;

const ModelProto = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto');


/** FNV-1a over the seed's UTF-8 bytes: the seed stays a readable name. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

const seedName = (s: EncoderSpec): string => `twinedge/${s.modality}/${VERSION}`;

interface Band {
  readonly lowHz: number;
  readonly highHz: number;
  readonly probesHz: readonly number[];
}

function bandsOf(s: EncoderSpec): Band[] {
  const binHz = s.rateHz / s.length;
  const ratio = s.highHz / s.lowHz;
  const bands: Band[] = [];
  for (let k = 0; k < s.bands; k++) {
    const lowHz = s.lowHz * ratio ** (k / s.bands);
    const highHz = s.lowHz * ratio ** ((k + 1) / s.bands);
    const n = Math.max(1, Math.ceil((highHz - lowHz) / (PROBE_SPACING_BINS * binHz)));
    bands.push({ lowHz, highHz, probesHz: Array.from({ length: n }, (_, i) => lowHz + ((i + 0.5) * (highHz - lowHz)) / n) });
  }
  return bands;
}

interface Weights {
  readonly basis: Float64Array; // [L, 2P] row-major
  readonly bandMean: Float64Array; // [2P, K]
  readonly eps: number;
  readonly projection: Float64Array; // [C*K, dim]
  readonly bias: Float64Array; // [dim]
  readonly probes: number;
}

function weightsOf(s: EncoderSpec): Weights {
  const bands = bandsOf(s);
  const probesHz = bands.flatMap((b) => b.probesHz);
  const P = probesHz.length;
  const L = s.length;
  const K = s.bands;
  const C = s.channels.length;

  // Periodic Hann, scaled so a tone of amplitude A at a probe's frequency gives cos² + sin² = A².
  const hann = Float64Array.from({ length: L }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / L));
  const gain = 2 / hann.reduce((a, b) => a + b, 0);
  const basis = new Float64Array(L * 2 * P);
  probesHz.forEach((f, p) => {
    const cycles = f / s.rateHz;
    for (let n = 0; n < L; n++) {
      // The phase is reduced to one turn in float64 before the trig, so no large argument loses bits.
      const turn = (cycles * n) % 1;
      basis[n * 2 * P + 2 * p] = hann[n]! * gain * Math.cos(2 * Math.PI * turn);
      basis[n * 2 * P + 2 * p + 1] = hann[n]! * gain * Math.sin(2 * Math.PI * turn);
    }
  });

  const bandMean = new Float64Array(2 * P * K);
  // What unit-variance white noise gives per band: the sum of squares of the band's basis columns,
  // averaged like the band. It sets the 0 of the log features and the floor.
  const whiteNoise = new Float64Array(K);
  let p0 = 0;
  bands.forEach((b, k) => {
    const n = b.probesHz.length;
    for (let p = p0; p < p0 + n; p++) {
      bandMean[2 * p * K + k] = 1 / n;
      bandMean[(2 * p + 1) * K + k] = 1 / n;
      let ss = 0;
      for (let i = 0; i < L; i++) ss += basis[i * 2 * P + 2 * p]! ** 2 + basis[i * 2 * P + 2 * p + 1]! ** 2;
      whiteNoise[k] = whiteNoise[k]! + ss / n;
    }
    p0 += n;
  });
  const eps = FLOOR_BELOW_WHITE * (whiteNoise.reduce((a, b) => a + b, 0) / K);

  // Glorot-uniform draw, then folded with x' = (ln(power + eps) - ln(white_k)) / LOG_UNIT.
  const random = mulberry32(fnv1a(seedName(s)));
  const fanIn = C * K;
  const limit = Math.sqrt(6 / (fanIn + s.dim));
  const projection = new Float64Array(fanIn * s.dim);
  for (let i = 0; i < projection.length; i++) projection[i] = (2 * random() - 1) * limit;
  const bias = new Float64Array(s.dim);
  for (let row = 0; row < fanIn; row++) {
    const offset = Math.log(whiteNoise[row % K]!);
    for (let d = 0; d < s.dim; d++) {
      const w = projection[row * s.dim + d]! / LOG_UNIT;
      projection[row * s.dim + d] = w;
      bias[d] = bias[d]! - w * offset;
    }
  }
  return { basis, bandMean, eps, projection, bias, probes: P };
}

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): object {
  const raw = Buffer.alloc(values.length * 4);
  // ONNX raw_data is little-endian whatever the host.
  for (let i = 0; i < values.length; i++) raw.writeFloatLE(values[i]!, i * 4);
  return { name, dims, data_type: FLOAT, raw_data: raw };
}

function int64Tensor(name: string, values: number[]): object {
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
  return { name, dims: [values.length], data_type: INT64, raw_data: raw };
}

function floatValue(name: string, dims: (number | string)[]): object {
  return {
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}

const node = (name: string, op_type: string, input: string[], output: string[]): object => ({ name, op_type, input, output });

function manifestOf(s: EncoderSpec, w: Weights): object {
  const bands = bandsOf(s);
  const fmt = (x: number): string => String(Number(x.toPrecision(3)));
  const description =
    `A fixed spectral encoder for ${s.about}. Architecture: per channel, the power in ${s.bands} log-spaced bands from ` +
    `${fmt(bands[0]!.lowHz)} to ${fmt(bands.at(-1)!.highHz)} Hz, each the mean power of Hann-windowed cosine/sine probes ` +
    `spread through the band (${w.probes} probes, at most ${fmt((PROBE_SPACING_BINS * s.rateHz) / s.length)} Hz apart, so no tone in the range is missed); ` +
    `the log of each band power relative to what white noise gives, in units of 30 dB (silence is -1, white noise 0); then a projection of the ` +
    `${s.channels.length * s.bands} log band powers to ${s.dim} values with a bias and tanh. Weights: nothing is learned and nothing is downloaded. The ` +
    `spectral basis is computed, and the projection is a random Glorot-uniform matrix drawn from mulberry32 seeded with ` +
    `FNV-1a of "${seedName(s)}", by scripts/build-encoders.ts, which rebuilds this file byte for byte. Good for ${s.goodFor}, ` +
    `for checking that a channel carries a live signal, and as a placeholder with the right interface until a trained ` +
    `encoder replaces it. Not a clinically validated model: its dimensions have no physiological meaning one by one, it ` +
    `does not see waveform morphology, and distances between its vectors reflect spectral shape only.`;
  return {
    name: `twinedge-${s.modality}-spectral`,
    version: VERSION,
    modality: s.modality,
    model: `${s.modality}.onnx`,
    input: { name: 'input', channels: [...s.channels], sample_rate_hz: s.rateHz, length: s.length },
    normalisation: { kind: 'zscore' },
    output: { name: 'embedding', dim: s.dim },
    description,
  };
}

function modelOf(s: EncoderSpec, w: Weights, description: string): Uint8Array {
  const C = s.channels.length;
  const K = s.bands;
  const P = w.probes;
  const graph = {
    name: `twinedge_${s.modality}_spectral`,
    node: [
      node('probe', 'MatMul', ['input', 'basis'], ['probe_out']),
      node('square', 'Mul', ['probe_out', 'probe_out'], ['probe_power']),
      node('band', 'MatMul', ['probe_power', 'band_mean'], ['band_power']),
      node('floor', 'Add', ['band_power', 'eps'], ['band_power_floored']),
      node('log', 'Log', ['band_power_floored'], ['log_power']),
      node('flatten', 'Reshape', ['log_power', 'flat_shape'], ['features']),
      node('project', 'MatMul', ['features', 'projection'], ['projected']),
      node('offset', 'Add', ['projected', 'bias'], ['pre_activation']),
      node('squash', 'Tanh', ['pre_activation'], ['embedding']),
    ],
    initializer: [
      floatTensor('basis', [s.length, 2 * P], w.basis),
      floatTensor('band_mean', [2 * P, K], w.bandMean),
      floatTensor('eps', [], [w.eps]),
      // 0 keeps the batch dimension as it is; -1 would fail on an empty batch.
      int64Tensor('flat_shape', [0, C * K]),
      floatTensor('projection', [C * K, s.dim], w.projection),
      floatTensor('bias', [s.dim], w.bias),
    ],
    input: [floatValue('input', ['N', C, s.length])],
    output: [floatValue('embedding', ['N', s.dim])],
  };
  const model = {
    ir_version: IR_VERSION,
    producer_name: 'twinedge build-encoders',
    producer_version: VERSION,
    domain: 'org.twinedge',
    model_version: 1,
    doc_string: description,
    graph,
    opset_import: [{ domain: '', version: OPSET }],
    metadata_props: [
      { key: 'twinedge.name', value: `twinedge-${s.modality}-spectral` },
      { key: 'twinedge.version', value: VERSION },
      { key: 'twinedge.modality', value: s.modality },
    ],
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** The six files, by name. */
export function buildEncoders(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const s of SPECS) {
    const w = weightsOf(s);
    const manifest = manifestOf(s, w) as { description: string };
    files.set(`${s.modality}.onnx`, modelOf(s, w, manifest.description));
    files.set(`${s.modality}.manifest.json`, Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8'));
  }
  return files;
}

async function main(argv: string[]): Promise<number> {
  let check = false;
  let dir = fileURLToPath(new URL('../src/embeddings/models/', import.meta.url));
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--check') check = true;
    else if (argv[i] === '--dir' && argv[i + 1] !== undefined) dir = argv[++i]!;
    else {
      process.stderr.write(`build-encoders: unexpected argument ${argv[i]}; usage: build-encoders.ts [--check] [--dir DIR]\n`);
      return 2;
    }
  }
  const files = buildEncoders();
  const differ: string[] = [];
  if (!check) await mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) {
    const path = join(dir, name);
    if (check) {
      const onDisk = await readFile(path).catch(() => undefined);
      if (!onDisk || !Buffer.from(bytes).equals(onDisk)) differ.push(path);
    } else {
      await writeFile(path, bytes);
    }
    if (name.endsWith('.onnx')) process.stdout.write(`${name}  ${bytes.length} bytes  sha256 ${createHash('sha256').update(bytes).digest('hex')}\n`);
  }
  if (differ.length > 0) {
    for (const path of differ) process.stderr.write(`build-encoders: ${path} differs from what this script builds; run node --import tsx scripts/build-encoders.ts\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}

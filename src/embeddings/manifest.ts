/**
 * Encoder manifests: the JSON file beside an ONNX model that says what it takes and gives. Any
 * ONNX model with this contract can be dropped in: input float32 [N, C, L] (N windows, the
 * manifest's C channels in order, L samples at its rate), output float32 [N, dim].
 */
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { TwinedgeError } from '../ops/errors.js';

const strict = { additionalProperties: false } as const;

export const ManifestSchema = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 100 }),
  version: Type.String({ minLength: 1, maxLength: 40 }),
  modality: Type.Union(['cardiac', 'motion', 'respiration', 'light', 'temperature', 'oximetry'].map((m) => Type.Literal(m))),
  model: Type.String({ minLength: 1 }),
  input: Type.Object({
    name: Type.String({ minLength: 1 }),
    channels: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true }),
    sample_rate_hz: Type.Number({ exclusiveMinimum: 0, maximum: 10_000 }),
    length: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  }, strict),
  normalisation: Type.Union([
    Type.Object({ kind: Type.Literal('zscore') }, strict),
    Type.Object({ kind: Type.Literal('none') }, strict),
    Type.Object({ kind: Type.Literal('fixed'), mean: Type.Array(Type.Number()), std: Type.Array(Type.Number({ exclusiveMinimum: 0 })) }, strict),
  ]),
  output: Type.Object({ name: Type.String({ minLength: 1 }), dim: Type.Integer({ minimum: 1, maximum: 65_536 }) }, strict),
  description: Type.Optional(Type.String()),
}, strict);

export type EncoderManifest = Static<typeof ManifestSchema>;

const validate = new Ajv({ allErrors: true, strict: true }).compile(ManifestSchema);

/** Reads and checks a manifest; ENCODER_INVALID names the file and the field. */
export async function readManifest(file: string): Promise<EncoderManifest> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new TwinedgeError('ENCODER_INVALID', `cannot read the encoder manifest: ${(e as Error).message}`, { file });
  }
  if (!validate(data)) {
    const first = validate.errors![0]!;
    throw new TwinedgeError('ENCODER_INVALID', `${first.instancePath.slice(1).replace(/\//g, '.') || 'manifest'}: ${first.message}`, { file });
  }
  const m = data as EncoderManifest;
  if (m.normalisation.kind === 'fixed' && (m.normalisation.mean.length !== m.input.channels.length || m.normalisation.std.length !== m.input.channels.length)) {
    throw new TwinedgeError('ENCODER_INVALID', `normalisation: mean and std need one value per input channel (${m.input.channels.length})`, { file });
  }
  return m;
}

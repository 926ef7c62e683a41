// sign and verify of 1 KB frame bodies through the hub's code (FrameSigner, verifyBody) against
// bare node:crypto Ed25519 with a KeyObject made once and the message built once: the most
// node:crypto can do. Measured alternately in the same run.
import { sign, verify } from 'node:crypto';
import { encodeBody, VectorEncoding, type Payload } from '../../src/frames/codec.js';
import { FrameMaker } from '../../src/frames/frame-maker.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { FrameSigner, verifyBody } from '../../src/frames/sign.js';
import { ManualClock } from '../../src/ops/clock.js';
import { opsPerSecond, result, sideBySide, type BenchContext, type BenchResult } from './bench-kit.js';

const BODY_BYTES = 1024;
const SAMPLE_MS = 500;

/** A cross-section with one feature and an int8 embedding of `pad` bytes. */
function payload(pad: number): Payload {
  return {
    cross_section: {
      window_start_ms: Date.UTC(2026, 0, 1), window_end_ms: Date.UTC(2026, 0, 1, 0, 0, 10),
      features: [{ code: 'hr.mean', value: 61.5, unit: '/min' }],
      embeddings: [{ modality: 'cardiac', encoder_name: 'bench', encoder_version: '1', encoder_sha256: 'ab'.repeat(32), dim: pad, encoding: VectorEncoding.INT8, packed: new Uint8Array(pad).fill(7), scale: 0.01 }],
    },
  };
}

/** A real FrameBody of exactly `bytes` bytes: the embedding is sized until the encoding fits. */
function bodyOfSize(maker: FrameMaker, bytes: number): Uint8Array {
  let pad = bytes;
  for (let i = 0; i < 5; i++) {
    const body = encodeBody(maker.body(1, 'bench-subject', payload(pad)));
    if (body.length === bytes) return body;
    pad = Math.max(0, pad + bytes - body.length);
  }
  throw new Error(`no frame body of exactly ${bytes} bytes`);
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const key = generateHubKey();
  const signer = new FrameSigner(key);
  const body = bodyOfSize(new FrameMaker({ hubId: 'bench-hub', clock: new ManualClock(Date.UTC(2026, 0, 1)), signer }), BODY_BYTES);
  // Bare node:crypto signs the same bytes, the domain prefix spelled out here.
  const message = Buffer.concat([Buffer.from('twin.v1.frame\0', 'ascii'), body]);
  const signature = sign(null, message, key.privateKey);
  if (!verifyBody(body, signature, key.publicKey)) throw new Error('sign bench: the hub does not verify a bare node:crypto signature');

  const rows: BenchResult[] = [];
  const sample = (fn: () => unknown) => () => opsPerSecond(fn, { minMs: SAMPLE_MS });
  if (ctx.wants('sign')) {
    const r = await sideBySide(ctx.repeats, sample(() => signer.sign(body)), sample(() => sign(null, message, key.privateKey)));
    rows.push(result('sign', 'ops/s', r.value, r.baseline));
  }
  if (ctx.wants('verify')) {
    const r = await sideBySide(ctx.repeats, sample(() => verifyBody(body, signature, key.publicKey)), sample(() => verify(null, message, key.publicKey, signature)));
    rows.push(result('verify', 'ops/s', r.value, r.baseline));
  }
  return rows;
}

// A window onto an encoder's grid: resampling, gap masking, normalisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EncoderManifest } from '../../src/embeddings/manifest.js';
import { prepareWindow } from '../../src/embeddings/prepare.js';
import type { ChannelWindow } from '../../src/streams/subject-streams.js';

const END = 1_700_000_010_000;
const manifest = (normalisation: EncoderManifest['normalisation'], length = 20, rate = 2): EncoderManifest => ({
  name: 't', version: '1', modality: 'motion', model: 'm.onnx',
  input: { name: 'input', channels: ['x'], sample_rate_hz: rate, length }, normalisation, output: { name: 'o', dim: 2 },
});
/** A ramp x(t) = t seconds after END - 10 s, at `rate` Hz, leaving out [gapFrom, gapTo) seconds. */
function ramp(rate: number, gapFrom = 99, gapTo = 99): ChannelWindow {
  const times: number[] = [];
  for (let i = 0; i < 10 * rate; i++) {
    const s = i / rate;
    if (s >= gapFrom && s < gapTo) continue;
    times.push(END - 10_000 + s * 1000);
  }
  return { times: Float64Array.from(times), values: Float32Array.from(times, (t) => (t - (END - 10_000)) / 1000), rateHz: rate };
}

test('a 5 Hz ramp onto a 2 Hz grid of 10 s: each point is the ramp at its time; quality 1', () => {
  const out = new Float32Array(20);
  const r = prepareWindow(manifest({ kind: 'none' }), new Map([['x', ramp(5)]]), END, out, 0);
  // Grid t_i = END - (20 - i) x 0.5 s, i.e. 0, 0.5, ..., 9.5 s after the start: the ramp's values.
  assert.deepEqual(Array.from(out), Array.from({ length: 20 }, (_, i) => i * 0.5));
  assert.equal(r.quality, 1);
});

test('a 4 s gap is masked, not interpolated across, and lowers the quality', () => {
  const out = new Float32Array(20).fill(99);
  const r = prepareWindow(manifest({ kind: 'none' }), new Map([['x', ramp(5, 3, 7)]]), END, out, 0);
  // Samples stop at 2.8 s and resume at 7 s; the gap limit is 2 x max(0.2, 0.5) = 1 s. Grid
  // points with no sample within 1 s: 4.0, 4.5, 5.0, 5.5 s (3.5 s has 2.8 s, 6.0 s has 7.0 s).
  const gaps = Array.from(out).map((v, i) => (v === 0 && i > 0 ? i * 0.5 : undefined)).filter((x) => x !== undefined);
  assert.deepEqual(gaps, [4, 4.5, 5, 5.5]);
  assert.equal(out[7], Math.fround(2.8), '3.5 s takes the nearer sample (2.8 s), not a line to 7 s');
  assert.equal(out[12], 7, '6.0 s takes 7.0 s, the one within the limit');
  assert.equal(r.quality, 16 / 20);
});

test('z-score over the present points; a flat or absent channel becomes zeros', () => {
  const out = new Float32Array(40);
  const twoChannels: EncoderManifest = { ...manifest({ kind: 'zscore' }), input: { name: 'input', channels: ['x', 'y'], sample_rate_hz: 2, length: 20 } };
  const r = prepareWindow(twoChannels, new Map([['x', ramp(5)]]), END, out, 0);
  const x = Array.from(out.subarray(0, 20));
  const mean = x.reduce((a, b) => a + b, 0) / 20;
  const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / 20);
  assert.ok(Math.abs(mean) < 1e-6 && Math.abs(sd - 1) < 1e-6, `${mean} ${sd}`);
  assert.deepEqual(Array.from(out.subarray(20)), new Array(20).fill(0), 'y is absent');
  assert.equal(r.quality, 0.5);
});

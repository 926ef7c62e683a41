// The per-window pipeline driven with simulated time: samples of two subjects in, one
// cross-section each out, with features, batched embeddings from the shipped encoders, coverage
// and provenance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeVector } from '../../src/embeddings/vector-encoding.js';
import { EncoderSet, SHIPPED_ENCODERS_DIR } from '../../src/embeddings/encoder-set.js';
import { WindowPipeline } from '../../src/hub/window-pipeline.js';
import { silentLogger } from '../../src/ops/log.js';
import type { ChannelInfo } from '../../src/profiles/profile.js';
import type { TimedSample } from '../../src/profiles/timing.js';

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 30_000);
const acc = (name: string): ChannelInfo => ({ name, unit: '[g]', modality: 'motion', rateHz: 100, standardCode: undefined });

/** 100 Hz accelerometer samples over [from, to): still, or walking at 1.8 Hz. */
function imu(from: number, to: number, walking: boolean): TimedSample[] {
  const out: TimedSample[] = [];
  for (let t = from; t < to; t += 10) {
    const s = (t - T0) / 1000;
    const z = 1 + (walking ? 0.3 * Math.sin(2 * Math.PI * 1.8 * s) + 0.1 * Math.sin(2 * Math.PI * 3.6 * s) : 0.002 * Math.sin(s * 17));
    const x = walking ? 0.15 * Math.sin(2 * Math.PI * 0.9 * s) : 0.001 * Math.cos(s * 13);
    for (const [channel, value] of [['acc_x', x], ['acc_y', 0.02], ['acc_z', z]] as const) out.push({ channel, value, unit: '[g]', monoMs: t - T0, wallMs: t });
  }
  return out;
}

test('two subjects, one window: features, float16 embeddings from one batched run, provenance', { timeout: 60_000 }, async (t) => {
  const set = await EncoderSet.load([SHIPPED_ENCODERS_DIR], silentLogger(), { intraOpThreads: 1 });
  t.after(() => set.close());
  const pipeline = new WindowPipeline({
    devices: ['walker', 'sleeper'].map((s) => ({ deviceId: `imu:${s}`, subject: s, profileId: 'generic/imu6-lcrc', profileVersion: '1.0.0', channels: ['acc_x', 'acc_y', 'acc_z'].map(acc) })),
    windowMs: 30_000, graceMs: 2000, minCoverage: 0.5, log: silentLogger(), nowWallMs: T0 + 1,
    encoders: { set, options: { encoding: 'float16', minQuality: 0.5 } },
  });
  for (let from = T0; from < T0 + 30_000; from += 1000) {
    pipeline.add('imu:walker', imu(from, from + 1000, true));
    pipeline.add('imu:sleeper', imu(from, from + 1000, false));
  }
  const closed = pipeline.close(30_000, T0 + 32_000, false);
  assert.equal(closed.startMs, T0);
  const sections = await closed.sections;
  const walker = sections.get('walker')!;
  const sleeper = sections.get('sleeper')!;
  const enmo = (s: typeof walker) => s.features!.find((f) => f.code === 'activity.enmo')!;
  assert.ok(enmo(walker).value > 50, `walking ENMO ${enmo(walker).value} mg`);
  assert.ok(enmo(sleeper).value < 5, `still ENMO ${enmo(sleeper).value} mg`);
  assert.equal(enmo(walker).n, 3000);
  assert.equal(enmo(walker).coverage, 1);
  const sha = createHash('sha256').update(await readFile(join(SHIPPED_ENCODERS_DIR, 'motion.onnx'))).digest('hex');
  for (const s of [walker, sleeper]) {
    assert.equal(s.embeddings!.length, 1);
    const e = s.embeddings![0]!;
    assert.deepEqual([e.modality, e.encoder_name, e.encoder_version, e.encoder_sha256, e.dim, e.packed!.length], ['motion', 'twinedge-motion-spectral', '1.0.0', sha, 16, 32]);
    assert.ok(e.quality! > 0.99);
  }
  const distance = Math.hypot(...Array.from(decodeVector(walker.embeddings![0]!)).map((v, i) => v - decodeVector(sleeper.embeddings![0]!)[i]!));
  assert.ok(distance > 0.5, `walking and lying still embed apart (${distance})`);
  assert.deepEqual(walker.sources, [{ device_id: 'imu:walker', profile_id: 'generic/imu6-lcrc', profile_version: '1.0.0', channels: ['acc_x', 'acc_y', 'acc_z'] }]);
  assert.equal(walker.quality![0]!.coverage, 1);
});

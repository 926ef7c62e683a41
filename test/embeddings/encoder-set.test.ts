// The shipped encoders through the hub's own loading, with the real onnxruntime-node: batching,
// the SHA-256 every embedding carries, a bad manifest skipped, a changed model taken over live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { EncoderSet, SHIPPED_ENCODERS_DIR } from '../../src/embeddings/encoder-set.js';
import { createLogger } from '../../src/ops/log.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';

function recordingLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('info', new Writable({ write(c, _e, cb) { for (const l of String(c).trim().split('\n')) lines.push(JSON.parse(l)); cb(); } }));
  return { log, lines };
}

test('the shipped encoders load, one per modality, each with its model file\'s SHA-256', { timeout: 60_000 }, async (t) => {
  const { log } = recordingLog();
  const set = await EncoderSet.load([SHIPPED_ENCODERS_DIR], log, { intraOpThreads: 1 });
  t.after(() => set.close());
  const info = set.info().sort((a, b) => (a.modality < b.modality ? -1 : 1));
  assert.deepEqual(info.map((i) => i.modality), ['cardiac', 'motion', 'respiration']);
  for (const i of info) {
    const bytes = await readFile(join(SHIPPED_ENCODERS_DIR, `${i.modality}.onnx`));
    assert.equal(i.sha256, createHash('sha256').update(bytes).digest('hex'));
  }
});

test('a batch of windows gives what the same windows give one by one', { timeout: 60_000 }, async (t) => {
  const { log } = recordingLog();
  const set = await EncoderSet.load([SHIPPED_ENCODERS_DIR], log, { intraOpThreads: 1 });
  t.after(() => set.close());
  const motion = set.encoders.find((e) => e.manifest.modality === 'motion')!;
  const n = 3;
  const size = motion.windowSize;
  const input = new Float32Array(n * size);
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i / (7 + Math.floor(i / size)));
  const batched = await motion.run(input, n);
  const dim = motion.manifest.output.dim;
  for (let k = 0; k < n; k++) {
    const single = await motion.run(input.slice(k * size, (k + 1) * size), 1);
    for (let d = 0; d < dim; d++) assert.ok(Math.abs(single[d]! - batched[k * dim + d]!) < 1e-5, `window ${k} value ${d}`);
  }
});

test('a bad manifest is skipped with its file named; a changed model takes over, a broken one does not', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  await copyFile(join(SHIPPED_ENCODERS_DIR, 'respiration.onnx'), join(dir, 'respiration.onnx'));
  await copyFile(join(SHIPPED_ENCODERS_DIR, 'respiration.manifest.json'), join(dir, 'respiration.manifest.json'));
  const manifest = JSON.parse(await readFile(join(SHIPPED_ENCODERS_DIR, 'motion.manifest.json'), 'utf8'));
  await writeFile(join(dir, 'broken.manifest.json'), JSON.stringify({ ...manifest, output: { name: 'embedding', dim: 0 } }));
  const { log, lines } = recordingLog();
  const set = await EncoderSet.load([dir], log, { intraOpThreads: 1, watchIntervalMs: 50 });
  t.after(() => set.close());
  assert.deepEqual(set.info().map((i) => i.modality), ['respiration']);
  const refused = lines.find((l) => l.msg === 'encoder not loaded')!;
  assert.match(String(refused.file), /broken\.manifest\.json$/);
  assert.equal(refused.code, 'ENCODER_INVALID');
  assert.match(String(refused.err), /output\.dim/);

  // The same model with a doc_string appended (ModelProto field 6): another file, another SHA-256.
  const before = set.info()[0]!.sha256;
  const bytes = await readFile(join(dir, 'respiration.onnx'));
  await writeFile(join(dir, 'respiration.onnx'), Buffer.concat([bytes, Buffer.from([0x32, 0x02, 0x76, 0x32])]));
  await until(() => set.info()[0]!.sha256 !== before, 'the changed model to take over', 10_000);
  assert.equal(set.info()[0]!.sha256, createHash('sha256').update(Buffer.concat([bytes, Buffer.from([0x32, 0x02, 0x76, 0x32])])).digest('hex'));
  assert.ok(lines.some((l) => l.msg === 'encoder changed' && l.previous === before));

  // Garbage in place of the model: logged, and the running encoder stays.
  const current = set.info()[0]!.sha256;
  await writeFile(join(dir, 'respiration.onnx'), 'not a model');
  await until(() => lines.some((l) => l.msg === 'changed encoder not loaded; the previous one keeps running'), 'the broken model to be refused', 10_000);
  assert.equal(set.info()[0]!.sha256, current);
  const still = set.encoders[0]!;
  const out = await still.run(new Float32Array(still.windowSize), 1);
  assert.equal(out.length, 16);
});

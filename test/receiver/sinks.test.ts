import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ClockStatus, VectorEncoding } from '../../src/frames/codec.js';
import { JsonlSink, jsonLine } from '../../src/receiver/sinks/jsonl-sink.js';
import { formatLine, LineSink } from '../../src/receiver/sinks/line-sink.js';
import type { AcceptedFrame } from '../../src/receiver/verify.js';
import { FrameVerifier } from '../../src/receiver/verify.js';
import { TestHub, trustFor, type Message } from './helpers.js';
import { makeTempDir } from '../helpers/tmp.js';

const hub = new TestHub('hub-a');
const verifier = new FrameVerifier(trustFor(['hub-a', hub]));

function frame(m: Message): AcceptedFrame {
  const v = verifier.verify(m.topic, m.payload);
  if (!v.ok) throw new Error(v.reason);
  return v.frame;
}

const withEmbedding = () => frame(hub.make(42, 'subj-1', {
  cross_section: {
    window_start_ms: 1_795_000_000_000, window_end_ms: 1_795_000_010_000,
    features: [{ code: 'hr.mean', value: 61.5, unit: '/min' }, { code: 'hrv.rmssd', value: 42.0001, unit: 'ms' }],
    embeddings: [{ modality: 'cardiac', encoder_name: 'ecg-small', encoder_version: '1', encoder_sha256: 'ab'.repeat(32), dim: 4, encoding: VectorEncoding.INT8, packed: new Uint8Array([1, 2, 254, 255]), scale: 0.5 }],
  },
}, 'cross_section'));

test('the JSONL file sink appends one object per frame with the header, key and decoded payload', async () => {
  const dir = await makeTempDir('twinedge-jsonl-');
  try {
    const path = join(dir.path, 'out.jsonl');
    const f1 = withEmbedding();
    const f2 = frame(hub.gap(43, [{ first: 30, last: 39 }]));
    const sink = new JsonlSink({ path });
    await sink.write(f1);
    await sink.write(f2);
    await sink.close();
    // Reopening appends: a restarted receiver continues the file.
    const again = new JsonlSink({ path });
    await again.write(frame(hub.status('online', 43)));
    await again.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    const [a, b, c] = lines;
    assert.deepEqual(
      { hub_id: a.hub_id, subject_ref: a.subject_ref, seq: a.seq, kind: a.kind, key_id: a.key_id, boot_id: a.boot_id, wall_ms: a.wall_ms, mono_ms: a.mono_ms, clock_status: a.clock_status, topic: a.topic },
      { hub_id: 'hub-a', subject_ref: 'subj-1', seq: 42, kind: 'cross_section', key_id: hub.keyId, boot_id: f1.body.boot_id, wall_ms: f1.body.wall_ms, mono_ms: f1.body.mono_ms, clock_status: ClockStatus.SYNCED, topic: 'twin/v1/hub-a/subj-1/cross-section' },
    );
    assert.deepEqual(a.payload.features.map((x: { code: string; value: number }) => [x.code, x.value]), [['hr.mean', 61.5], ['hrv.rmssd', 42.0001]]);
    assert.equal(a.payload.embeddings[0].packed, Buffer.from([1, 2, 254, 255]).toString('base64'));
    assert.deepEqual(b.payload.dropped, [{ first: 30, last: 39 }]);
    assert.equal(b.kind, 'gap');
    assert.equal(c.kind, 'status');
    assert.equal(c.seq, 0);
    assert.equal(c.payload.last_seq, 43);
  } finally {
    await dir.remove();
  }
});

test('the JSONL stream sink writes the same lines to a stream it does not end', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => { text += d.toString(); });
  const sink = new JsonlSink({ stream: out });
  const f = withEmbedding();
  await sink.write(f);
  await sink.close();
  assert.equal(out.writableEnded, false);
  assert.equal(text, jsonLine(f));
});

test('JSON lines are safe for 64-bit integers that a double cannot hold', () => {
  const f = withEmbedding();
  const big = { ...f, body: { ...f.body, cross_section: { ...f.body.cross_section!, window_start_ms: 2n ** 63n - 1n as unknown as number } } };
  const line = JSON.parse(jsonLine(big));
  assert.equal(line.payload.window_start_ms, '9223372036854775807');
});

test('the line sink prints one short line per frame, with gap ranges for gap frames', async () => {
  const f = withEmbedding();
  const time = new Date(f.body.wall_ms).toISOString().slice(11, 19);
  assert.equal(formatLine(f), `hub-a subj-1 #42 cross-section ${time} hr.mean=61.5/min hrv.rmssd=42ms cardiac:ecg-small[4] (verified key ${hub.keyId.slice(0, 8)})`);
  const g = frame(hub.gap(50, [{ first: 40, last: 44 }, { first: 47, last: 47 }]));
  assert.match(formatLine(g), /^hub-a _hub #50 gap \S+ dropped 40-44,47 quota-full \(verified key [0-9a-f]{8}\)$/);
  assert.match(formatLine(frame(hub.status('offline', 50))), /^hub-a status \S+ offline last_seq=50 /);
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => { text += d.toString(); });
  const sink = new LineSink(out);
  await sink.write(g);
  await sink.write(f);
  await sink.close();
  assert.equal(text, `${formatLine(g)}\n${formatLine(f)}\n`);
});

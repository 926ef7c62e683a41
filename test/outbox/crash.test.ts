import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelOutbox } from '../../src/outbox/level-outbox.js';

const writer = new URL('../fixtures/outbox-writer.ts', import.meta.url).pathname;

/** Runs the writer until it has made `after` more durable appends, then SIGKILLs it. */
function runAndKill(location: string, afterDurable: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, location], { stdio: ['ignore', 'pipe', 'inherit'] });
    const durable: number[] = [];
    let seen = 0;
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('durable ')) {
          durable.push(...line.slice(8).split(',').map(Number));
          if (++seen === afterDurable) child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(durable) : reject(new Error(`writer exited by itself (${signal ?? _code})`))));
  });
}

test('an outbox SIGKILLed mid-write loses no durable frame, never repeats a seq, and keeps state with its frames', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-crash-'));
  const location = join(dir, 'db');
  try {
    const everDurable = new Set<number>();
    for (let round = 0; round < 5; round++) {
      // A different kill point each round: after 20 to 400 durable appends.
      const durable = await runAndKill(location, 20 + Math.floor(Math.random() * 380));
      for (const s of durable) {
        assert.ok(!everDurable.has(s), `seq ${s} reported durable twice across restarts`);
        everDurable.add(s);
      }
      const outbox = new LevelOutbox({ location, quotaBytes: 1e9, sync: 'batch', maxBatch: 1000, makeGap: () => new Uint8Array(0) });
      await outbox.open();
      try {
        const stored: number[] = [];
        let cursor = 0;
        for (;;) {
          const recs = await outbox.read(cursor, 1000);
          if (!recs.length) break;
          for (const r of recs) {
            assert.equal(Buffer.from(r.payload).toString(), `frame ${r.seq}`, 'frame bytes intact');
            stored.push(r.seq);
          }
          cursor = recs[recs.length - 1]!.seq;
        }
        const last = outbox.stats().lastSeq;
        assert.deepEqual(stored, Array.from({ length: last }, (_, i) => i + 1), 'stored seqs are exactly 1..last, no hole');
        for (const s of everDurable) assert.ok(s <= last, `durable seq ${s} is stored`);
        const count = Number(Buffer.from((await outbox.getState('count'))!).toString());
        assert.equal(count, last, 'state written in the same batch as the frames it counts');
      } finally {
        await outbox.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gap } from '../../src/frames/codec.js';
import { FrameMaker } from '../../src/frames/frame-maker.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { FrameSigner } from '../../src/frames/sign.js';
import { LevelOutbox } from '../../src/outbox/level-outbox.js';
import { ManualClock } from '../../src/ops/clock.js';
import { outboxSuite } from '../conformance/outbox.suite.js';

const maker = new FrameMaker({ hubId: 'hub-t', clock: new ManualClock(Date.UTC(2026, 0, 1)), signer: new FrameSigner(generateHubKey()) });
const makeGap = (seq: number, gap: Gap) => maker.make(seq, '_hub', { gap });

outboxSuite('LevelOutbox', {
  makeGap,
  async create({ quotaBytes, makeGap: mg, tailCacheBytes }) {
    const dir = await mkdtemp(join(tmpdir(), 'twinedge-outbox-'));
    const make = () => new LevelOutbox({ location: join(dir, 'db'), quotaBytes: quotaBytes ?? 1e9, sync: 'batch', maxBatch: 1000, makeGap: mg ?? makeGap, ...(tailCacheBytes ? { tailCacheBytes } : {}) });
    return { outbox: make(), reopen: make, cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
});

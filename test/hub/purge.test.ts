// A purge on a real Hub while its broker link is down: exactly the subject's unsent frames leave
// the LevelDB outbox (read before and after), with its state; once the link is back the
// reference receiver gets the rest and a gap frame that declares the purged seqs, so nothing is
// missing: the purge is reported, not a silent hole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CommandOutcome, GapReason, type CommandResult } from '../../src/frames/codec.js';
import { HUB_SUBJECT } from '../../src/frames/frame-maker.js';
import { frameCost } from '../../src/outbox/segment.js';
import { rangesOf } from '../../src/outbox/seq-ranges.js';
import { silentLogger } from '../../src/ops/log.js';
import type { GapEvent } from '../../src/receiver/dedupe.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { TrustStore } from '../../src/receiver/trust.js';
import type { AcceptedFrame } from '../../src/receiver/verify.js';
import { startAedesFor } from '../helpers/aedes.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';
import { brokerLink, crossSection, event, exposure, generateHubKey, HUB_ID, purgePayload, readOutbox, signedCommand, startHub } from './command-rig.js';

test('purge while the broker is away: exactly the subject\'s pending frames and state go, and the receiver sees them declared', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const link = await brokerLink(t, broker.port);
  const hubKey = generateHubKey();
  const serverKey = generateHubKey();

  const received: AcceptedFrame[] = [];
  const gaps: GapEvent[] = [];
  const receiver = new Receiver({
    brokerUrl: broker.url, mqttVersion: 4, clientId: 'twin-rx', stateDir: join(dir, 'rx'),
    sink: { write: (f) => { received.push(f); }, close: async () => {} },
    trust: new TrustStore([{ hubId: HUB_ID, publicKey: hubKey.publicKey, source: 'test' }]), log: silentLogger(),
  });
  receiver.on('gap', (g) => gaps.push(g));
  await receiver.start();
  t.after(() => receiver.stop());

  const rig = await startHub(t, { dir, brokerUrl: link.url, hubKey, serverKey });
  // Delivered before the outage: the receiver knows the hub, and p-1 has state on the hub.
  await rig.source.emit([
    { subjectRef: 'p-1', payload: { cross_section: crossSection() } },
    { subjectRef: 'p-2', payload: { cross_section: crossSection() } },
  ], [{ key: 'exposure/p-1', value: Buffer.from('{"day":1}') }, { key: 'exposure/p-2', value: Buffer.from('{"day":1}') }]);
  await rig.hub.recordEvent('p-1', event('evt-delivered'));
  const delivered = rig.hub.stats().outbox.lastSeq;
  await until(() => received.some((f) => f.seq === delivered) && rig.hub.stats().outbox.pending === 0, 'the first frames delivered and acknowledged');

  link.cut();
  await until(() => !rig.hub.stats().publisher.connected, 'the hub cut off');
  await rig.source.emit([
    { subjectRef: 'p-1', payload: { cross_section: crossSection() } },
    { subjectRef: 'p-2', payload: { cross_section: crossSection() } },
    { subjectRef: 'p-1', payload: { cross_section: crossSection() } },
  ]);
  await rig.source.emit([{ subjectRef: 'p-2', payload: { exposure: exposure() } }, { subjectRef: 'p-1', payload: { exposure: exposure() } }]);
  await rig.hub.recordEvent('p-1', event('evt-pending'));
  await rig.source.emit([{ subjectRef: 'p-2', payload: { cross_section: crossSection() } }]);
  const pendingBefore = rig.hub.stats().outbox;

  // The outbox before: everything appended during the outage is there, p-1's and p-2's.
  await rig.stop();
  const before = await readOutbox(rig.dataDir);
  const unsent = before.frames.filter((f) => f.seq > delivered);
  const p1Unsent = unsent.filter((f) => f.subjectRef === 'p-1').map((f) => f.seq);
  const p2Unsent = unsent.filter((f) => f.subjectRef === 'p-2');
  assert.equal(p1Unsent.length, 4);
  assert.equal(p2Unsent.length, 3);
  assert.equal(pendingBefore.pending, 7);

  const hub = await startHub(t, { dir, brokerUrl: link.url, hubKey, serverKey });
  const handled = await hub.hub.handleCommand(signedCommand(serverKey, purgePayload('p-1')).bytes);
  assert.equal(handled.outcome, 'accepted');
  assert.deepEqual(handled.purge!.removed, rangesOf(p1Unsent), 'exactly the subject\'s unsent frames');
  assert.equal(handled.purge!.frames, 4);
  assert.deepEqual(hub.source.forgotten, ['p-1'], 'the source dropped its accumulators first');
  assert.equal(hub.hub.stats().outbox.pending, 7 - 4 + 2, 'p-2\'s frames, the gap and the answer');
  const cost = (f: { subjectRef: string; payload: Uint8Array }) => frameCost({ seq: 0, kind: 'event', ...f });
  assert.equal(handled.purge!.bytes, unsent.filter((f) => f.subjectRef === 'p-1').reduce((n, f) => n + cost(f), 0));
  const bytesAfterPurge = hub.hub.stats().outbox.pendingBytes;

  // The outbox after: no frame of p-1 at all, p-2's byte for byte, the gap and the answer.
  await hub.stop();
  const after = await readOutbox(rig.dataDir);
  assert.deepEqual(after.frames.filter((f) => f.subjectRef === 'p-1').map((f) => f.seq), [], 'delivered copies still on disk went too');
  for (const f of p2Unsent) assert.deepEqual(after.frames.find((x) => x.seq === f.seq)?.payload, f.payload, `p-2 seq ${f.seq} untouched`);
  const gap = after.frames.find((f) => f.seq === handled.purge!.gapSeq)!;
  assert.equal(gap.kind, 'gap');
  assert.equal(gap.body.gap!.reason, GapReason.PURGED);
  assert.deepEqual(gap.body.gap!.dropped, rangesOf(p1Unsent));
  const answer = after.frames.find((f) => f.seq === handled.resultSeq)!;
  assert.equal(answer.subjectRef, HUB_SUBJECT);
  assert.equal(bytesAfterPurge, pendingBefore.pendingBytes - handled.purge!.bytes + cost(gap) + cost(answer), 'the quota counts the purged bytes out');
  const result = answer.body.command_result as CommandResult;
  assert.equal(result.outcome, CommandOutcome.ACCEPTED);
  assert.equal(result.purge!.subject_ref, 'p-1');
  assert.equal(result.purge!.gap_seq, gap.seq);
  assert.deepEqual(result.purge!.removed, rangesOf(p1Unsent));
  assert.deepEqual(result.purge!.state_keys.sort(), ['events/id/evt-delivered', 'events/id/evt-pending', 'exposure/p-1']);
  assert.equal(after.state.has('exposure/p-1'), false);
  assert.equal(after.state.has('events/id/evt-pending'), false);
  assert.ok(after.state.has('exposure/p-2'), 'the other subject\'s state kept');
  assert.ok(after.state.has('commands/nonces'));
  assert.deepEqual(JSON.parse(after.state.get('events/ids')!.toString()), [], 'the event ids forgotten');

  // The link comes back: the receiver gets the rest, and the purged seqs are declared, not missing.
  const back = await startHub(t, { dir, brokerUrl: link.url, hubKey, serverKey });
  link.mend();
  await until(() => received.some((f) => f.seq === handled.resultSeq), 'the answer at the receiver');
  assert.deepEqual(receiver.missing(HUB_ID), [], 'no silent hole');
  const declared = gaps.filter((g): g is Extract<GapEvent, { type: 'declared' }> => g.type === 'declared');
  assert.deepEqual(declared.map((g) => [g.reason, g.ranges]), [[GapReason.PURGED, rangesOf(p1Unsent)]]);
  assert.deepEqual(received.filter((f) => p1Unsent.includes(f.seq)), [], 'no purged frame reached the receiver');
  for (const f of p2Unsent) assert.ok(received.some((r) => r.seq === f.seq), `p-2 seq ${f.seq} received`);
  await back.stop();
});

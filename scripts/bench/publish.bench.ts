// The publishing paths against bare mqtt.js QoS 1 publishes of the same bytes to the same
// broker, with the same in-flight window, measured alternately in the same run.
import { encodeBody } from '../../src/frames/codec.js';
import { FrameMaker } from '../../src/frames/frame-maker.js';
import { generateHubKey } from '../../src/frames/keys.js';
import { FrameSigner } from '../../src/frames/sign.js';
import { ManualClock } from '../../src/ops/clock.js';
import { bareQos1Publish, result, sideBySide, type BenchContext, type BenchResult } from './bench-kit.js';
import { payloadOfSize, publishDrain, publishFull } from './publish-paths.js';

const INFLIGHT = 1000;
const BODY_BYTES = 1024;

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  // The baseline publishes the bytes of a signed 1 KB frame, as the hub does.
  const maker = new FrameMaker({ hubId: 'bench-hub', clock: new ManualClock(Date.now()), signer: new FrameSigner(generateHubKey()) });
  const frame = Buffer.from(maker.make(1, 'bench-subject', payloadOfSize(BODY_BYTES)));
  const bodyLength = encodeBody(maker.body(1, 'bench-subject', payloadOfSize(BODY_BYTES))).length;
  const bare = (n: number) => bareQos1Publish(ctx.brokerUrl, Array.from({ length: n }, () => frame), INFLIGHT);

  const fullN = 50_000;
  const full = await sideBySide(ctx.repeats, () => publishFull({ url: ctx.brokerUrl, frames: fullN, inflight: INFLIGHT, bodyBytes: BODY_BYTES }), () => bare(fullN));
  const drainN = 100_000;
  const drain = await sideBySide(ctx.repeats, () => publishDrain({ url: ctx.brokerUrl, frames: drainN, inflight: INFLIGHT, bodyBytes: BODY_BYTES }), () => bare(drainN));
  process.stderr.write(`publish: frame body ${bodyLength} B, signed frame ${frame.length} B, in-flight window ${INFLIGHT}\n`);
  return [
    result('publish.full', 'frames/s', full.value, full.baseline),
    result('publish.drain', 'frames/s', drain.value, drain.baseline),
  ];
}

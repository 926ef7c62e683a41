// A bedside's worth of samples through the hub's window pipeline, faster than real time, in a
// process of its own so that its CPU time and peak RSS are its own. Run by pipeline.bench.ts:
//
//   node dist/bench/scripts/bench/workers/bedside.js MINUTES
//
// (compiled first, so that its memory is the hub's own and not the TypeScript loader's).
// 8 subjects, each with ECG 130 Hz, a 3-axis accelerometer at 100 Hz, PPG 64 Hz, respiration
// 25 Hz and light 1 Hz; 30 s windows with features, the shipped encoders (one batched run per
// encoder per window) and each cross-section made into a signed frame. Samples are made as the
// device readers make them (one object each, times spread by rate), one second at a time.
// Prints one JSON line: data seconds, wall seconds, CPU seconds, start and peak RSS (bytes).
import { EncoderSet, SHIPPED_ENCODERS_DIR } from '../../../src/embeddings/encoder-set.js';
import { FrameMaker } from '../../../src/frames/frame-maker.js';
import { generateHubKey } from '../../../src/frames/keys.js';
import { FrameSigner } from '../../../src/frames/sign.js';
import { WindowPipeline } from '../../../src/hub/window-pipeline.js';
import { ManualClock } from '../../../src/ops/clock.js';
import { silentLogger } from '../../../src/ops/log.js';
import type { ChannelInfo, Modality } from '../../../src/profiles/profile.js';
import type { TimedSample } from '../../../src/profiles/timing.js';

const startRss = process.memoryUsage.rss();
const minutes = Number(process.argv[2] ?? 10);
const SUBJECTS = 8;
const WINDOW_MS = 30_000;
const T0 = Date.UTC(2026, 0, 1);

const ch = (name: string, modality: Modality, rateHz: number, unit: string): ChannelInfo => ({ name, unit, modality, rateHz, standardCode: undefined });
const DEVICES: Array<{ kind: string; channels: ChannelInfo[]; signal: (s: number, k: number) => number }> = [
  { kind: 'ecg', channels: [ch('ecg', 'cardiac', 130, 'mV')], signal: (s) => (s * 1.1) % 1 < 0.05 ? 1.2 : 0.02 * Math.sin(s * 40) },
  { kind: 'imu', channels: [ch('acc_x', 'motion', 100, '[g]'), ch('acc_y', 'motion', 100, '[g]'), ch('acc_z', 'motion', 100, '[g]')], signal: (s, k) => (k === 2 ? 1 : 0) + 0.2 * Math.sin(2 * Math.PI * 1.8 * s + k) },
  { kind: 'ppg', channels: [ch('ppg', 'cardiac', 64, '1')], signal: (s) => Math.sin(2 * Math.PI * 1.1 * s) },
  { kind: 'belt', channels: [ch('resp', 'respiration', 25, '%')], signal: (s) => 50 + 20 * Math.sin(2 * Math.PI * 0.25 * s) },
  { kind: 'light', channels: [ch('illuminance', 'light', 1, 'lx')], signal: (s) => 300 + 10 * Math.sin(s / 60) },
];

const encoders = await EncoderSet.load([SHIPPED_ENCODERS_DIR], silentLogger(), { intraOpThreads: 1 });
const subjects = Array.from({ length: SUBJECTS }, (_, i) => `s${i + 1}`);
const pipeline = new WindowPipeline({
  devices: subjects.flatMap((subject) => DEVICES.map((d) => ({ deviceId: `${d.kind}:${subject}`, subject, profileId: `bench/${d.kind}`, profileVersion: '1.0.0', channels: d.channels }))),
  windowMs: WINDOW_MS, graceMs: 2000, minCoverage: 0.5, log: silentLogger(), nowWallMs: T0,
  encoders: { set: encoders, options: { encoding: 'float16', minQuality: 0.5 } },
});
const clock = new ManualClock(T0);
const maker = new FrameMaker({ hubId: 'bench-hub', clock, signer: new FrameSigner(generateHubKey()) });

let peakRss = process.memoryUsage.rss();
let peakHeap = 0;
let peakExternal = 0;
let frames = 0;
let embeddings = 0;
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
for (let second = 0; second < minutes * 60; second++) {
  const from = T0 + second * 1000;
  for (const subject of subjects) {
    for (const d of DEVICES) {
      const samples: TimedSample[] = [];
      const rate = d.channels[0]!.rateHz!;
      for (let i = 0; i < rate; i++) {
        const t = from + (i * 1000) / rate;
        const s = (t - T0) / 1000;
        d.channels.forEach((c, k) => samples.push({ channel: c.name, value: d.signal(s, k), unit: c.unit, monoMs: t - T0, wallMs: t }));
      }
      pipeline.add(`${d.kind}:${subject}`, samples);
    }
  }
  clock.advance(1000);
  if (T0 + (second + 1) * 1000 >= pipeline.closesAtMs) {
    const closed = pipeline.close(clock.monoMs(), clock.wallMs(), false);
    for (const [subject, cross_section] of await closed.sections) {
      maker.make(++frames, subject, { cross_section });
      embeddings += cross_section.embeddings?.length ?? 0;
    }
    const m = process.memoryUsage();
    if (m.rss > peakRss) { peakRss = m.rss; peakHeap = m.heapTotal; peakExternal = m.external + m.arrayBuffers; }
  }
}
const cpu = process.cpuUsage(cpu0);
const wallS = (performance.now() - wall0) / 1000;
await encoders.close();
process.stdout.write(`${JSON.stringify({ dataS: minutes * 60, wallS, cpuS: (cpu.user + cpu.system) / 1e6, startRss, peakRss, peakHeap, peakExternal, frames, embeddings, subjects: SUBJECTS })}\n`);

// Exposure accumulation through the hub's code (SubjectExposure: the streams, the day ledger,
// a report every 5 minutes with its state snapshot, as the daemon takes them) against the bare
// arithmetic the same inputs need at the least: for light, lux x epoch summed in a loop; for
// movement, the ActiGraph filter alone (AxisCounts) on the same number of samples per axis.
import { performance } from 'node:perf_hooks';
import { AxisCounts } from '../../src/exposure/activity-counts.js';
import { SubjectExposure, type SubjectExposureOptions } from '../../src/exposure/subject-exposure.js';
import type { TimedSample } from '../../src/profiles/timing.js';
import { result, sideBySide, type BenchContext, type BenchResult } from './bench-kit.js';

const T0 = Date.UTC(2026, 5, 1);
const BASE: SubjectExposureOptions = { timeZone: 'Europe/Paris', periodMs: 300_000 };
const LIGHT: SubjectExposureOptions = {
  ...BASE,
  light: { thresholdLx: 250, nightThresholdLx: 10, nightStartMin: 1320, nightEndMin: 360, epochMs: 1000, maxGapMs: 5000, halfLivesMs: [86_400_000] },
};
const ACTIVITY: SubjectExposureOptions = { ...BASE, activity: { rateHz: 100, maxGapMs: 1000 } };

/** Samples per second of a run: the samples fed, in batches of `batch` (a device's read), and every report taken with its state. */
function throughput(o: SubjectExposureOptions, samples: readonly TimedSample[], batch: number): number {
  const x = new SubjectExposure(o);
  const start = performance.now();
  let reports = 0;
  for (let i = 0; i < samples.length; i += batch) {
    x.add(samples.slice(i, i + batch));
    reports += x.takeReports()?.reports.length ?? 0;
  }
  const s = (performance.now() - start) / 1000;
  if (reports === 0) throw new Error('exposure bench: no report was made');
  return samples.length / s;
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  if (ctx.wants('exposure.light')) {
    // Two days at 1 Hz.
    const light: TimedSample[] = [];
    for (let s = 0; s < 2 * 86_400; s++) light.push({ channel: 'illuminance', value: 300 + 200 * Math.sin(s / 900), unit: 'lx', monoMs: s * 1000, wallMs: T0 + s * 1000 });
    const bare = () => {
      const start = performance.now();
      let dose = 0;
      for (let i = 0; i + 1 < light.length; i++) dose += (light[i]!.value as number) * (light[i + 1]!.wallMs - light[i]!.wallMs);
      if (!(dose > 0)) throw new Error('no dose');
      return light.length / ((performance.now() - start) / 1000);
    };
    const r = await sideBySide(ctx.repeats, () => throughput(LIGHT, light, 10), bare, { warmup: 1 });
    rows.push(result('exposure.light', 'samples/s', r.value, r.baseline));
  }
  if (ctx.wants('exposure.activity')) {
    // Ten minutes of a 100 Hz tri-axial accelerometer, one BLE-sized batch (36 rows) at a time.
    const acc: TimedSample[] = [];
    for (let k = 0; k < 60_000; k++) {
      const t = T0 + k * 10;
      for (const [i, channel] of ['acc_x', 'acc_y', 'acc_z'].entries()) acc.push({ channel, value: i === 2 ? 1 : 0.3 * Math.sin(k / (7 + i)), unit: '[g]', monoMs: k * 10, wallMs: t });
    }
    const axis = acc.filter((s) => s.channel === 'acc_x').map((s) => s.value as number);
    const bare = () => {
      const start = performance.now();
      const counters = [new AxisCounts(60), new AxisCounts(60), new AxisCounts(60)];
      for (const c of counters) c.push(axis);
      return (3 * axis.length) / ((performance.now() - start) / 1000);
    };
    const r = await sideBySide(ctx.repeats, () => throughput(ACTIVITY, acc, 108), bare, { warmup: 1 });
    rows.push(result('exposure.activity', 'samples/s', r.value, r.baseline));
  }
  return rows;
}

/**
 * activity.enmo (mg): Euclidean Norm Minus One of the accelerometer (channels acc_x, acc_y,
 * acc_z in g), per window: for each sample time where all three axes have a value,
 * max(0, sqrt(x² + y² + z²) - 1), averaged over the window, times 1000. Negative values are
 * clipped per sample before averaging (van Hees et al., 2013, as GGIR computes it), so a device
 * lying still reads 0 whatever its orientation, and a calibration error below 1 g does not
 * cancel real movement.
 *
 * n is the number of three-axis samples; coverage those present over those expected at acc_x's rate.
 */
import { rateCoverage, type FeatureDefinition } from './feature.js';

export const ACTIVITY_ENMO: FeatureDefinition = {
  code: 'activity.enmo',
  unit: 'mg',
  channels: ['acc_x', 'acc_y', 'acc_z'],
  compute(input) {
    const x = input.channels.get('acc_x');
    const y = input.channels.get('acc_y');
    const z = input.channels.get('acc_z');
    if (!x || !y || !z) return undefined;
    // The three axes of one reading share its time: walk them together, skipping an axis's
    // sample that has no partner (a dropped field).
    let i = 0, j = 0, k = 0, n = 0, sum = 0;
    while (i < x.times.length && j < y.times.length && k < z.times.length) {
      const t = Math.max(x.times[i]!, y.times[j]!, z.times[k]!);
      if (x.times[i]! < t) { i++; continue; }
      if (y.times[j]! < t) { j++; continue; }
      if (z.times[k]! < t) { k++; continue; }
      const norm = Math.hypot(x.values[i]!, y.values[j]!, z.values[k]!);
      sum += Math.max(0, norm - 1);
      n++;
      i++; j++; k++;
    }
    if (n === 0) return undefined;
    const coverage = x.rateHz === undefined ? 0 : Math.min(1, n / ((x.rateHz * (input.endMs - input.startMs)) / 1000));
    return { value: (sum / n) * 1000, n, coverage };
  },
};

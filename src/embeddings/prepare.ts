/**
 * One subject's window as an encoder's input: each channel resampled onto the encoder's grid,
 * gaps masked, normalised as the manifest says.
 *
 * - Grid: L points at the encoder's rate ending at the window's end: t_i = end - (L - i) / rate.
 *   An encoder may look further back than the hub's window (60 s of breathing for 30 s windows):
 *   the timelines keep that much.
 * - Resampling: linear interpolation between the two samples around t_i when both lie within the
 *   gap limit of it (twice the larger of the two sampling periods); else the nearer one if it
 *   does; else the point is a gap. This neither invents data across a gap nor drops a sample
 *   because the encoder's rate differs from the device's.
 * - Normalisation over the present points only: `zscore` (minus the mean, over the standard
 *   deviation; a flat channel becomes 0), `fixed` (the manifest's mean and std), or `none`.
 * - Gaps are then set to 0, which after normalisation is the channel's mean: the encoder sees
 *   no step where data is missing. Quality is the fraction of points that were present.
 */
import type { ChannelWindow } from '../streams/subject-streams.js';
import type { EncoderManifest } from './manifest.js';

export interface PreparedWindow {
  /** Fraction (0..1) of the grid points, over all channels, that came from data. */
  readonly quality: number;
}

export function prepareWindow(
  manifest: EncoderManifest,
  channels: ReadonlyMap<string, ChannelWindow>,
  endMs: number,
  out: Float32Array,
  offset: number,
): PreparedWindow {
  const { length: L, sample_rate_hz: rate } = manifest.input;
  const step = 1000 / rate;
  const present = new Uint8Array(L);
  let presentTotal = 0;
  manifest.input.channels.forEach((name, c) => {
    const base = offset + c * L;
    present.fill(0);
    const ch = channels.get(name);
    if (ch && ch.values.length > 0) {
      const devicePeriod = ch.rateHz ? 1000 / ch.rateHz : step;
      const limit = 2 * Math.max(devicePeriod, step);
      const { times, values } = ch;
      let j = 0;
      for (let i = 0; i < L; i++) {
        const t = endMs - (L - i) * step;
        while (j < times.length && times[j]! <= t) j++;
        // times[j - 1] <= t < times[j]
        const before = j - 1;
        const after = j < times.length ? j : -1;
        const db = before >= 0 ? t - times[before]! : Infinity;
        const da = after >= 0 ? times[after]! - t : Infinity;
        let v: number | undefined;
        if (db <= limit && da <= limit && after !== before) {
          const span = times[after]! - times[before]!;
          v = span > 0 ? values[before]! + ((values[after]! - values[before]!) * db) / span : values[before]!;
        } else if (db <= limit || da <= limit) {
          v = db <= da ? values[before]! : values[after]!;
        }
        if (v !== undefined) {
          out[base + i] = v;
          present[i] = 1;
        }
      }
    }
    let n = 0;
    let sum = 0;
    for (let i = 0; i < L; i++) if (present[i]) { n++; sum += out[base + i]!; }
    presentTotal += n;
    let mean = 0;
    let scale = 1;
    const norm = manifest.normalisation;
    if (norm.kind === 'zscore' && n > 0) {
      mean = sum / n;
      let ss = 0;
      for (let i = 0; i < L; i++) if (present[i]) ss += (out[base + i]! - mean) ** 2;
      const sd = Math.sqrt(ss / n);
      scale = sd > 0 ? 1 / sd : 0;
    } else if (norm.kind === 'fixed') {
      mean = norm.mean[c]!;
      scale = 1 / norm.std[c]!;
    }
    for (let i = 0; i < L; i++) out[base + i] = present[i] ? (out[base + i]! - mean) * scale : 0;
  });
  return { quality: presentTotal / (L * manifest.input.channels.length) };
}

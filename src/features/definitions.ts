import { ACTIVITY_ENMO } from './enmo.js';
import type { FeatureDefinition, FeatureValue, WindowInput } from './feature.js';
import { HRV_PNN50, HRV_RMSSD, HRV_SDNN } from './hrv.js';
import { HR_MEAN, LIGHT_MEAN, SPO2_MEAN, TEMPERATURE_MEAN } from './means.js';
import { RESP_RATE } from './resp-rate.js';

/** Every window feature, in the order frames list them. */
export const FEATURES: readonly FeatureDefinition[] = [
  HR_MEAN, HRV_RMSSD, HRV_SDNN, HRV_PNN50, SPO2_MEAN, RESP_RATE, ACTIVITY_ENMO, LIGHT_MEAN, TEMPERATURE_MEAN,
];

/** The channels any feature reads. */
export const FEATURE_CHANNELS: ReadonlySet<string> = new Set(FEATURES.flatMap((f) => f.channels));

export interface ComputedFeature extends FeatureValue {
  readonly code: string;
  readonly unit: string;
  readonly standardCode: string | undefined;
}

/**
 * The features of one window whose inputs cover at least `minCoverage` of it. One whose inputs
 * are absent or too thin is left out; the window's quality says how much data there was.
 */
export function computeFeatures(input: WindowInput, minCoverage: number): ComputedFeature[] {
  const out: ComputedFeature[] = [];
  for (const f of FEATURES) {
    if (!f.channels.every((c) => input.channels.has(c))) continue;
    const r = f.compute(input);
    if (r === undefined || !Number.isFinite(r.value) || r.coverage < minCoverage) continue;
    out.push({ code: f.code, unit: f.unit, standardCode: f.standardCode, ...r });
  }
  return out;
}

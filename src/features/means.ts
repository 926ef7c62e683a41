/**
 * Window means of a sampled channel: the arithmetic mean of every sample whose time falls in the
 * window, n the number of samples, coverage the samples present over the samples expected at the
 * channel's nominal rate.
 *
 * - hr.mean (/min), from `hr` (a heart-rate strap's reported rate; LOINC 8867-4 heart rate).
 * - spo2.mean (%), from `spo2` (LOINC 59408-5, oxygen saturation by pulse oximetry).
 * - light.mean (lx), from `illuminance`.
 * - temperature.mean (Cel), from `temperature`.
 */
import { mean, rateCoverage, type FeatureDefinition } from './feature.js';

function meanOf(code: string, unit: string, channel: string, standardCode?: string): FeatureDefinition {
  return {
    code, unit, channels: [channel], ...(standardCode ? { standardCode } : {}),
    compute(input) {
      const ch = input.channels.get(channel);
      if (!ch) return undefined;
      const value = mean(ch.values);
      if (value === undefined) return undefined;
      return { value, n: ch.values.length, coverage: rateCoverage(ch, input.startMs, input.endMs) };
    },
  };
}

export const HR_MEAN = meanOf('hr.mean', '/min', 'hr', 'LOINC:8867-4');
export const SPO2_MEAN = meanOf('spo2.mean', '%', 'spo2', 'LOINC:59408-5');
export const LIGHT_MEAN = meanOf('light.mean', 'lx', 'illuminance');
export const TEMPERATURE_MEAN = meanOf('temperature.mean', 'Cel', 'temperature');

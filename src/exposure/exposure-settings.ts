/**
 * Which exposures a subject gets, from the channels of its devices: light from an `illuminance`
 * channel (breathing from `resp`, activity from `acc_x/y/z` where they exist), each stream's
 * nominal period and gap limit from the channel's rate.
 */
import type { ChannelInfo } from '../profiles/profile.js';
import type { SubjectExposureOptions } from './subject-exposure.js';

export interface ExposureSettings {
  readonly periodMs: number;
  /** The longest interval one sample stands for; by default 5 of the channel's periods, at least 1 s. */
  readonly maxGapMs?: number | undefined;
  readonly light: {
    readonly thresholdLx: number;
    readonly nightThresholdLx: number;
    readonly nightStartMin: number;
    readonly nightEndMin: number;
    readonly halfLivesMs: readonly number[];
  };
}

/** For a channel without a rate (sent on change), the gap limit when none is configured. */
const EVENT_CHANNEL_GAP_MS = 60_000;
const GAP_PERIODS = 5;
/** Fast channels arrive in batches (a BLE notification holds many samples): never less than this. */
const MIN_GAP_MS = 1000;

/** A channel's nominal sample period and gap limit. */
export function channelTiming(channel: ChannelInfo, maxGapMs: number | undefined): { epochMs: number; maxGapMs: number } {
  const period = channel.rateHz !== undefined ? 1000 / channel.rateHz : undefined;
  const gap = maxGapMs ?? (period !== undefined ? Math.max(GAP_PERIODS * period, MIN_GAP_MS) : EVENT_CHANNEL_GAP_MS);
  // A sample before a gap stands for one period; one sent on change, for at most the gap limit.
  return { epochMs: Math.min(period ?? gap, gap), maxGapMs: gap };
}

/** The subject's exposure streams; undefined when none of its channels feeds one. */
export function subjectExposureOptions(channels: readonly ChannelInfo[], s: ExposureSettings, timeZone: string): SubjectExposureOptions | undefined {
  const lux = channels.find((c) => c.name === 'illuminance');
  // Breaths need a signal sampled fast enough to see a breath's shape.
  const resp = channels.find((c) => c.name === 'resp' && c.rateHz !== undefined && c.rateHz >= 2);
  const axes = ['acc_x', 'acc_y', 'acc_z'].map((n) => channels.find((c) => c.name === n && c.rateHz !== undefined && (c.unit === '[g]' || c.unit === 'm[g]')));
  const acc = axes.every((a) => a !== undefined) ? axes[0] : undefined;
  if (!lux && !resp && !acc) return undefined;
  return {
    timeZone,
    periodMs: s.periodMs,
    ...(lux ? { light: { ...s.light, halfLivesMs: [...s.light.halfLivesMs], ...channelTiming(lux, s.maxGapMs) } } : {}),
    ...(resp ? { breaths: { rateHz: resp.rateHz!, maxGapMs: channelTiming(resp, s.maxGapMs).maxGapMs } } : {}),
    ...(acc ? { activity: { rateHz: acc.rateHz!, maxGapMs: channelTiming(acc, s.maxGapMs).maxGapMs } } : {}),
  };
}

/** 'HH:MM' -> minutes after midnight. */
export function clockMinutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

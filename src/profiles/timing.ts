/**
 * Sample times. A transport stamps each chunk when it is read; a packet's samples are timed from
 * that stamp and what the profile says: the channel's nominal rate, or the device's own
 * timestamp.
 *
 * Arrival times alone are poor sample times: a USB serial adapter hands over bytes in bursts
 * (every 1 to 16 ms), so lines sent 40 ms apart can share one read, and a packet with four rows
 * arrives after its last row was measured. So, per channel:
 * - By rate: a sample is expected one period after the previous one. That expected time is used
 *   while it lies within `slackMs` before the arrival (the burst and transfer delay). A sample
 *   can never be later than it arrived, so an expected time after arrival is pulled back to the
 *   arrival (a device running fast); one further back than the slack means the stream stopped
 *   and started again (a gap, a replug), and timing restarts at the arrival. Rows of one packet
 *   are spaced by the period, the last one timed like a single sample.
 * - By device timestamp ('device' kind, a counter since the device started): the device time
 *   plus an offset learnt at the first sample; the offset is lowered when a sample would be
 *   later than its arrival, and learnt again when the device time jumps (a device reset, a wrap)
 *   so far that a sample would be more than the slack before its arrival.
 * - 'unix' kind: the device's wall clock is taken as it is (it must be synchronised).
 * - Event channels (no rate, no device time): the arrival time.
 */
import type { Profile, ProfileDecode, SampleValue } from './profile.js';

export interface TimedSample {
  readonly channel: string;
  readonly value: SampleValue;
  readonly unit: string;
  /** Hub monotonic time (ms since boot_id began). */
  readonly monoMs: number;
  /** Hub wall clock (Unix epoch ms) for the same moment. */
  readonly wallMs: number;
}

export interface Arrival {
  readonly monoMs: number;
  readonly wallMs: number;
}

const UNIT_MS = { s: 1000, ms: 1, us: 0.001 } as const;

/** The least slack allowed: a few USB reads of the slowest adapters. */
const MIN_SLACK_MS = 100;

export class SampleTimer {
  readonly #profile: Profile;
  readonly #periodMs: ReadonlyMap<string, number>;
  /** Channel -> monotonic time of its last sample. */
  readonly #last = new Map<string, number>();
  /** Device time -> hub monotonic time offset, once learnt. */
  #offset: number | undefined;
  /** Per channel, the time of row 0 of the packet being timed; cleared per packet, kept to avoid a Map per packet. */
  readonly #first = new Map<string, number>();

  constructor(profile: Profile) {
    this.#profile = profile;
    this.#periodMs = new Map(profile.channels.filter((c) => c.rateHz !== undefined).map((c) => [c.name, 1000 / c.rateHz!]));
  }

  /** Forget the past: after a gap (the device went away), timing starts again at the next arrival. */
  reset(): void {
    this.#last.clear();
    this.#offset = undefined;
  }

  time(decoded: ProfileDecode, at: Arrival): TimedSample[] {
    const out: TimedSample[] = [];
    const wallOffset = at.wallMs - at.monoMs;
    const deviceTime = decoded.deviceTime;
    const rows = decoded.rows;
    const first = this.#first;
    first.clear();
    // A packet's rows are anchored by its latest device time, which is the closest to arrival:
    // anchoring by the first would put the later rows after their arrival.
    if (deviceTime?.kind === 'device' && decoded.deviceTimes) {
      let latest = -Infinity;
      for (const t of decoded.deviceTimes) if (t !== undefined && t > latest) latest = t;
      let period = 0;
      for (const x of decoded.samples) period = Math.max(period, this.#periodMs.get(x.channel) ?? 0);
      if (latest > -Infinity) this.#anchor(latest * UNIT_MS[deviceTime.unit], at, period);
    }
    for (const s of decoded.samples) {
      let mono: number;
      const period = this.#periodMs.get(s.channel);
      if (deviceTime && decoded.deviceTimes) {
        const t = decoded.deviceTimes[s.row < 0 ? 0 : s.row];
        if (t === undefined) mono = at.monoMs;
        else if (deviceTime.kind === 'unix') mono = t * UNIT_MS[deviceTime.unit] - wallOffset;
        else mono = t * UNIT_MS[deviceTime.unit] + this.#offset!;
      } else if (period !== undefined) {
        let t0 = first.get(s.channel);
        if (t0 === undefined) {
          const span = s.row < 0 ? 0 : (rows - 1) * period;
          t0 = this.#byRate(s.channel, period, at.monoMs - span);
          first.set(s.channel, t0);
          this.#last.set(s.channel, t0 + span);
        }
        mono = s.row < 0 ? t0 : t0 + s.row * period;
      } else {
        mono = at.monoMs;
      }
      out.push({ channel: s.channel, value: s.value, unit: s.unit, monoMs: mono, wallMs: mono + wallOffset });
    }
    return out;
  }

  /** When the first sample of a packet was taken, by rate; `arrived` is its latest possible time. */
  #byRate(channel: string, period: number, arrived: number): number {
    const last = this.#last.get(channel);
    if (last === undefined) return arrived;
    const expected = last + period;
    if (expected > arrived) return arrived;
    return arrived - expected <= Math.max(MIN_SLACK_MS, 4 * period) ? expected : arrived;
  }

  /** Learns or corrects the device-to-hub offset from a device time that arrived `at`. */
  #anchor(deviceMs: number, at: Arrival, period: number): void {
    const slack = Math.max(MIN_SLACK_MS, 4 * period);
    const t = this.#offset === undefined ? undefined : deviceMs + this.#offset;
    if (t === undefined || t < at.monoMs - slack || t > at.monoMs) this.#offset = at.monoMs - deviceMs;
  }

}

/**
 * Every subject's channels as timelines: samples from the subject's devices are routed here by
 * channel name (two devices giving one channel share its timeline). Values become numbers: a
 * flag is 1 or 0, a list (RR intervals of one notification) is one sample per element, all at
 * the notification's time and in its order.
 */
import type { ChannelInfo } from '../profiles/profile.js';
import type { TimedSample } from '../profiles/timing.js';
import { Timeline } from './timeline.js';

/** One channel's samples in a window, in time order. Times are wall-clock ms. */
export interface ChannelWindow {
  readonly times: Float64Array;
  readonly values: Float32Array;
  /** The channel's nominal rate; undefined for an event channel (e.g. RR intervals). */
  readonly rateHz: number | undefined;
}

interface Stream {
  readonly timeline: Timeline;
  readonly rateHz: number | undefined;
}

/** Samples a second for an event channel's ring: heartbeats top out near 3.5 a second. */
const EVENT_RATE = 8;

export class SubjectStreams {
  readonly #bySubject = new Map<string, Map<string, Stream>>();
  readonly #horizonS: number;

  /** `horizonS`: the span a timeline must hold (a window and its grace, with room to spare). */
  constructor(horizonS: number) {
    this.#horizonS = horizonS;
  }

  /** Declares a subject's channel, sizing its ring from the rate. */
  declare(subject: string, channel: ChannelInfo): void {
    const channels = this.#bySubject.get(subject) ?? new Map<string, Stream>();
    this.#bySubject.set(subject, channels);
    const existing = channels.get(channel.name);
    const rate = channel.rateHz ?? EVENT_RATE;
    // A quarter more than the nominal rate asks for: devices run a little fast, and bursts.
    const capacity = Math.ceil(rate * this.#horizonS * 1.25) + 64;
    // Two devices with one channel: the faster one sizes the ring.
    if (existing && (existing.rateHz ?? EVENT_RATE) >= rate) return;
    channels.set(channel.name, { timeline: new Timeline(capacity), rateHz: channel.rateHz });
  }

  add(subject: string, samples: readonly TimedSample[]): void {
    const channels = this.#bySubject.get(subject);
    if (!channels) return;
    for (const s of samples) {
      const stream = channels.get(s.channel);
      if (!stream) continue;
      const v = s.value;
      if (typeof v === 'number') stream.timeline.push(s.wallMs, v);
      else if (typeof v === 'boolean') stream.timeline.push(s.wallMs, v ? 1 : 0);
      else for (const x of v) stream.timeline.push(s.wallMs, x);
    }
  }

  /** A subject's channels over [fromMs, toMs), for the features of that window. */
  window(subject: string, fromMs: number, toMs: number): Map<string, ChannelWindow> {
    const out = new Map<string, ChannelWindow>();
    for (const [name, s] of this.#bySubject.get(subject) ?? []) {
      const { times, values } = s.timeline.slice(fromMs, toMs);
      if (values.length > 0) out.set(name, { times, values, rateHz: s.rateHz });
    }
    return out;
  }

  /** Forgets what came before `beforeMs` (a closed window). */
  dropBefore(beforeMs: number): void {
    for (const channels of this.#bySubject.values()) for (const s of channels.values()) s.timeline.dropBefore(beforeMs);
  }
}

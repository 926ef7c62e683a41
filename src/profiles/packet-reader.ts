/**
 * One device's packets to timed samples: each packet (a frame or line cut by a framing, a BLE
 * notification, an advertisement's payload) decoded by the profile for its source, its samples
 * timed, and what was wrong counted by code. DeviceReader puts a framing in front of it for
 * byte streams; BLE packets arrive whole.
 */
import type { DecodeContext, DecodeIssue } from './decoded.js';
import type { Profile, ProfileDecode } from './profile.js';
import { SampleTimer, type Arrival, type TimedSample } from './timing.js';

export interface ReaderStats {
  bytes: number;
  /** Packets decoded (good or not). */
  packets: number;
  samples: number;
  /** Packets that gave no sample because they were rejected. */
  rejected: number;
  /** Issues by code: framing, line and decode codes together. */
  issues: Record<string, number>;
}

export interface PacketReaderOptions {
  readonly profile: Profile;
  /** The samples of one packet, in order. */
  readonly onSamples: (samples: TimedSample[]) => void;
  readonly onIssue?: (issue: { readonly code: string; readonly message: string }) => void;
  /**
   * A check across packets (a BTHome counter against replay): the issue that refuses this
   * packet, or undefined to take it.
   */
  readonly admit?: (decoded: ProfileDecode) => { readonly code: string; readonly message: string } | undefined;
}

export class PacketReader {
  readonly #o: PacketReaderOptions;
  readonly #timer: SampleTimer;
  readonly stats: ReaderStats = { bytes: 0, packets: 0, samples: 0, rejected: 0, issues: {} };

  constructor(options: PacketReaderOptions) {
    this.#o = options;
    this.#timer = new SampleTimer(options.profile);
  }

  /** Decodes one packet; returns its timed samples (also given to onSamples when there are any). */
  packet(bytes: Uint8Array, at: Arrival, source?: string, context?: DecodeContext): TimedSample[] {
    this.stats.packets++;
    const out = this.#o.profile.decode(bytes, source, context);
    for (const e of out.errors) this.issue(e);
    const refused = out.samples.length > 0 ? this.#o.admit?.(out) : undefined;
    if (refused) {
      this.issue(refused);
      this.stats.rejected++;
      return [];
    }
    if (out.samples.length === 0) {
      if (out.errors.length > 0) this.stats.rejected++;
      return [];
    }
    const timed = this.#timer.time(out, at);
    this.stats.samples += timed.length;
    return timed;
  }

  issue(issue: DecodeIssue | { readonly code: string; readonly message: string }): void {
    this.stats.issues[issue.code] = (this.stats.issues[issue.code] ?? 0) + 1;
    this.#o.onIssue?.(issue);
  }

  /** After a gap, timing starts again at the next arrival. */
  gap(): void {
    this.#timer.reset();
  }

  snapshot(): ReaderStats {
    return { ...this.stats, issues: { ...this.stats.issues } };
  }
}

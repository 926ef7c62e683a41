/**
 * Tumbling windows aligned to the wall clock that record, per subject, which devices and
 * profile versions contributed samples and how well each modality was covered: the provenance
 * and quality half of a cross-section. Features and embeddings are computed from the samples
 * themselves by the feature and embedding stages; this keeps only counts, so its memory does not
 * grow with the sample rate.
 *
 * Coverage of a channel with a nominal rate: samples received in the window / samples expected
 * (rate x length), at most 1; a modality's coverage is the mean over its rated channels. Event
 * channels have no expected count and do not enter coverage. A sample timed before the current
 * window began is late: counted, not used.
 */
import type { CrossSection, ModalityQuality, SourceDevice } from '../frames/codec.js';
import type { ChannelInfo } from '../profiles/profile.js';
import type { TimedSample } from '../profiles/timing.js';

export interface WindowDevice {
  readonly deviceId: string;
  readonly subject: string;
  readonly profileId: string;
  readonly profileVersion: string;
  readonly channels: readonly ChannelInfo[];
}

interface ChannelCount {
  readonly info: ChannelInfo;
  current: number;
  next: number;
}

interface DeviceState {
  device: WindowDevice;
  readonly channels: Map<string, ChannelCount>;
  late: number;
  gaps: number;
}

export class CoverageWindows {
  readonly #lengthMs: number;
  readonly #devices = new Map<string, DeviceState>();
  #start: number;

  constructor(devices: readonly WindowDevice[], lengthMs: number, nowWallMs: number) {
    this.#lengthMs = lengthMs;
    this.#start = Math.floor(nowWallMs / lengthMs) * lengthMs;
    for (const d of devices) {
      this.#devices.set(d.deviceId, { device: d, channels: new Map(d.channels.map((c) => [c.name, { info: c, current: 0, next: 0 }])), late: 0, gaps: 0 });
    }
  }

  get windowStartMs(): number {
    return this.#start;
  }

  get windowEndMs(): number {
    return this.#start + this.#lengthMs;
  }

  /**
   * Puts the current window where the wall clock is, when it is not where it should be: after the
   * clock jumped back (the window would not end for hours) or forward over whole windows (the
   * hub would close them one after another, all empty). Counts so far are dropped: they belong
   * to a timeline that no longer holds. Returns how far the window moved (ms; 0 when it did not).
   */
  realign(nowWallMs: number, graceMs: number): number {
    const end = this.#start + this.#lengthMs;
    if (nowWallMs >= this.#start - this.#lengthMs && nowWallMs < end + this.#lengthMs + graceMs) return 0;
    const start = Math.floor(nowWallMs / this.#lengthMs) * this.#lengthMs;
    const moved = start - this.#start;
    this.#start = start;
    for (const d of this.#devices.values()) {
      for (const c of d.channels.values()) c.current = c.next = 0;
      d.late = 0;
    }
    return moved;
  }

  add(deviceId: string, samples: readonly TimedSample[]): void {
    const d = this.#devices.get(deviceId);
    if (!d) return;
    const end = this.#start + this.#lengthMs;
    for (const s of samples) {
      const c = d.channels.get(s.channel);
      if (!c) continue;
      if (s.wallMs < this.#start) d.late++;
      else if (s.wallMs < end) c.current++;
      else c.next++;
    }
  }

  /** The device under `key` is now known by `deviceId` (a BLE device bound to its address). */
  rename(key: string, deviceId: string): void {
    const d = this.#devices.get(key);
    if (d) d.device = { ...d.device, deviceId };
  }

  /** The device was away for a while (unplugged, out of range): one gap in this window. */
  gap(deviceId: string): void {
    const d = this.#devices.get(deviceId);
    if (d) d.gaps++;
  }

  /**
   * Closes the current window: one cross-section per subject that has devices. `partial` when
   * the window is cut short (shutdown); coverage then counts against the part that elapsed.
   */
  close(nowMonoMs: number, nowWallMs: number, partial: boolean): Map<string, CrossSection> {
    const start = this.#start;
    const end = start + this.#lengthMs;
    const elapsedMs = partial ? Math.max(1, Math.min(this.#lengthMs, nowWallMs - start)) : this.#lengthMs;
    type Cover = { sum: number; n: number; gaps: number; late: number };
    type Subject = { sources: SourceDevice[]; cover: Map<string, Cover> };
    const bySubject = new Map<string, Subject>();
    for (const d of this.#devices.values()) {
      const subject: Subject = bySubject.get(d.device.subject) ?? { sources: [], cover: new Map() };
      bySubject.set(d.device.subject, subject);
      const contributed = [...d.channels.values()].filter((c) => c.current > 0).map((c) => c.info.name);
      if (contributed.length > 0) subject.sources.push({ device_id: d.device.deviceId, profile_id: d.device.profileId, profile_version: d.device.profileVersion, channels: contributed });
      for (const c of d.channels.values()) {
        const m = subject.cover.get(c.info.modality) ?? { sum: 0, n: 0, gaps: 0, late: 0 };
        subject.cover.set(c.info.modality, m);
        if (c.info.rateHz !== undefined) {
          m.sum += Math.min(1, c.current / ((c.info.rateHz * elapsedMs) / 1000));
          m.n++;
        }
      }
      // A device's gaps and late samples are reported once, under its first modality.
      const first = subject.cover.get(d.device.channels[0]!.modality)!;
      first.gaps += d.gaps;
      first.late += d.late;
      for (const c of d.channels.values()) {
        c.current = c.next;
        c.next = 0;
      }
      d.gaps = 0;
      d.late = 0;
    }
    this.#start = end;
    const out = new Map<string, CrossSection>();
    for (const [subject, { sources, cover }] of bySubject) {
      const quality: ModalityQuality[] = [...cover].map(([modality, m]) => ({ modality, coverage: m.n > 0 ? m.sum / m.n : 0, gaps: m.gaps, late_samples: m.late }));
      out.set(subject, {
        window_start_ms: start,
        window_end_ms: end,
        window_start_mono_ms: Math.max(0, Math.round(nowMonoMs - (nowWallMs - start))),
        partial,
        embeddings: [],
        features: [],
        sources,
        quality,
      });
    }
    return out;
  }
}

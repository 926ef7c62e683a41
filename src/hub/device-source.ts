/**
 * The hub's devices as a frame source: per configured device, a transport kept open by a
 * supervisor (reopened with backoff after an unplug), the profile's DeviceReader turning bytes
 * into timed samples, and the windows that turn samples into one cross-section per subject per
 * window. Bad input is counted per device and rate-limited in the log; one device's trouble never
 * touches another's.
 */
import type { DeviceInfo } from '../frames/codec.js';

export interface ProfileInfo { id: string; version: string }
import type { Clock } from '../ops/clock.js';
import { ErrorTally } from '../ops/error-tally.js';
import type { Logger } from '../ops/log.js';
import { DeviceReader, type DeviceReaderStats } from '../profiles/device-reader.js';
import type { Profile } from '../profiles/profile.js';
import { TransportSupervisor } from '../transports/supervisor.js';
import type { Transport, TransportListener } from '../transports/transport.js';
import { Embedder, type EmbedderOptions } from '../embeddings/embedder.js';
import type { EncoderInfo, EncoderSet } from '../embeddings/encoder-set.js';
import { computeFeatures } from '../features/definitions.js';
import { SubjectStreams } from '../streams/subject-streams.js';
import { CoverageWindows } from '../windows/coverage-windows.js';
import type { FrameSource, ProducedFrame } from './frame-source.js';

export interface ConfiguredDevice {
  readonly subject: string;
  readonly profile: Profile;
  /** Makes the device's transport (a serial port, a replayed capture); its id is the device id. */
  readonly transport: (listener: TransportListener) => Transport;
}

export interface DeviceSourceOptions {
  readonly devices: readonly ConfiguredDevice[];
  readonly windowMs: number;
  /** How long after a window's end its late samples are still taken (default 0). */
  readonly graceMs?: number;
  /** A feature whose inputs cover less of the window is left out (default 0.5). */
  readonly minCoverage?: number;
  /** The encoders, when embeddings are on; closed when the source stops. */
  readonly encoders?: { readonly set: EncoderSet; readonly options: EmbedderOptions };
  readonly clock: Clock;
  readonly log: Logger;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
}

interface RunningDevice {
  readonly config: ConfiguredDevice;
  readonly supervisor: TransportSupervisor;
  readonly reader: DeviceReader;
  readonly tally: ErrorTally;
}

export class DeviceSource implements FrameSource {
  readonly name = 'devices';
  readonly #o: DeviceSourceOptions;
  readonly #running: RunningDevice[] = [];
  readonly #windows: CoverageWindows;
  readonly #streams: SubjectStreams;
  readonly #embedder: Embedder | undefined;
  readonly #subjects: string[];
  #emit: ((frames: readonly ProducedFrame[]) => Promise<void>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: DeviceSourceOptions) {
    this.#o = options;
    const log = options.log.child({ stage: 'devices' });
    for (const config of options.devices) {
      // The supervisor makes the transport, and with it the device id the rest is keyed by.
      let deviceId = '';
      const reader: DeviceReader = new DeviceReader({
        profile: config.profile,
        onSamples: (samples) => {
          this.#windows.add(deviceId, samples);
          this.#streams.add(config.subject, samples);
          tally.ok();
        },
        onIssue: (issue) => tally.record(issue.code, { message: issue.message }),
      });
      const supervisor = new TransportSupervisor(config.transport, {
        clock: options.clock,
        log,
        reconnectMinMs: options.reconnectMinMs ?? 500,
        reconnectMaxMs: options.reconnectMaxMs ?? 30_000,
        onChunk: (chunk) => reader.push(chunk),
        onGap: () => {
          reader.gap();
          this.#windows.gap(deviceId);
        },
      });
      deviceId = supervisor.device;
      const tally = new ErrorTally(log, { bindings: { device: deviceId, profile: config.profile.id }, clock: options.clock, summaryEveryMs: 60_000 });
      this.#running.push({ config, supervisor, reader, tally });
    }
    this.#windows = new CoverageWindows(this.#running.map((r) => ({
      deviceId: r.supervisor.device,
      subject: r.config.subject,
      profileId: r.config.profile.id,
      profileVersion: r.config.profile.version,
      channels: r.config.profile.channels,
    })), options.windowMs, options.clock.wallMs());
    this.#embedder = options.encoders ? new Embedder(options.encoders.set, options.encoders.options) : undefined;
    this.#subjects = [...new Set(options.devices.map((d) => d.subject))];
    // A window, its grace, the next window filling meanwhile, and what the encoders look back over.
    this.#streams = new SubjectStreams((2 * options.windowMs + (options.graceMs ?? 0) + (this.#embedder?.lookbackMs ?? 0)) / 1000);
    for (const d of options.devices) for (const c of d.profile.channels) this.#streams.declare(d.subject, c);
  }

  start(emit: (frames: readonly ProducedFrame[]) => Promise<void>): void {
    this.#emit = emit;
    for (const r of this.#running) r.supervisor.start();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    const moved = this.#windows.realign(this.#o.clock.wallMs(), this.#o.graceMs ?? 0);
    if (moved !== 0) {
      this.#o.log.warn({ movedMs: moved }, 'the wall clock jumped: windows start again where it is now');
      // Samples stamped on the old timeline would land in the wrong windows.
      this.#streams.dropBefore(Infinity);
    }
    const wait = Math.max(0, this.#windows.windowEndMs + (this.#o.graceMs ?? 0) - this.#o.clock.wallMs());
    this.#timer = setTimeout(() => {
      this.#close(false);
      this.#schedule();
    }, wait);
  }

  #close(partial: boolean): void {
    const start = this.#windows.windowStartMs;
    const end = this.#windows.windowEndMs;
    const sections = this.#windows.close(this.#o.clock.monoMs(), this.#o.clock.wallMs(), partial);
    for (const [subject, section] of sections) {
      const features = computeFeatures({ startMs: start, endMs: end, channels: this.#streams.window(subject, start, end) }, this.#o.minCoverage ?? 0.5);
      section.features = features.map((f) => ({
        code: f.code, value: f.value, unit: f.unit, coverage: f.coverage, n: f.n,
        ...(f.standardCode ? { standard_code: f.standardCode } : {}),
      }));
    }
    // The encoders' inputs are taken now, while the window's samples are in the timelines.
    const jobs = this.#embedder?.prepare(this.#subjects, (subject, from, to) => this.#streams.window(subject, from, to), end) ?? [];
    this.#streams.dropBefore(end - (this.#embedder?.lookbackMs ?? 0));
    const frames: ProducedFrame[] = [...sections].map(([subjectRef, cross_section]) => ({ subjectRef, payload: { cross_section } }));
    if (frames.length === 0) return;
    // Appends in window order; a failed append is logged by the hub and must not stop the windows.
    this.#inflight = this.#inflight.then(async () => {
      if (jobs.length > 0) {
        try {
          const embeddings = await this.#embedder!.run(jobs);
          for (const [subject, section] of sections) section.embeddings = embeddings.get(subject) ?? [];
        } catch (e) {
          // The window still goes out, with its features: an encoder failing is not data lost.
          this.#o.log.error({ err: (e as Error).message }, 'encoder run failed; window sent without embeddings');
        }
      }
      await this.#emit!(frames);
    }).catch(() => {});
  }

  /** What the status frame says of the devices and the profiles they use. */
  describe(): { devices: DeviceInfo[]; profiles: ProfileInfo[]; encoders: EncoderInfo[] } {
    const devices = this.#running.map((r) => ({
      device_id: r.supervisor.device,
      profile_id: r.config.profile.id,
      subject_ref: r.config.subject,
      state: r.supervisor.state === 'open' ? 'connected' : r.supervisor.state,
      battery: -1,
    }));
    const profiles = [...new Map(this.#running.map((r) => [r.config.profile.id, { id: r.config.profile.id, version: r.config.profile.version }])).values()];
    return { devices, profiles, encoders: this.#o.encoders?.set.info() ?? [] };
  }

  /** Per device: bytes, packets, samples and issues by code (for metrics and tests). */
  stats(): Array<{ device: string; state: string } & DeviceReaderStats & { errors: Record<string, number> }> {
    return this.#running.map((r) => ({ device: r.supervisor.device, state: r.supervisor.state, ...r.reader.stats(), errors: r.tally.counts() }));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.all(this.#running.map((r) => r.supervisor.stop()));
    if (this.#emit && this.#o.clock.wallMs() > this.#windows.windowStartMs) this.#close(true);
    await this.#inflight;
    await this.#o.encoders?.set.close();
  }
}

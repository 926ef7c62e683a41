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
import type { EmbedderOptions } from '../embeddings/embedder.js';
import type { EncoderInfo, EncoderSet } from '../embeddings/encoder-set.js';
import { BleDevices, type BleDevicesOptions } from './ble-devices.js';
import { WindowPipeline } from './window-pipeline.js';
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
  /** BLE devices, read through the BLE central when the adapter allows. */
  readonly ble?: Omit<BleDevicesOptions, 'clock' | 'log' | 'onSamples' | 'onGap' | 'onBound'>;
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
  readonly #pipeline: WindowPipeline;
  readonly #ble: BleDevices | undefined;
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
          this.#pipeline.add(deviceId, samples);
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
          this.#pipeline.gap(deviceId);
        },
      });
      deviceId = supervisor.device;
      const tally = new ErrorTally(log, { bindings: { device: deviceId, profile: config.profile.id }, clock: options.clock, summaryEveryMs: 60_000 });
      this.#running.push({ config, supervisor, reader, tally });
    }
    this.#ble = options.ble && options.ble.devices.length > 0 ? new BleDevices({
      ...options.ble,
      clock: options.clock,
      log,
      onSamples: (key, samples) => this.#pipeline.add(key, samples),
      onGap: (key) => this.#pipeline.gap(key),
      onBound: (key, deviceId) => this.#pipeline.rename(key, deviceId),
    }) : undefined;
    const bleKeys = this.#ble?.keys ?? [];
    this.#pipeline = new WindowPipeline({
      devices: [
        ...this.#running.map((r) => ({
          deviceId: r.supervisor.device,
          subject: r.config.subject,
          profileId: r.config.profile.id,
          profileVersion: r.config.profile.version,
          channels: r.config.profile.channels,
        })),
        ...(options.ble?.devices ?? []).map((d, i) => ({
          deviceId: bleKeys[i]!,
          subject: d.subject,
          profileId: d.profile.id,
          profileVersion: d.profile.version,
          channels: d.profile.channels,
        })),
      ],
      windowMs: options.windowMs,
      graceMs: options.graceMs ?? 0,
      minCoverage: options.minCoverage ?? 0.5,
      encoders: options.encoders,
      log,
      nowWallMs: options.clock.wallMs(),
    });
  }

  start(emit: (frames: readonly ProducedFrame[]) => Promise<void>): void {
    this.#emit = emit;
    for (const r of this.#running) r.supervisor.start();
    // BLE comes up on its own time (noble loads, the adapter powers on): never in the way of serial.
    void this.#ble?.start().catch((e: Error) => this.#o.log.error({ err: e.message }, 'BLE could not start'));
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    const moved = this.#pipeline.realign(this.#o.clock.wallMs());
    if (moved !== 0) this.#o.log.warn({ movedMs: moved }, 'the wall clock jumped: windows start again where it is now');
    const wait = Math.max(0, this.#pipeline.closesAtMs - this.#o.clock.wallMs());
    this.#timer = setTimeout(() => {
      this.#close(false);
      this.#schedule();
    }, wait);
  }

  #close(partial: boolean): void {
    const closed = this.#pipeline.close(this.#o.clock.monoMs(), this.#o.clock.wallMs(), partial);
    // Appends in window order; a failed append is logged by the hub and must not stop the windows.
    this.#inflight = this.#inflight.then(async () => {
      const sections = await closed.sections;
      const frames: ProducedFrame[] = [...sections].map(([subjectRef, cross_section]) => ({ subjectRef, payload: { cross_section } }));
      if (frames.length > 0) await this.#emit!(frames);
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
    const ble = this.#ble?.describe() ?? [];
    for (const d of this.#o.ble?.devices ?? []) if (!profiles.some((p) => p.id === d.profile.id)) profiles.push({ id: d.profile.id, version: d.profile.version });
    return { devices: [...devices, ...ble], profiles, encoders: this.#o.encoders?.set.info() ?? [] };
  }

  /** BLE devices: state, failures, packets, samples and issues by code. */
  bleStats(): ReturnType<BleDevices['stats']> {
    return this.#ble?.stats() ?? [];
  }

  /** Per device: bytes, packets, samples and issues by code (for metrics and tests). */
  stats(): Array<{ device: string; state: string } & DeviceReaderStats & { errors: Record<string, number> }> {
    return this.#running.map((r) => ({ device: r.supervisor.device, state: r.supervisor.state, ...r.reader.stats(), errors: r.tally.counts() }));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.all([...this.#running.map((r) => r.supervisor.stop()), this.#ble?.stop()]);
    if (this.#emit && this.#o.clock.wallMs() > this.#pipeline.windowStartMs) this.#close(true);
    await this.#inflight;
    await this.#o.encoders?.set.close();
  }
}

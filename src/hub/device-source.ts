/**
 * The hub's devices as a frame source: per configured device, a transport kept open by a
 * supervisor (reopened with backoff after an unplug), the profile's DeviceReader turning bytes
 * into timed samples, the windows that turn samples into one cross-section per subject per
 * window, and each subject's exposures. Bad input is counted per device and rate-limited in the
 * log; one device's trouble never touches another's.
 *
 * Two clocks. Live devices' windows close by the wall clock. Replayed captures carry the times
 * they were captured at, so their subjects' windows close as those times pass, on a pipeline of
 * their own (a subject is all live or all replayed; the config says so). Exposures always move
 * with the samples' times; a live subject's are also pushed on by the wall clock, so that
 * reports still go out while every sensor is silent.
 *
 * Exposure state is stored with the exposure frames that report it, in one outbox batch, and
 * read back at start: after a crash the subject's day continues from its last report.
 */
import type { DeviceInfo } from '../frames/codec.js';

export interface ProfileInfo { id: string; version: string }
import { plausibleWallTime, type Clock } from '../ops/clock.js';
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
import type { EmitFrames, FrameSource, ProducedFrame, ReadState } from './frame-source.js';
import type { StateWrite } from '../outbox/outbox.js';
import type { WindowDevice } from '../windows/coverage-windows.js';
import type { TimedSample } from '../profiles/timing.js';
import { SubjectExposure, type SubjectExposureState } from '../exposure/subject-exposure.js';
import { subjectExposureOptions, type ExposureSettings } from '../exposure/exposure-settings.js';
import type { SubjectExposureOptions } from '../exposure/subject-exposure.js';
import { DeviceEventMapper } from '../events/device-events.js';

export interface ConfiguredDevice {
  readonly subject: string;
  readonly profile: Profile;
  /** Makes the device's transport (a serial port, a replayed capture); its id is the device id. */
  readonly transport: (listener: TransportListener) => Transport;
  /** A replayed capture: its samples carry the capture's times, not the hub's. */
  readonly replayed?: boolean;
  /** false: the device feeds exposures only, no cross-section windows (a day replayed in minutes would make dozens a second). */
  readonly windows?: boolean;
}

export interface DeviceExposureOptions extends ExposureSettings {
  /** How long the wall clock waits past a report's time for late samples. */
  readonly graceMs: number;
  /** Subject ref -> IANA time zone of its local days. */
  readonly timeZones: ReadonlyMap<string, string>;
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
  /** Exposure accumulation; none without it. */
  readonly exposure?: DeviceExposureOptions;
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

/** A subject's exposures and whether the wall clock pushes them on. */
interface SubjectExposures {
  readonly subject: string;
  readonly options: SubjectExposureOptions;
  readonly live: boolean;
  tracker?: SubjectExposure;
  /** Samples passed over while the wall clock was not set. */
  unsetClockSamples: number;
}

/** Windows on the capture clock: made at the first replayed sample, closed as sample times pass. */
interface ReplayWindows {
  readonly devices: WindowDevice[];
  pipeline?: WindowPipeline;
  /** The latest sample time seen. */
  latestMs: number;
  /**
   * Windows end here or before were stored (the end is stored with their frames): after a
   * restart the capture plays from its start, and its samples before this are not windowed again.
   */
  closedThroughMs: number;
}

const EXPOSURE_STATE_PREFIX = 'exposure/';
const REPLAY_WINDOWS_KEY = 'replay/windows';
const REPLAY_EVENTS_PREFIX = 'replay/events/';
/** How often the wall clock pushes live subjects' exposures on. */
const EXPOSURE_TICK_MS = 1000;

export class DeviceSource implements FrameSource {
  readonly name = 'devices';
  readonly #o: DeviceSourceOptions;
  readonly #log: Logger;
  readonly #running: RunningDevice[] = [];
  readonly #pipeline: WindowPipeline;
  readonly #replay: ReplayWindows = { devices: [], latestMs: -Infinity, closedThroughMs: -Infinity };
  /** Replayed device -> the time of the last event its samples marked that is stored. */
  readonly #replayEventsThrough = new Map<string, number>();
  /** Device key (serial device id, BLE key) -> whether it is replayed. */
  readonly #replayed = new Set<string>();
  /** Replayed devices whose samples go to windows (on the capture's clock). */
  readonly #replayWindowed = new Set<string>();
  readonly #subjectOf = new Map<string, string>();
  readonly #exposures = new Map<string, SubjectExposures>();
  /** Device key -> the rules that turn its samples into intervention events (a button box). */
  readonly #eventMappers = new Map<string, DeviceEventMapper>();
  #eventsMarked = 0;
  readonly #ble: BleDevices | undefined;
  #emit: EmitFrames | undefined;
  #timer: NodeJS.Timeout | undefined;
  #exposureTimer: NodeJS.Timeout | undefined;
  #inflight: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: DeviceSourceOptions) {
    this.#o = options;
    const log = options.log.child({ stage: 'devices' });
    this.#log = log;
    for (const config of options.devices) {
      // The supervisor makes the transport, and with it the device id the rest is keyed by.
      let deviceId = '';
      const reader: DeviceReader = new DeviceReader({
        profile: config.profile,
        onSamples: (samples) => {
          this.#samples(deviceId, samples);
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
          this.#eventMappers.get(deviceId)?.reset();
          this.#pipelineOf(deviceId)?.gap(deviceId);
        },
      });
      deviceId = supervisor.device;
      const tally = new ErrorTally(log, { bindings: { device: deviceId, profile: config.profile.id }, clock: options.clock, summaryEveryMs: 60_000 });
      this.#running.push({ config, supervisor, reader, tally });
      this.#subjectOf.set(deviceId, config.subject);
      if (config.profile.events.length > 0) this.#eventMappers.set(deviceId, new DeviceEventMapper(config.profile.events, deviceId));
      if (config.replayed) this.#replayed.add(deviceId);
    }
    this.#ble = options.ble && options.ble.devices.length > 0 ? new BleDevices({
      ...options.ble,
      clock: options.clock,
      log,
      onSamples: (key, samples) => this.#samples(key, samples),
      onGap: (key) => {
        this.#pipeline.gap(key);
        this.#eventMappers.get(key)?.reset();
      },
      onBound: (key, deviceId) => this.#pipeline.rename(key, deviceId),
    }) : undefined;
    const bleKeys = this.#ble?.keys ?? [];
    (options.ble?.devices ?? []).forEach((d, i) => {
      this.#subjectOf.set(bleKeys[i]!, d.subject);
      if (d.profile.events.length > 0) this.#eventMappers.set(bleKeys[i]!, new DeviceEventMapper(d.profile.events, bleKeys[i]!));
    });
    const windowDevices: WindowDevice[] = [
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
    ];
    const noWindows = new Set(this.#running.filter((r) => r.config.windows === false).map((r) => r.supervisor.device));
    this.#replay.devices.push(...windowDevices.filter((d) => this.#replayed.has(d.deviceId) && !noWindows.has(d.deviceId)));
    for (const d of this.#replay.devices) this.#replayWindowed.add(d.deviceId);
    this.#pipeline = this.#windowPipeline(windowDevices.filter((d) => !this.#replayed.has(d.deviceId)), options.clock.wallMs());
    if (options.exposure) {
      for (const subject of new Set(windowDevices.map((d) => d.subject))) {
        const devices = windowDevices.filter((d) => d.subject === subject);
        const o = subjectExposureOptions(devices.flatMap((d) => d.channels), options.exposure, options.exposure.timeZones.get(subject) ?? 'UTC');
        if (o) this.#exposures.set(subject, { subject, options: o, live: !devices.some((d) => this.#replayed.has(d.deviceId)), unsetClockSamples: 0 });
      }
    }
  }

  #windowPipeline(devices: readonly WindowDevice[], nowWallMs: number): WindowPipeline {
    const o = this.#o;
    return new WindowPipeline({
      devices,
      windowMs: o.windowMs,
      graceMs: o.graceMs ?? 0,
      minCoverage: o.minCoverage ?? 0.5,
      encoders: o.encoders,
      log: this.#log,
      nowWallMs,
    });
  }

  #pipelineOf(key: string): WindowPipeline | undefined {
    if (!this.#replayed.has(key)) return this.#pipeline;
    return this.#replayWindowed.has(key) ? this.#replay.pipeline : undefined;
  }

  #samples(key: string, samples: TimedSample[]): void {
    if (!this.#replayed.has(key)) this.#pipeline.add(key, samples);
    else if (this.#replayWindowed.has(key)) this.#replaySamples(key, samples);
    const subject = this.#subjectOf.get(key);
    let marked = this.#eventMappers.get(key)?.map(samples);
    if (marked && marked.length > 0 && subject !== undefined) {
      // A replayed capture plays again from its start after a restart: its events up to the last
      // one stored are not marked again; the time of the last goes with the frames.
      let state: StateWrite[] | undefined;
      if (this.#replayed.has(key)) {
        const through = this.#replayEventsThrough.get(key) ?? -Infinity;
        marked = marked.filter((e) => e.at_ms > through);
        if (marked.length > 0) {
          this.#replayEventsThrough.set(key, marked.at(-1)!.at_ms);
          state = [{ key: REPLAY_EVENTS_PREFIX + key, value: Buffer.from(String(marked.at(-1)!.at_ms)) }];
        }
      }
      // A button pressed for "medication taken": an event frame, in order with the others.
      const frames = marked.map((event) => ({ subjectRef: subject, payload: { event } }));
      this.#eventsMarked += frames.length;
      if (frames.length > 0) this.#inflight = this.#inflight.then(() => this.#emit!(frames, state)).catch(() => {});
    }
    const x = subject === undefined ? undefined : this.#exposures.get(subject);
    if (!x?.tracker) return;
    // A live hub whose clock is not set yet (a Pi boots near 1970) would put samples in days
    // long gone, and a report at every boundary since: its exposures wait for the clock.
    if (x.live && !plausibleWallTime(samples[0]?.wallMs ?? 0)) {
      x.unsetClockSamples += samples.length;
      return;
    }
    x.tracker.add(samples);
    this.#storeReports(x);
  }

  /** Replayed samples: their windows close as the capture's time passes them. */
  #replaySamples(key: string, all: TimedSample[]): void {
    const r = this.#replay;
    const samples = all.length > 0 && all[0]!.wallMs < r.closedThroughMs ? all.filter((s) => s.wallMs >= r.closedThroughMs) : all;
    if (samples.length === 0) return;
    r.pipeline ??= this.#windowPipeline(r.devices, samples[0]!.wallMs);
    r.pipeline.add(key, samples);
    for (const s of samples) if (s.wallMs > r.latestMs) r.latestMs = s.wallMs;
    while (r.latestMs >= r.pipeline.closesAtMs) this.#close(r.pipeline, false, REPLAY_WINDOWS_KEY);
  }

  start(emit: EmitFrames, readState: ReadState = async () => undefined): void {
    this.#emit = emit;
    // Exposure state first: a sample taken before it is read would be counted again after it.
    void Promise.all([this.#loadExposures(readState), this.#loadReplayState(readState)]).then(() => {
      if (this.#stopped) return;
      for (const r of this.#running) r.supervisor.start();
      // BLE comes up on its own time (noble loads, the adapter powers on): never in the way of serial.
      void this.#ble?.start().catch((e: Error) => this.#o.log.error({ err: e.message }, 'BLE could not start'));
      this.#schedule();
      if ([...this.#exposures.values()].some((x) => x.live)) this.#tickExposures();
    });
  }

  /** Where a replayed capture's windows and events stood at the last frames stored. */
  async #loadReplayState(readState: ReadState): Promise<void> {
    if (this.#replayed.size === 0) return;
    const number = async (key: string) => {
      const v = await readState(key).catch(() => undefined);
      return v === undefined ? undefined : Number(Buffer.from(v).toString('ascii'));
    };
    this.#replay.closedThroughMs = (await number(REPLAY_WINDOWS_KEY)) ?? -Infinity;
    for (const key of this.#replayed) {
      const at = await number(REPLAY_EVENTS_PREFIX + key);
      if (at !== undefined) this.#replayEventsThrough.set(key, at);
    }
  }

  async #loadExposures(readState: ReadState): Promise<void> {
    for (const x of this.#exposures.values()) {
      let state: SubjectExposureState | undefined;
      try {
        const bytes = await readState(EXPOSURE_STATE_PREFIX + x.subject);
        state = bytes ? JSON.parse(Buffer.from(bytes).toString('utf8')) as SubjectExposureState : undefined;
      } catch (e) {
        this.#log.error({ subject: x.subject, err: (e as Error).message }, 'stored exposure state unreadable: the subject\'s exposures start again');
      }
      if (state && !SubjectExposure.resumes(x.options, state)) this.#log.warn({ subject: x.subject }, 'exposure settings changed: the subject\'s exposures start again from now');
      else if (state) this.#log.info({ subject: x.subject, next: state.next }, 'exposures continue from the stored state');
      try {
        x.tracker = new SubjectExposure(x.options, state, !x.live);
      } catch (e) {
        // A state that parses but does not fit (damaged on disk) must not keep the hub from starting.
        this.#log.error({ subject: x.subject, err: (e as Error).message }, 'stored exposure state does not fit: the subject\'s exposures start again');
        x.tracker = new SubjectExposure(x.options, undefined, !x.live);
      }
    }
  }

  #tickExposures(): void {
    if (this.#stopped) return;
    const now = this.#o.clock.wallMs() - this.#o.exposure!.graceMs;
    for (const x of plausibleWallTime(now) ? this.#exposures.values() : []) {
      if (!x.live || !x.tracker) continue;
      x.tracker.advance(now);
      this.#storeReports(x);
    }
    this.#exposureTimer = setTimeout(() => this.#tickExposures(), EXPOSURE_TICK_MS);
  }

  /** Reports made, stored with the state after them in one batch, in order with the other frames. */
  #storeReports(x: SubjectExposures): void {
    const r = x.tracker!.takeReports();
    if (!r) return;
    const frames: ProducedFrame[] = r.reports.map((exposure) => ({ subjectRef: x.subject, payload: { exposure } }));
    const state = [{ key: EXPOSURE_STATE_PREFIX + x.subject, value: Buffer.from(JSON.stringify(r.state)) }];
    this.#inflight = this.#inflight.then(() => this.#emit!(frames, state)).catch(() => {});
  }

  #schedule(): void {
    if (this.#stopped) return;
    const moved = this.#pipeline.realign(this.#o.clock.wallMs());
    if (moved !== 0) this.#o.log.warn({ movedMs: moved }, 'the wall clock jumped: windows start again where it is now');
    const wait = Math.max(0, this.#pipeline.closesAtMs - this.#o.clock.wallMs());
    this.#timer = setTimeout(() => {
      this.#close(this.#pipeline, false);
      this.#schedule();
    }, wait);
  }

  /** Closes the pipeline's window; with `stateKey`, the window's end is stored with its frames. */
  #close(pipeline: WindowPipeline, partial: boolean, stateKey?: string): void {
    const closed = pipeline.close(this.#o.clock.monoMs(), this.#o.clock.wallMs(), partial);
    const state = stateKey === undefined ? undefined : [{ key: stateKey, value: Buffer.from(String(closed.endMs)) }];
    // Appends in window order; a failed append is logged by the hub and must not stop the windows.
    this.#inflight = this.#inflight.then(async () => {
      const sections = await closed.sections;
      const frames: ProducedFrame[] = [...sections].map(([subjectRef, cross_section]) => ({ subjectRef, payload: { cross_section } }));
      if (frames.length > 0) await this.#emit!(frames, state);
    }).catch(() => {});
  }

  async forgetSubject(subjectRef: string): Promise<void> {
    const x = this.#exposures.get(subjectRef);
    // Loaded trackers only: one not loaded yet reads the state, which the purge deletes.
    if (x?.tracker) x.tracker = new SubjectExposure(x.options, undefined, !x.live);
    await this.#inflight;
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
  stats(): Array<{ device: string; profile: string; state: string } & DeviceReaderStats & { errors: Record<string, number> }> {
    return this.#running.map((r) => ({ device: r.supervisor.device, profile: r.config.profile.id, state: r.supervisor.state, ...r.reader.stats(), errors: r.tally.counts() }));
  }

  /** Intervention events marked on devices (a button press) since the start. */
  get eventsMarked(): number {
    return this.#eventsMarked;
  }

  /** Per subject with exposures: samples ignored as repeats or late (a replay after a restart). */
  exposureStats(): Array<{ subject: string; late: number; unsetClockSamples: number }> {
    return [...this.#exposures.values()].map((x) => ({ subject: x.subject, late: x.tracker?.late ?? 0, unsetClockSamples: x.unsetClockSamples }));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#exposureTimer);
    await Promise.all([...this.#running.map((r) => r.supervisor.stop()), this.#ble?.stop()]);
    if (this.#emit && this.#o.clock.wallMs() > this.#pipeline.windowStartMs) this.#close(this.#pipeline, true);
    // A replayed capture's open window is not sent cut short: after a restart the capture plays
    // again from its start, and the window is made whole then.
    await this.#inflight;
    await this.#o.encoders?.set.close();
  }
}

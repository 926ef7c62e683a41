/**
 * One device's bytes to timed samples: the profile's framing cuts the stream into frames or
 * lines, the profile decodes each, the timer gives each sample its time. The same reader serves
 * a live port, a capture being replayed and the benchmarks, so what is measured and replayed is
 * what runs.
 *
 * Bad input never stops it: each bad frame or rejected packet is counted by code (frame errors
 * FRAME_*, line errors LINE_*, decode errors DECODE_*) and reported to `onIssue`, and the
 * stream goes on with the next good one.
 */
import type { TransportChunk } from '../transports/transport.js';
import { FRAMINGS } from '../transports/serial/framing/registry.js';
import type { FrameDecoder, FrameError } from '../transports/serial/framing/framing.js';
import { framingOptions } from './compile.js';
import type { DecodeIssue } from './decoded.js';
import type { Profile } from './profile.js';
import { SampleTimer, type TimedSample } from './timing.js';

export interface DeviceReaderStats {
  bytes: number;
  /** Frames or lines cut from the stream (good or not). */
  packets: number;
  samples: number;
  /** Packets that gave no sample because they were rejected. */
  rejected: number;
  /** Issues by code: framing, line and decode codes together. */
  issues: Record<string, number>;
}

export interface DeviceReaderOptions {
  readonly profile: Profile;
  /** Samples of one chunk, in order. Called synchronously from push(). */
  readonly onSamples: (samples: TimedSample[]) => void;
  /** A bad frame, a rejected packet, a dropped field. Called synchronously from push(). */
  readonly onIssue?: (issue: DecodeIssue | FrameError) => void;
}

export class DeviceReader {
  readonly #o: DeviceReaderOptions;
  readonly #framing: FrameDecoder;
  readonly #timer: SampleTimer;
  readonly #source: string;
  readonly #stats: DeviceReaderStats = { bytes: 0, packets: 0, samples: 0, rejected: 0, issues: {} };
  /** The chunk being pushed: the arrival time of every frame that completes in it. */
  #at: TransportChunk | undefined;
  #pending: TimedSample[] = [];

  constructor(options: DeviceReaderOptions) {
    const serial = options.profile.serial;
    if (!serial) throw new TypeError(`profile ${options.profile.id} has no serial framing; a DeviceReader reads byte streams`);
    this.#o = options;
    this.#timer = new SampleTimer(options.profile);
    this.#source = options.profile.sources[0]!;
    this.#framing = FRAMINGS[serial.framing.kind]({
      frame: (frame) => this.#packet(frame),
      error: (error) => this.#issue(error),
    }, framingOptions(serial.framing));
  }

  push(chunk: TransportChunk): void {
    this.#at = chunk;
    this.#stats.bytes += chunk.bytes.length;
    this.#framing.push(chunk.bytes);
    this.#flush();
  }

  /** The device went away: a partial frame is thrown away (not an error) and timing starts over. */
  gap(): void {
    this.#framing.reset();
    this.#timer.reset();
  }

  /** The stream ended (a capture's end): a partial frame is reported. */
  end(): void {
    this.#framing.end();
    this.#flush();
  }

  stats(): DeviceReaderStats {
    return { ...this.#stats, issues: { ...this.#stats.issues } };
  }

  #packet(frame: Uint8Array): void {
    this.#stats.packets++;
    const out = this.#o.profile.decode(frame, this.#source);
    for (const e of out.errors) this.#issue(e);
    if (out.samples.length === 0) {
      if (out.errors.length > 0) this.#stats.rejected++;
      return;
    }
    const at = this.#at ?? { monoMs: 0, wallMs: 0 };
    const timed = this.#timer.time(out, at);
    this.#stats.samples += timed.length;
    for (const s of timed) this.#pending.push(s);
  }

  #issue(issue: DecodeIssue | FrameError): void {
    this.#stats.issues[issue.code] = (this.#stats.issues[issue.code] ?? 0) + 1;
    this.#o.onIssue?.(issue);
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const samples = this.#pending;
    this.#pending = [];
    this.#o.onSamples(samples);
  }
}

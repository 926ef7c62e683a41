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
import { PacketReader, type ReaderStats } from './packet-reader.js';
import type { TimedSample } from './timing.js';

export type DeviceReaderStats = ReaderStats;

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
  readonly #packets: PacketReader;
  readonly #source: string;
  /** The chunk being pushed: the arrival time of every frame that completes in it. */
  #at: TransportChunk | undefined;
  #pending: TimedSample[] = [];

  constructor(options: DeviceReaderOptions) {
    const serial = options.profile.serial;
    if (!serial) throw new TypeError(`profile ${options.profile.id} has no serial framing; a DeviceReader reads byte streams`);
    this.#o = options;
    this.#packets = new PacketReader({ profile: options.profile, onSamples: () => {}, ...(options.onIssue ? { onIssue: options.onIssue } : {}) });
    this.#source = options.profile.sources[0]!;
    this.#framing = FRAMINGS[serial.framing.kind]({
      frame: (frame) => this.#packet(frame),
      error: (error) => this.#packets.issue(error),
    }, framingOptions(serial.framing));
  }

  push(chunk: TransportChunk): void {
    this.#at = chunk;
    this.#packets.stats.bytes += chunk.bytes.length;
    this.#framing.push(chunk.bytes);
    this.#flush();
  }

  /** The device went away: a partial frame is thrown away (not an error) and timing starts over. */
  gap(): void {
    this.#framing.reset();
    this.#packets.gap();
  }

  /** The stream ended (a capture's end): a partial frame is reported. */
  end(): void {
    this.#framing.end();
    this.#flush();
  }

  stats(): DeviceReaderStats {
    return this.#packets.snapshot();
  }

  #packet(frame: Uint8Array): void {
    for (const s of this.#packets.packet(frame, this.#at ?? { monoMs: 0, wallMs: 0 }, this.#source)) this.#pending.push(s);
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const samples = this.#pending;
    this.#pending = [];
    this.#o.onSamples(samples);
  }
}

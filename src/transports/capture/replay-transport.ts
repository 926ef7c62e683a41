/**
 * A transport that plays a capture file back, so that a recorded session goes through the same
 * framing, decoding and timing as a live port: to check a profile against what a device really
 * sent, to reproduce a bug, to benchmark.
 *
 * Times. Each chunk is stamped with the time it was *captured*, put on this hub's timeline:
 * monoMs = (the clock's monotonic time at the first open) + t, wallMs = started_wall_ms + t.
 * Stamping with the replay's own delivery time would make sample timing depend on the speed:
 * at 10x, lines a second apart would arrive 100 ms apart and rate-based timing (timing.ts) would
 * see a device running ten times too fast. With the captured times, a capture decodes to the same
 * samples at any speed, and the wall times are those of the original session.
 *
 * Pace. `speed` only decides when chunks are handed over: at 1, as they were captured; at 10, ten
 * times faster; at Infinity, as fast as possible, yielding to the event loop every few hundred
 * chunks so that timers and I/O still run. Pacing uses the process's real elapsed time, not the
 * injected clock: the clock stamps, and a test's ManualClock never moves by itself. After a
 * reopen the pace starts again from the last entry delivered, so the time a device was away is
 * replayed too (scaled).
 *
 * Events. A recorded `disconnected` is reported through `listener.disconnected(reason)`; the
 * transport is then closed, and the next open() plays on from the entry after it. A recorded
 * `connected` delivers nothing: opening again is the reconnection. close() pauses: the next
 * open() resumes where playing stopped (so a capture given by path keeps its file open until its
 * end is reached; close the CaptureReader yourself to give up on one part-way).
 *
 * The end. `ended` resolves once the last entry has been handed over (it rejects with
 * CAPTURE_FILE_INVALID if the file turns out bad part-way). With `atEnd: 'disconnect'` (the
 * default) the end is then reported once as disconnected('end of capture') and the transport is
 * closed; with 'stay-open' it stays open and silent, like a device that stopped talking. Opening a
 * capture that has ended fails with TRANSPORT_OPEN_FAILED: that device is not coming back.
 *
 * Writes are accepted and dropped: the capture already holds whatever the device answered to the
 * setup it got when it was recorded.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../../ops/clock.js';
import { isTwinedgeError, TwinedgeError } from '../../ops/errors.js';
import type { Transport, TransportListener, TransportManifest } from '../transport.js';
import { CaptureReader, type CaptureEntry, type CaptureHeader } from './capture-file.js';

/** A capture to play: one read whole (readCaptureFile) or one being streamed (CaptureReader). */
export interface CaptureSource {
  readonly header: CaptureHeader;
  readonly entries: Iterable<CaptureEntry> | AsyncIterable<CaptureEntry>;
}

export interface ReplayOptions {
  /** The capture, or the path of a capture file, streamed from the first open(). */
  readonly capture: CaptureSource | string;
  /** 1 plays in real time, 10 ten times faster, Infinity (the default) as fast as possible. */
  readonly speed?: number;
  /** What the end of the capture looks like to the listener; 'disconnect' by default. */
  readonly atEnd?: 'disconnect' | 'stay-open';
}

const MANIFEST: TransportManifest = { name: 'replay', canWrite: false, detectsUnplug: true, findsByUsbId: false };

export const END_OF_CAPTURE = 'end of capture';

/** At full speed, chunks handed over between two turns of the event loop. */
const YIELD_EVERY = 256;

/** A wait shorter than this is not worth a timer: the chunk goes now. */
const MIN_WAIT_MS = 1;

export class ReplayTransport implements Transport {
  readonly id: string;
  readonly manifest = MANIFEST;
  /** Resolves when the whole capture has been played; rejects if the file is bad part-way. */
  readonly ended: Promise<void>;
  readonly #capture: CaptureSource | string;
  readonly #speed: number;
  readonly #atEnd: 'disconnect' | 'stay-open';
  readonly #clock: Clock;
  readonly #listener: TransportListener;
  #header: CaptureHeader | undefined;
  #entries: Iterator<CaptureEntry> | AsyncIterator<CaptureEntry> | undefined;
  #reader: CaptureReader | undefined;
  /** Monotonic time that t = 0 of the capture maps to; fixed at the first open. */
  #baseMono: number | undefined;
  /** An entry read but not yet handed over when playing was stopped. */
  #held: CaptureEntry | undefined;
  /** t of the last entry handed over: where the pace starts again after a reopen. */
  #lastT = 0;
  #open = false;
  #finished = false;
  /** Why the capture stopped part-way (a bad line), if it did. */
  #failure: unknown;
  /** Bumped by every open and close: a play loop of an older session stops at its next step. */
  #session = 0;
  #playing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #resolveEnded!: () => void;
  #rejectEnded!: (e: unknown) => void;

  constructor(options: ReplayOptions, clock: Clock, listener: TransportListener) {
    const speed = options.speed ?? Infinity;
    if (typeof speed !== 'number' || Number.isNaN(speed) || speed <= 0) throw new TypeError(`speed must be a number above 0 or Infinity, not ${speed}`);
    this.#capture = options.capture;
    this.#speed = speed;
    this.#atEnd = options.atEnd ?? 'disconnect';
    this.#clock = clock;
    this.#listener = listener;
    this.id = typeof options.capture === 'string' ? `replay:${options.capture}` : `replay:${options.capture.header.device}`;
    this.ended = new Promise((resolve, reject) => {
      this.#resolveEnded = resolve;
      this.#rejectEnded = reject;
    });
    // Nobody need wait on `ended`; a bad file must not become an unhandled rejection.
    this.ended.catch(() => {});
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** The capture's header; undefined before the first open() of a capture given by path. */
  get header(): CaptureHeader | undefined {
    return this.#header ?? (typeof this.#capture === 'string' ? undefined : this.#capture.header);
  }

  async open(): Promise<void> {
    if (this.#open) return;
    // A loop stopped by close() or by a recorded disconnect may still be finishing its step.
    await this.#playing;
    if (this.#open) return;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#finished) throw new TwinedgeError('TRANSPORT_OPEN_FAILED', 'the capture has been played to its end', { device: this.id });
    if (!this.#entries) await this.#start();
    this.#baseMono ??= this.#clock.monoMs();
    this.#open = true;
    const session = ++this.#session;
    this.#playing = this.#play(session);
  }

  async close(): Promise<void> {
    if (this.#open) {
      this.#open = false;
      this.#session++;
      this.#stopWaiting();
    }
    // Once the loop has returned, nothing more is delivered.
    await this.#playing;
  }

  async write(_bytes: Uint8Array): Promise<void> {
    if (!this.#open) throw new TwinedgeError('TRANSPORT_OPEN_FAILED', 'the replay is not open', { device: this.id });
  }

  async #start(): Promise<void> {
    let source: CaptureSource;
    if (typeof this.#capture === 'string') {
      try {
        this.#reader = await CaptureReader.open(this.#capture);
      } catch (e) {
        // A missing or unreadable file is a device that is not there; a malformed one stays CAPTURE_FILE_INVALID.
        if (isTwinedgeError(e) && (e.cause as NodeJS.ErrnoException | undefined)?.code !== undefined) {
          throw new TwinedgeError('TRANSPORT_OPEN_FAILED', e.message, { device: this.id, file: this.#capture }, { cause: e });
        }
        throw e;
      }
      source = this.#reader;
    } else {
      source = this.#capture;
    }
    this.#header = source.header;
    const entries = source.entries;
    this.#entries = Symbol.asyncIterator in entries ? entries[Symbol.asyncIterator]() : entries[Symbol.iterator]();
  }

  async #play(session: number): Promise<void> {
    const entries = this.#entries!;
    const live = () => this.#session === session;
    const paced = Number.isFinite(this.#speed);
    const startReal = performance.now();
    const startT = this.#lastT;
    let sinceYield = 0;
    try {
      for (;;) {
        let entry = this.#held;
        this.#held = undefined;
        if (!entry) {
          const r = await entries.next();
          if (r.done) break;
          entry = r.value;
        }
        if (paced) {
          const wait = startReal + (entry.t - startT) / this.#speed - performance.now();
          if (wait >= MIN_WAIT_MS && live()) await this.#sleep(wait);
        } else if (++sinceYield >= YIELD_EVERY) {
          sinceYield = 0;
          await nextTurn();
        }
        if (!live()) {
          this.#held = entry;
          return;
        }
        this.#lastT = entry.t;
        if (entry.kind === 'chunk') {
          const base = this.#baseMono!;
          this.#listener.data({ bytes: entry.bytes, monoMs: base + entry.t, wallMs: this.#header!.started_wall_ms + entry.t });
        } else if (entry.kind === 'disconnected') {
          // Closed before the listener hears of it, so that it may open again from its callback.
          this.#open = false;
          this.#session++;
          this.#listener.disconnected(entry.reason);
          return;
        }
        // A 'connected' entry hands nothing over: the open that follows a disconnect is the reconnection.
      }
    } catch (e) {
      this.#finished = true;
      this.#failure = e;
      if (live()) {
        this.#open = false;
        this.#session++;
      }
      this.#reader?.close();
      this.#rejectEnded(e);
      return;
    }
    this.#finished = true;
    this.#reader?.close();
    this.#resolveEnded();
    if (this.#atEnd === 'disconnect' && live()) {
      this.#open = false;
      this.#session++;
      this.#listener.disconnected(END_OF_CAPTURE);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }

  #stopWaiting(): void {
    clearTimeout(this.#timer);
    this.#wake?.();
    this.#wake = undefined;
  }
}

import type { Clock } from '../../ops/clock.js';
import type { Transport, TransportListener, TransportManifest } from '../transport.js';
import type { DeviceOutput } from './device-outputs.js';

const MANIFEST: TransportManifest = { name: 'simulated', canWrite: false, detectsUnplug: false, findsByUsbId: false };

/**
 * A simulated device in this process: what a shipped device sends, byte for byte, at its rate,
 * handed over through the transport seam like a serial port's reads. The demo runs it so that
 * the real framing, decoding, timing, windows and features run with no hardware and no system
 * packages. Writes are accepted and ignored, as a device without a control channel would.
 */
export class SimulatedTransport implements Transport {
  readonly id: string;
  readonly manifest = MANIFEST;
  readonly #device: DeviceOutput;
  readonly #clock: Clock;
  readonly #listener: TransportListener;
  #timer: NodeJS.Timeout | undefined;
  #startedMono = 0;
  #writes = 0;

  constructor(name: string, device: DeviceOutput, clock: Clock, listener: TransportListener) {
    this.id = `sim:${name}`;
    this.#device = device;
    this.#clock = clock;
    this.#listener = listener;
  }

  get isOpen(): boolean {
    return this.#timer !== undefined;
  }

  async open(): Promise<void> {
    if (this.#timer) return;
    this.#startedMono = this.#clock.monoMs();
    this.#writes = 0;
    this.#tick();
  }

  #tick(): void {
    const elapsed = this.#writes * this.#device.periodMs;
    const now = { monoMs: this.#clock.monoMs(), wallMs: this.#clock.wallMs() };
    this.#listener.data({ bytes: this.#device.next(elapsed, now.wallMs), ...now });
    this.#writes++;
    // Scheduled against the start, so timer lateness does not add up into a slower device.
    const due = this.#startedMono + this.#writes * this.#device.periodMs;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, due - this.#clock.monoMs()));
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async write(): Promise<void> {}
}

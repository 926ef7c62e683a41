import { SerialPort } from 'serialport';
import type { Clock } from '../../ops/clock.js';
import { TwinedgeError } from '../../ops/errors.js';
import type { Transport, TransportListener, TransportManifest } from '../transport.js';

export interface SerialOptions {
  /** The port; or how to find it at each open (by USB ids), with a name for logs. */
  path: string | { describe: string; resolve: () => Promise<string> };
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits?: 1 | 1.5 | 2;
}

const MANIFEST: TransportManifest = { name: 'serial', canWrite: true, detectsUnplug: true, findsByUsbId: true };

/**
 * A serial port through the serialport library. An unplug surfaces in serialport as a `close`
 * event whose error has `disconnected: true` (a read failing with EIO/ENXIO); it is reported once.
 */
export class SerialTransport implements Transport {
  readonly id: string;
  readonly manifest = MANIFEST;
  readonly #o: SerialOptions;
  readonly #clock: Clock;
  readonly #listener: TransportListener;
  #port: SerialPort | undefined;

  constructor(options: SerialOptions, clock: Clock, listener: TransportListener) {
    this.#o = options;
    this.#clock = clock;
    this.#listener = listener;
    this.id = `serial:${typeof options.path === 'string' ? options.path : options.path.describe}`;
  }

  get isOpen(): boolean {
    return this.#port?.isOpen ?? false;
  }

  async open(): Promise<void> {
    if (this.#port?.isOpen) return;
    const path = typeof this.#o.path === 'string' ? this.#o.path : await this.#o.path.resolve();
    const port = new SerialPort({
      path,
      baudRate: this.#o.baudRate,
      dataBits: this.#o.dataBits ?? 8,
      parity: this.#o.parity ?? 'none',
      stopBits: this.#o.stopBits ?? 1,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((err) => (err ? reject(new TwinedgeError('TRANSPORT_OPEN_FAILED', `cannot open ${path}: ${err.message}`, { device: this.id }, { cause: err })) : resolve()));
    });
    this.#port = port;
    port.on('data', (bytes: Buffer) => {
      if (this.#port !== port) return;
      this.#listener.data({ bytes, monoMs: this.#clock.monoMs(), wallMs: this.#clock.wallMs() });
    });
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      if (this.#port !== port) return;
      this.#port = undefined;
      if (err?.disconnected) this.#listener.disconnected(err.message);
    });
    // Errors after open are followed by a close; the close is what counts.
    port.on('error', () => {});
  }

  async close(): Promise<void> {
    const port = this.#port;
    this.#port = undefined;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  write(bytes: Uint8Array): Promise<void> {
    const port = this.#port;
    if (!port?.isOpen) return Promise.reject(new TwinedgeError('TRANSPORT_OPEN_FAILED', `${this.id} is not open`, { device: this.id }));
    return new Promise((resolve, reject) => {
      port.write(Buffer.from(bytes), (err) => (err ? reject(err) : port.drain(() => resolve())));
    });
  }
}

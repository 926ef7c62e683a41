import type { Clock } from '../ops/clock.js';
import { Backoff } from '../ops/backoff.js';
import type { Logger } from '../ops/log.js';
import type { Transport, TransportChunk, TransportListener } from './transport.js';

/** A stretch of time a device was away: it reaches the frames' quality as missing data. */
export interface DeviceGap {
  readonly device: string;
  /** Hub monotonic times: when the device went away and when bytes could flow again. */
  readonly fromMonoMs: number;
  readonly toMonoMs: number;
  readonly reason: string;
}

export type SupervisorState = 'opening' | 'open' | 'backing-off' | 'stopped';

export interface SupervisorOptions {
  clock: Clock;
  log: Logger;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  onChunk: (chunk: TransportChunk) => void;
  onGap: (gap: DeviceGap) => void;
}

/**
 * Keeps one device's transport open: opens it, and after an unplug or a failed open tries again
 * with exponential backoff and jitter, never in a tight loop. The time the device was away is
 * reported as one gap when bytes can flow again. One log line when it goes away and one when it
 * is back, whatever the number of attempts in between.
 */
export class TransportSupervisor {
  readonly #o: SupervisorOptions;
  readonly #transport: Transport;
  readonly #backoff: Backoff;
  #state: SupervisorState = 'stopped';
  #awaySince: { monoMs: number; reason: string } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt: Promise<void> | undefined;

  constructor(make: (listener: TransportListener) => Transport, options: SupervisorOptions) {
    this.#o = options;
    this.#backoff = new Backoff(options.reconnectMinMs, options.reconnectMaxMs);
    this.#transport = make({
      data: (chunk) => this.#o.onChunk(chunk),
      disconnected: (reason) => this.#lost(reason),
    });
  }

  get state(): SupervisorState {
    return this.#state;
  }

  get device(): string {
    return this.#transport.id;
  }

  start(): void {
    if (this.#state !== 'stopped') return;
    this.#state = 'opening';
    this.#attempt = this.#tryOpen();
  }

  async #tryOpen(): Promise<void> {
    try {
      await this.#transport.open();
    } catch (e) {
      if (this.#state === 'stopped') return;
      if (this.#awaySince === undefined) {
        this.#awaySince = { monoMs: this.#o.clock.monoMs(), reason: (e as Error).message };
        this.#o.log.warn({ device: this.device, err: (e as Error).message }, 'device not available; retrying with backoff');
      }
      this.#retry();
      return;
    }
    if (this.#state === 'stopped') {
      await this.#transport.close();
      return;
    }
    this.#state = 'open';
    this.#backoff.reset();
    const away = this.#awaySince;
    this.#awaySince = undefined;
    if (away) {
      const toMonoMs = this.#o.clock.monoMs();
      this.#o.log.info({ device: this.device, awayMs: Math.round(toMonoMs - away.monoMs) }, 'device back');
      this.#o.onGap({ device: this.device, fromMonoMs: away.monoMs, toMonoMs, reason: away.reason });
    }
  }

  #lost(reason: string): void {
    if (this.#state === 'stopped') return;
    this.#awaySince ??= { monoMs: this.#o.clock.monoMs(), reason };
    this.#o.log.warn({ device: this.device, reason }, 'device disconnected; reopening with backoff');
    this.#retry();
  }

  #retry(): void {
    this.#state = 'backing-off';
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#state !== 'backing-off') return;
      this.#state = 'opening';
      this.#attempt = this.#tryOpen();
    }, this.#backoff.next());
  }

  async stop(): Promise<void> {
    this.#state = 'stopped';
    clearTimeout(this.#timer);
    await this.#attempt;
    await this.#transport.close();
  }
}

import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export type ClockSync = 'synced' | 'unsynced' | 'jumped';

/**
 * The hub's two timelines: the wall clock (which on a Pi without a real-time clock can be wrong
 * until NTP syncs, and can jump) and a monotonic clock that counts from this boot_id. Stages take
 * a Clock object so that tests can drive time.
 */
export interface Clock {
  readonly bootId: string;
  /** Unix epoch milliseconds from the wall clock. */
  wallMs(): number;
  /** Milliseconds since this boot_id began; never goes back. */
  monoMs(): number;
  /** Whether the wall clock can be trusted now; 'jumped' until the next `observe` after a jump. */
  sync(): ClockSync;
}

export type SyncCheck = 'auto' | 'assume-synced' | 'assume-unsynced';

// systemd-timesyncd creates this file once it has synchronised the clock.
const TIMESYNC_FLAG = '/run/systemd/timesync/synchronized';
// Before this instant (2024-01-01) the wall clock is certainly not set: a Pi boots near 1970 or
// at its last fake-hwclock save.
const PLAUSIBLE_AFTER_MS = Date.UTC(2024, 0, 1);

/** Whether a wall-clock time can be a real one: before 2024, the clock was certainly not set. */
export function plausibleWallTime(ms: number): boolean {
  return ms >= PLAUSIBLE_AFTER_MS;
}
const SYNC_RECHECK_MS = 5000;

export interface ClockJump { atMonoMs: number; deltaMs: number }

/**
 * The system clock. A jump is a change of (wall - mono) larger than the tolerance between two
 * observations; it is remembered so the next frame can report it, never folded into data.
 */
export class SystemClock implements Clock {
  readonly bootId = randomUUID();
  readonly #origin = performance.now();
  readonly #check: SyncCheck;
  readonly #toleranceMs: number;
  #offset: number;
  #pendingJump: ClockJump | undefined;
  #syncedAt = -Infinity;
  #synced = false;

  constructor(check: SyncCheck = 'auto', toleranceMs = 1000) {
    this.#check = check;
    this.#toleranceMs = toleranceMs;
    this.#offset = Date.now() - this.monoMs();
  }

  wallMs(): number {
    return Date.now();
  }

  monoMs(): number {
    return performance.now() - this.#origin;
  }

  /** Compares the wall clock with the monotonic one; returns a jump seen since the last call. */
  observe(): ClockJump | undefined {
    const offset = this.wallMs() - this.monoMs();
    const delta = offset - this.#offset;
    if (Math.abs(delta) > this.#toleranceMs) {
      this.#offset = offset;
      this.#pendingJump = { atMonoMs: this.monoMs(), deltaMs: Math.round(delta) };
    }
    return this.#pendingJump;
  }

  /** Hands over (and forgets) the jump seen since the last call. */
  takeJump(): ClockJump | undefined {
    this.observe();
    const j = this.#pendingJump;
    this.#pendingJump = undefined;
    return j;
  }

  sync(): ClockSync {
    if (this.#pendingJump) return 'jumped';
    if (this.#check === 'assume-synced') return 'synced';
    if (this.#check === 'assume-unsynced') return 'unsynced';
    if (this.wallMs() < PLAUSIBLE_AFTER_MS) return 'unsynced';
    // Asked once per frame: look at the file system at most every few seconds.
    const now = this.monoMs();
    if (now - this.#syncedAt > SYNC_RECHECK_MS) {
      this.#synced = existsSync(TIMESYNC_FLAG);
      this.#syncedAt = now;
    }
    return this.#synced ? 'synced' : 'unsynced';
  }
}

/** A clock that tests move by hand. */
export class ManualClock implements Clock {
  readonly bootId: string;
  #wall: number;
  #mono = 0;
  #sync: ClockSync;

  constructor(wallMs: number, sync: ClockSync = 'synced', bootId = randomUUID()) {
    this.#wall = wallMs;
    this.#sync = sync;
    this.bootId = bootId;
  }

  wallMs(): number { return this.#wall; }
  monoMs(): number { return this.#mono; }
  sync(): ClockSync { return this.#sync; }
  advance(ms: number): void { this.#wall += ms; this.#mono += ms; }
  /** The wall clock alone moves (an NTP step, a user setting the date); the monotonic one does not. */
  jumpWall(ms: number): void { this.#wall += ms; }
  setSync(s: ClockSync): void { this.#sync = s; }
}

/**
 * The nonces of the commands a hub carried out, each until it cannot matter any more: a replay
 * of a command past its expiry is refused as stale, so its nonce is kept until then plus one
 * window, which also covers the hub's clock stepping back by up to a window (an NTP correction).
 *
 * It is hub state kept in the outbox (key `commands/nonces`, a JSON object nonce hex -> keep-until
 * ms), written in the same atomic batch as the command's result frame and effect: after a crash
 * either the command happened and its nonce is remembered, or neither, and a replay after a
 * restart is still caught.
 */

export const NONCES_STATE_KEY = 'commands/nonces';

/** A write to the outbox's state (its StateWrite). */
export interface NonceStateWrite {
  readonly key: string;
  readonly value: Uint8Array | undefined;
}

export class NonceStore {
  readonly #until: Map<string, number>;
  /** Whether the stored set was unreadable at load (and so started empty). */
  readonly damaged: boolean;

  private constructor(until: Map<string, number>, damaged: boolean) {
    this.#until = until;
    this.damaged = damaged;
  }

  static async load(read: (key: string) => Promise<Uint8Array | undefined>): Promise<NonceStore> {
    const raw = await read(NONCES_STATE_KEY);
    if (raw === undefined) return new NonceStore(new Map(), false);
    try {
      const stored: unknown = JSON.parse(Buffer.from(raw).toString('utf8'));
      if (stored !== null && typeof stored === 'object' && !Array.isArray(stored)) {
        const entries = Object.entries(stored as Record<string, unknown>);
        if (entries.every(([k, v]) => /^[0-9a-f]+$/.test(k) && typeof v === 'number')) return new NonceStore(new Map(entries as Array<[string, number]>), false);
      }
    } catch {
      // Reported through `damaged`.
    }
    return new NonceStore(new Map(), true);
  }

  has(nonceHex: string): boolean {
    return this.#until.has(nonceHex);
  }

  get size(): number {
    return this.#until.size;
  }

  /** Remembers a nonce (in memory at once, so a second copy arriving meanwhile is a replay). */
  claim(nonceHex: string, keepUntilMs: number): void {
    this.#until.set(nonceHex, keepUntilMs);
  }

  /** Forgets a nonce whose command could not be stored: nothing of it happened. */
  release(nonceHex: string): void {
    this.#until.delete(nonceHex);
  }

  /** The write that stores every nonce still worth keeping at `nowMs`; older ones are forgotten. */
  stateWrite(nowMs: number): NonceStateWrite {
    for (const [nonce, until] of this.#until) if (until < nowMs) this.#until.delete(nonce);
    return { key: NONCES_STATE_KEY, value: Buffer.from(JSON.stringify(Object.fromEntries(this.#until)), 'utf8') };
  }
}

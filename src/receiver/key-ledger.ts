import { createPublicKey, type KeyObject } from 'node:crypto';
import { keyIdOf } from '../frames/keys.js';
import type { TrustStore } from './trust.js';

/**
 * What the receiver learned from key handovers (frame.proto, Status.next_key), on top of the
 * trust file. The trust file stays the root of trust: a learned key counts only while the chain
 * of keys that announced it leads back to a key the trust file binds to that hub, so removing a
 * hub's keys from the trust file also drops everything learned from them.
 *
 * For a handover at seq H by key K announcing key N from seq F = H + 1:
 * - N signs this hub's frames with seq >= F (for a seq-0 status frame: last_seq + 1 >= F).
 *   Earlier seqs signed by N are refused as key_not_yet_valid.
 * - K is retired for this hub from F on: its frames with seq >= F are refused as key_retired,
 *   while frames below F (late deliveries after a reconnect) are still accepted.
 * A retired key never comes back, and a key hands over once: a second, different handover by
 * the same key, or one that names a retired key, is refused as bad_handover.
 */

/** One accepted handover: the learned key and where it starts. */
export interface Handover {
  readonly hubId: string;
  /** The announced key (N). */
  readonly keyId: string;
  readonly publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo of N, as it was announced. */
  readonly spki: Buffer;
  /** F: the first seq N signs. */
  readonly fromSeq: number;
  /** K: the key that signed the handover and is retired from F on. */
  readonly introducedBy: string;
  /** H: the handover frame's own seq. */
  readonly seq: number;
}

export type KeyWindowReason = 'key_retired' | 'key_not_yet_valid';

interface StoredHandover {
  key_id: string;
  public_key: string;
  from_seq: number;
  introduced_by: string;
  seq: number;
}

/** An Ed25519 key from its announced DER SPKI bytes, or undefined when they are not one. */
export function announcedKey(spki: Uint8Array): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}

export class KeyLedger {
  readonly #root: TrustStore;
  /** hub -> announced key id -> its handover. */
  readonly #learned = new Map<string, Map<string, Handover>>();
  /** hub -> retired key id -> the first seq it may no longer sign. */
  readonly #retired = new Map<string, Map<string, number>>();
  /** Key ids learned for any hub, so a key used on another hub's topic reads as a mismatch. */
  readonly #anyHub = new Set<string>();

  constructor(root: TrustStore) {
    this.#root = root;
  }

  /** A learned key of this hub whose chain of announcers reaches the trust file. */
  lookup(hubId: string, keyId: string): KeyObject | undefined {
    const h = this.#learned.get(hubId)?.get(keyId);
    return h && this.#anchored(hubId, h.introducedBy, new Set([keyId])) ? h.publicKey : undefined;
  }

  /** True when some hub trusts this learned key (for the key_hub_mismatch reason). */
  knows(keyId: string): boolean {
    if (!this.#anyHub.has(keyId)) return false;
    for (const hubId of this.#learned.keys()) if (this.lookup(hubId, keyId)) return true;
    return false;
  }

  #anchored(hubId: string, keyId: string, seen: Set<string>): boolean {
    if (this.#root.lookup(keyId)?.hubIds.has(hubId)) return true;
    if (seen.has(keyId)) return false;
    seen.add(keyId);
    const h = this.#learned.get(hubId)?.get(keyId);
    return h !== undefined && this.#anchored(hubId, h.introducedBy, seen);
  }

  /** Whether `keyId` may sign this hub's frame whose key seq is `keySeq` (see the class comment). */
  window(hubId: string, keyId: string, keySeq: number): KeyWindowReason | undefined {
    const retiredFrom = this.#retired.get(hubId)?.get(keyId);
    if (retiredFrom !== undefined && keySeq >= retiredFrom) return 'key_retired';
    const learned = this.#learned.get(hubId)?.get(keyId);
    if (learned && keySeq < learned.fromSeq) return 'key_not_yet_valid';
    return undefined;
  }

  /**
   * Whether a verified handover can be taken: 'new', 'known' (the same one again: nothing to
   * do), or why it is refused.
   */
  judge(h: Handover): 'new' | 'known' | string {
    if (h.keyId === h.introducedBy) return 'announces the key that signed it';
    if (h.fromSeq !== h.seq + 1) return `from_seq ${h.fromSeq} is not the handover's seq + 1 (${h.seq + 1})`;
    const known = this.#learned.get(h.hubId)?.get(h.keyId);
    if (known) {
      return known.fromSeq === h.fromSeq && known.introducedBy === h.introducedBy ? 'known' : `key ${h.keyId} was already announced from seq ${known.fromSeq}`;
    }
    if (this.#retired.get(h.hubId)?.has(h.keyId)) return `key ${h.keyId} is retired for this hub`;
    const successor = this.#retired.get(h.hubId)?.get(h.introducedBy);
    if (successor !== undefined) return `key ${h.introducedBy} already handed over at seq ${successor}`;
    return 'new';
  }

  /** Takes a handover that judge() called 'new' (or reloads a stored one). */
  add(h: Handover): void {
    let learned = this.#learned.get(h.hubId);
    if (!learned) this.#learned.set(h.hubId, learned = new Map());
    learned.set(h.keyId, h);
    let retired = this.#retired.get(h.hubId);
    if (!retired) this.#retired.set(h.hubId, retired = new Map());
    retired.set(h.introducedBy, h.fromSeq);
    this.#anyHub.add(h.keyId);
  }

  /** Every handover taken for a hub, by seq. */
  handovers(hubId: string): Handover[] {
    return [...(this.#learned.get(hubId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }

  static encode(h: Handover): string {
    const stored: StoredHandover = { key_id: h.keyId, public_key: h.spki.toString('base64'), from_seq: h.fromSeq, introduced_by: h.introducedBy, seq: h.seq };
    return JSON.stringify(stored);
  }

  /** A stored handover, checked again: a record that no longer parses is not trusted. */
  static decode(hubId: string, text: string): Handover | undefined {
    try {
      const s = JSON.parse(text) as StoredHandover;
      const spki = Buffer.from(s.public_key, 'base64');
      const publicKey = announcedKey(spki);
      if (!publicKey || keyIdOf(publicKey) !== s.key_id) return undefined;
      return { hubId, keyId: s.key_id, publicKey, spki, fromSeq: s.from_seq, introducedBy: s.introduced_by, seq: s.seq };
    } catch {
      return undefined;
    }
  }
}

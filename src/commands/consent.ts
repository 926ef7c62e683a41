import { CONSENT_KINDS } from '../config/schema.js';
import { ConsentKindCode, type Payload } from '../frames/codec.js';

/**
 * Per subject, which kinds of their data may leave the hub, and the one place that enforces it:
 * frames pass through `apply` on their way to the outbox, so what is not consented is never
 * written there (nor signed, nor sent).
 *
 *   embeddings  CrossSection.embeddings      features  CrossSection.features
 *   exposure    Exposure frames              events    Event frames
 *
 * A cross-section keeps the consented half; with neither, it is not sent at all (its window
 * bounds, sources and coverage would still say when the subject wore which device). Frames about
 * the hub itself (status, gap, command results) carry no subject data and always pass.
 *
 * Where consent comes from: the config's subjects[].consent, unless a SetConsent command changed
 * it. The command's value is kept in the outbox state (`consent/<subject_ref>`, with the config's
 * value at the time) and wins at the next start as long as the config still says what it said
 * then; once the operator edits the subject's consent in the config, the later decision, the
 * config's, applies and the stored one is deleted.
 */

export type ConsentKind = (typeof CONSENT_KINDS)[number];
export { CONSENT_KINDS };

export const CONSENT_STATE_PREFIX = 'consent/';

const WIRE = ConsentKindCode as Readonly<Record<string, number>>;

/** ConsentKind numbers on the wire (frame.proto) from names. */
export function consentCode(kind: ConsentKind): number {
  return WIRE[kind.toUpperCase()]!;
}

/** Names from wire numbers; undefined for a number that is not a kind (0 included). */
export function consentKindOf(code: number): ConsentKind | undefined {
  return CONSENT_KINDS.find((k) => consentCode(k) === code);
}

/** Consent in the order of CONSENT_KINDS, whatever order it was given in. */
export function normalConsent(kinds: Iterable<ConsentKind>): ConsentKind[] {
  const set = new Set(kinds);
  return CONSENT_KINDS.filter((k) => set.has(k));
}

interface StoredConsent {
  readonly allowed: ConsentKind[];
  /** The config's consent when the command set this one. */
  readonly configured: ConsentKind[];
}

/** A write to the outbox's state (its StateWrite). */
export interface ConsentStateWrite {
  readonly key: string;
  readonly value: Uint8Array | undefined;
}

export interface ConsentChange {
  readonly subject: string;
  readonly allowed: readonly ConsentKind[];
  /** 'command': the stored command's value applies; 'config': the config changed since, and applies. */
  readonly from: 'command' | 'config';
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export class ConsentPolicy {
  /** Subject -> the config's consent. Absent: no subject is restricted. */
  readonly #configured: ReadonlyMap<string, readonly ConsentKind[]> | undefined;
  readonly #allowed = new Map<string, ReadonlySet<ConsentKind>>();
  readonly #withheld = Object.fromEntries(CONSENT_KINDS.map((k) => [k, 0])) as Record<ConsentKind, number>;

  constructor(configured: ReadonlyMap<string, readonly ConsentKind[]> | undefined) {
    this.#configured = configured;
    for (const [subject, kinds] of configured ?? []) this.#allowed.set(subject, new Set(kinds));
  }

  /** Whether consent can be set for this subject: one the hub serves. */
  isSubject(subject: string): boolean {
    return this.#configured?.has(subject) ?? false;
  }

  /**
   * Reads the consent that commands stored, before any frame passes. Returns what differs from
   * the config (to log) and the writes that delete stored values the config has overtaken.
   */
  async load(read: (key: string) => Promise<Uint8Array | undefined>): Promise<{ changes: ConsentChange[]; cleanup: ConsentStateWrite[] }> {
    const changes: ConsentChange[] = [];
    const cleanup: ConsentStateWrite[] = [];
    for (const [subject, configured] of this.#configured ?? []) {
      const raw = await read(CONSENT_STATE_PREFIX + subject);
      if (raw === undefined) continue;
      const stored = parseStored(raw);
      // Unreadable: the config's value holds, and a stricter stored one may be lost; say so.
      if (!stored) {
        changes.push({ subject, allowed: normalConsent(configured), from: 'config' });
        cleanup.push({ key: CONSENT_STATE_PREFIX + subject, value: undefined });
      } else if (sameList(stored.configured, normalConsent(configured))) {
        this.#allowed.set(subject, new Set(stored.allowed));
        changes.push({ subject, allowed: stored.allowed, from: 'command' });
      } else {
        changes.push({ subject, allowed: normalConsent(configured), from: 'config' });
        cleanup.push({ key: CONSENT_STATE_PREFIX + subject, value: undefined });
      }
    }
    return { changes, cleanup };
  }

  /** The kinds that may leave the hub for a subject now. */
  allowed(subject: string): ConsentKind[] {
    const set = this.#allowed.get(subject);
    return set ? normalConsent(set) : [...CONSENT_KINDS];
  }

  allows(subject: string, kind: ConsentKind): boolean {
    return this.#allowed.get(subject)?.has(kind) ?? true;
  }

  /** Changes a subject's consent now; returns the state write that keeps it (in the command's batch). */
  set(subject: string, kinds: readonly ConsentKind[]): ConsentStateWrite {
    if (!this.isSubject(subject)) throw new TypeError(`'${subject}' is not a subject of this hub`);
    const allowed = normalConsent(kinds);
    this.#allowed.set(subject, new Set(allowed));
    const stored: StoredConsent = { allowed, configured: normalConsent(this.#configured!.get(subject)!) };
    return { key: CONSENT_STATE_PREFIX + subject, value: Buffer.from(JSON.stringify(stored), 'utf8') };
  }

  /**
   * The payload as consent lets it leave: unchanged, stripped of a cross-section's withheld
   * half, or undefined (nothing of it may leave). Never changes `payload` itself.
   */
  apply(subject: string, payload: Payload): Payload | undefined {
    const allowed = this.#allowed.get(subject);
    if (!allowed) return payload;
    if ('cross_section' in payload) {
      const cs = payload.cross_section;
      const embeddings = allowed.has('embeddings');
      const features = allowed.has('features');
      if (embeddings && features) return payload;
      if ((cs.embeddings?.length ?? 0) > 0 && !embeddings) this.#withheld.embeddings++;
      if ((cs.features?.length ?? 0) > 0 && !features) this.#withheld.features++;
      if (!embeddings && !features) return undefined;
      return { cross_section: { ...cs, ...(embeddings ? {} : { embeddings: [] }), ...(features ? {} : { features: [] }) } };
    }
    if ('exposure' in payload && !allowed.has('exposure')) {
      this.#withheld.exposure++;
      return undefined;
    }
    if ('event' in payload && !allowed.has('events')) {
      this.#withheld.events++;
      return undefined;
    }
    return payload;
  }

  /** Frames (or cross-section halves) kept on the hub for want of consent, by kind, since start. */
  withheld(): Record<ConsentKind, number> {
    return { ...this.#withheld };
  }
}

function parseStored(raw: Uint8Array): StoredConsent | undefined {
  try {
    const v = JSON.parse(Buffer.from(raw).toString('utf8')) as Partial<StoredConsent>;
    const isKinds = (x: unknown): x is ConsentKind[] => Array.isArray(x) && x.every((k) => (CONSENT_KINDS as readonly unknown[]).includes(k));
    if (isKinds(v.allowed) && isKinds(v.configured)) return { allowed: normalConsent(v.allowed), configured: normalConsent(v.configured) };
  } catch {
    // Reported by the caller.
  }
  return undefined;
}

import type { KeyObject } from 'node:crypto';
import { decodeBody, decodeSigned, FrameBodyType, SCHEMA_VERSION, type DecodedBody, type FrameKind, type SignedFrame } from '../frames/codec.js';
import { HUB_SUBJECT } from '../frames/frame-maker.js';
import { keyIdOf } from '../frames/keys.js';
import type { OpenKeys } from '../frames/seal.js';
import { verifyBody } from '../frames/sign.js';
import { frameTopic, parseTopic } from '../publish/topics.js';
import { announcedKey, KeyLedger, type Handover } from './key-ledger.js';
import type { VerifyRejectReason } from './reasons.js';
import type { TrustStore } from './trust.js';

/**
 * A frame whose signature, key binding and topic all check out. `bodyBytes` are the exact bytes
 * that were signed; `body` is their decoding. Nothing here was re-encoded.
 */
export interface AcceptedFrame {
  readonly topic: string;
  readonly hub_id: string;
  readonly subject_ref: string;
  /** 0 for births and wills (the retained status topic), outside the sequence; a key handover has its seq. */
  readonly seq: number;
  readonly kind: FrameKind;
  readonly key_id: string;
  readonly body: DecodedBody;
  readonly bodyBytes: Uint8Array;
  /** A key handover this receiver has not taken yet: the state takes it with the frame. */
  readonly handover?: Handover;
  /**
   * Set when the payload arrived sealed: 'opened' (the body holds the payload, opened with an
   * open key) or 'closed' (no open key: the body holds the Sealed message, for later).
   */
  readonly sealed?: 'opened' | 'closed';
}

export interface FrameVerifierOptions {
  /**
   * Keys learned from handovers, shared with the state that stores them. Default: a ledger of
   * this verifier's own, which nothing fills (handovers verify, but no key is learned).
   */
  ledger?: KeyLedger;
  /** Without them, sealed payloads are accepted as they are ('closed'). */
  openKeys?: OpenKeys;
}

export type Verdict =
  | { readonly ok: true; readonly frame: AcceptedFrame }
  /** hubId: the hub the topic names, when the topic was one of ours (for per-hub counts). */
  | { readonly ok: false; readonly reason: VerifyRejectReason; readonly hubId: string | undefined };

const KEY_ID = /^[0-9a-f]{16}$/;
const ED25519_SIGNATURE_BYTES = 64;

/**
 * Checks one MQTT message against the trust store. Stateless apart from the store, so it never
 * says whether a frame was seen before: that is dedupe.ts's job.
 *
 * The order is the contract (see reasons.ts): nothing from the body is believed before its
 * signature verified with a key bound to the topic's hub, and the body is decoded from the
 * bytes that were verified, never re-encoded.
 */
export class FrameVerifier {
  readonly #trust: TrustStore;
  readonly #ledger: KeyLedger;
  readonly #openKeys: OpenKeys | undefined;

  constructor(trust: TrustStore, opts: FrameVerifierOptions = {}) {
    this.#trust = trust;
    this.#ledger = opts.ledger ?? new KeyLedger(trust);
    this.#openKeys = opts.openKeys;
  }

  /** The key to check a frame of `hubId` with: from the trust file, or learned from a handover. */
  #keyFor(hubId: string, keyId: string): KeyObject | 'unknown_key' | 'key_hub_mismatch' {
    const root = this.#trust.lookup(keyId);
    if (root?.hubIds.has(hubId)) return root.publicKey;
    const learned = this.#ledger.lookup(hubId, keyId);
    if (learned) return learned;
    return root || this.#ledger.knows(keyId) ? 'key_hub_mismatch' : 'unknown_key';
  }

  /**
   * The handover frames a birth or will carries (Status.key_handovers), as messages on the
   * hub's handover topic. They are read from a body whose signature could not be checked yet
   * (its key is what they may introduce), so each is only a candidate: it is verified on its
   * own, like any frame, before anything is learned from it.
   */
  carriedHandovers(topic: string, payload: Uint8Array): Array<{ topic: string; payload: Uint8Array }> {
    const parsed = parseTopic(topic);
    if (parsed?.type !== 'status') return [];
    try {
      const body = FrameBodyType.toObject(FrameBodyType.decode(decodeSigned(payload).body), { bytes: Uint8Array as unknown as typeof Array, arrays: true }) as { status?: { key_handovers?: Uint8Array[] } };
      const handoverTopic = frameTopic(parsed.hubId, HUB_SUBJECT, 'status');
      return (body.status?.key_handovers ?? []).map((p) => ({ topic: handoverTopic, payload: p }));
    } catch {
      return [];
    }
  }

  verify(topic: string, payload: Uint8Array): Verdict {
    const parsed = parseTopic(topic);
    if (!parsed) return reject('bad_topic', undefined);
    const hubId = parsed.hubId;

    let signed: SignedFrame;
    try {
      signed = decodeSigned(payload);
    } catch {
      return reject('malformed', hubId);
    }
    // Garbage can parse as a SignedFrame with unknown fields skipped and ours left empty.
    if (signed.body.length === 0 || signed.signature.length !== ED25519_SIGNATURE_BYTES || !KEY_ID.test(signed.key_id)) {
      return reject('malformed', hubId);
    }

    const key = this.#keyFor(hubId, signed.key_id);
    if (typeof key === 'string') return reject(key, hubId);
    if (!verifyBody(signed.body, signed.signature, key)) return reject('bad_signature', hubId);

    let body: DecodedBody;
    try {
      body = decodeBody(signed.body);
    } catch {
      return reject('malformed_body', hubId);
    }

    if (body.hub_id !== hubId) return reject('topic_hub_mismatch', hubId);
    if (parsed.type === 'status') {
      if (body.kind !== 'status') return reject('topic_mismatch', hubId);
    } else if (body.kind !== parsed.kind || body.subject_ref !== parsed.subjectRef || (body.kind === 'status' && body.subject_ref !== HUB_SUBJECT)) {
      return reject('topic_mismatch', hubId);
    }
    if (body.schema_version !== SCHEMA_VERSION) return reject('unsupported_schema', hubId);
    // On a frame topic every kind is in the sequence, a key handover (status) included.
    if (parsed.type === 'frame' && !validSequence(body)) return reject('malformed_body', hubId);

    // Births and wills have no seq: they follow the key of the next seq after their last_seq.
    const keySeq = parsed.type === 'status' ? (body.status?.last_seq ?? 0) + 1 : body.seq;
    const window = this.#ledger.window(hubId, signed.key_id, keySeq);
    if (window) return reject(window, hubId);

    let handover: Handover | undefined;
    const next = body.status?.next_key;
    if (next) {
      if (parsed.type === 'status') return reject('bad_handover', hubId);
      const publicKey = announcedKey(next.public_key);
      if (!publicKey || keyIdOf(publicKey) !== next.key_id) return reject('bad_handover', hubId);
      const h: Handover = { hubId, keyId: next.key_id, publicKey, spki: Buffer.from(next.public_key), fromSeq: next.from_seq, introducedBy: signed.key_id, seq: body.seq };
      const judged = this.#ledger.judge(h);
      if (judged === 'new') handover = h;
      else if (judged !== 'known') return reject('bad_handover', hubId);
    }

    let sealed: 'opened' | 'closed' | undefined;
    if (body.sealed) {
      sealed = 'closed';
      if (this.#openKeys) {
        const opened = this.#openKeys.open({ hubId, subjectRef: body.subject_ref, kind: body.kind, seq: body.seq }, body.sealed);
        if (!opened.ok) return reject(opened.reason, hubId);
        const { sealed: _, ...clear } = body;
        body = { ...clear, ...opened.payload };
        sealed = 'opened';
      }
    }

    return {
      ok: true,
      frame: {
        topic, hub_id: hubId, subject_ref: body.subject_ref, seq: parsed.type === 'status' ? 0 : body.seq,
        kind: body.kind, key_id: signed.key_id, body, bodyBytes: signed.body,
        ...(handover ? { handover } : {}), ...(sealed ? { sealed } : {}),
      },
    };
  }
}

function reject(reason: VerifyRejectReason, hubId: string | undefined): Verdict {
  return { ok: false, reason, hubId };
}

/**
 * Seqs start at 1 and must be exact as JavaScript numbers (decodeBody reads uint64 as a number).
 * A gap may only declare seqs before its own: the outbox drops old frames, never future ones, and
 * a range past the gap frame would move the watermark over frames not yet sent.
 */
function validSequence(body: DecodedBody): boolean {
  if (!Number.isSafeInteger(body.seq) || body.seq < 1) return false;
  if (body.kind === 'gap') {
    for (const r of body.gap?.dropped ?? []) {
      if (!Number.isSafeInteger(r.first) || !Number.isSafeInteger(r.last) || r.first < 1 || r.first > r.last || r.last >= body.seq) return false;
    }
  }
  return true;
}

import { decodeBody, decodeSigned, SCHEMA_VERSION, type DecodedBody, type FrameKind, type SignedFrame } from '../frames/codec.js';
import { verifyBody } from '../frames/sign.js';
import { parseTopic } from '../publish/topics.js';
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
  /** 0 for status frames, which are outside the sequence. */
  readonly seq: number;
  readonly kind: FrameKind;
  readonly key_id: string;
  readonly body: DecodedBody;
  readonly bodyBytes: Uint8Array;
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

  constructor(trust: TrustStore) {
    this.#trust = trust;
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

    const key = this.#trust.lookup(signed.key_id);
    if (!key) return reject('unknown_key', hubId);
    if (!key.hubIds.has(hubId)) return reject('key_hub_mismatch', hubId);
    if (!verifyBody(signed.body, signed.signature, key.publicKey)) return reject('bad_signature', hubId);

    let body: DecodedBody;
    try {
      body = decodeBody(signed.body);
    } catch {
      return reject('malformed_body', hubId);
    }

    if (body.hub_id !== hubId) return reject('topic_hub_mismatch', hubId);
    if (parsed.type === 'status') {
      if (body.kind !== 'status') return reject('topic_mismatch', hubId);
    } else if (body.kind !== parsed.kind || body.subject_ref !== parsed.subjectRef) {
      return reject('topic_mismatch', hubId);
    }
    if (body.schema_version !== SCHEMA_VERSION) return reject('unsupported_schema', hubId);
    if (body.kind !== 'status' && !validSequence(body)) return reject('malformed_body', hubId);

    return {
      ok: true,
      frame: {
        topic, hub_id: hubId, subject_ref: body.subject_ref, seq: body.kind === 'status' ? 0 : body.seq,
        kind: body.kind, key_id: signed.key_id, body, bodyBytes: signed.body,
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

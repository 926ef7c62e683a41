/**
 * Why the receiver refused a frame. These strings are stable, like error codes: counters, logs,
 * tests and twin-server dashboards key on them. A new way to fail gets a new reason.
 *
 * Verification, in the order it is checked (the first that fails is the one reported):
 * - bad_topic: the topic is not twin/v1/<hub_id>/<subject_ref>/<kind> nor twin/v1/<hub_id>/status.
 * - malformed: the payload is not a SignedFrame (cut short, garbage, no body, a signature that
 *   is not 64 bytes, a key_id that is not 16 lowercase hex digits).
 * - unknown_key: no trusted key has this key_id.
 * - key_hub_mismatch: the key is trusted, but not for the hub named in the topic.
 * - bad_signature: the Ed25519 signature does not verify over the body bytes as received.
 * - malformed_body: the signed body is not a FrameBody with a payload, or its header is
 *   impossible (seq 0 or beyond 2^53 on a sequenced frame, a gap range that is empty or not
 *   before the gap frame's own seq).
 * - topic_hub_mismatch: the body's hub_id differs from the topic's.
 * - topic_mismatch: the body's subject_ref or kind differs from the topic's.
 * - unsupported_schema: schema_version is not one this receiver reads.
 * - key_retired: the key handed over to another (key-ledger.ts) before this frame's seq (for a
 *   birth or will, its last_seq + 1): a frame the old key could not have signed in good faith.
 * - key_not_yet_valid: the key was announced by a handover from a seq above this frame's.
 * - bad_handover: a key handover that cannot be taken: on the retained status topic, an
 *   announced key that is not Ed25519 or not the key_id it says, a from_seq that is not the
 *   handover's seq + 1, a key that was retired or already announced, or a second handover by
 *   the same key.
 * - seal_wrong_key: with open keys, a sealed payload for a key this receiver does not hold.
 * - seal_open_failed: with open keys, a sealed payload that fails AES-GCM authentication or
 *   does not hold a payload of its kind.
 *
 * Then against what was already accepted:
 * - duplicate: this hub's seq was accepted before (at-least-once delivery sends some twice), or
 *   a status frame identical in time to the latest one.
 * - replay: the seq is at or below the hub's watermark: an old frame after everything up to it
 *   was accepted or declared lost.
 * - stale_status: a status frame older than the latest one kept for its hub.
 */
export type RejectReason =
  | 'bad_topic'
  | 'malformed'
  | 'unknown_key'
  | 'key_hub_mismatch'
  | 'bad_signature'
  | 'malformed_body'
  | 'topic_hub_mismatch'
  | 'topic_mismatch'
  | 'unsupported_schema'
  | 'key_retired'
  | 'key_not_yet_valid'
  | 'bad_handover'
  | 'seal_wrong_key'
  | 'seal_open_failed'
  | 'duplicate'
  | 'replay'
  | 'stale_status';

export type VerifyRejectReason = Exclude<RejectReason, 'duplicate' | 'replay' | 'stale_status'>;
export type DedupeRejectReason = Extract<RejectReason, 'duplicate' | 'replay' | 'stale_status'>;

export const REJECT_REASONS: readonly RejectReason[] = [
  'bad_topic', 'malformed', 'unknown_key', 'key_hub_mismatch', 'bad_signature', 'malformed_body',
  'topic_hub_mismatch', 'topic_mismatch', 'unsupported_schema', 'key_retired', 'key_not_yet_valid',
  'bad_handover', 'seal_wrong_key', 'seal_open_failed', 'duplicate', 'replay', 'stale_status',
];

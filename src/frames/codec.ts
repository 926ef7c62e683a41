import protobuf from 'protobufjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TwinedgeError } from '../ops/errors.js';
import { PACKAGE_ROOT } from '../ops/package-root.js';

/**
 * Encoding and decoding of twin.v1 messages, by reflection over proto/twin/v1/frame.proto: the
 * .proto file is the one source of truth. Field names keep their proto (snake_case) spelling so
 * that code, docs and other languages use the same words.
 */

// From src/frames in a checkout, or dist/src/frames in a built image.
export const PROTO_FILE = join(PACKAGE_ROOT, 'proto', 'twin', 'v1', 'frame.proto');
export const SCHEMA_VERSION = 1;

// keepCase: the proto's own field names, not camelCase copies of them.
const parsed = protobuf.parse(readFileSync(PROTO_FILE, 'utf8'), { keepCase: true }).root;
parsed.resolveAll();

export const SignedFrameType = parsed.lookupType('twin.v1.SignedFrame');
export const FrameBodyType = parsed.lookupType('twin.v1.FrameBody');
export const protoRoot = parsed;

export type FrameKind = 'cross_section' | 'exposure' | 'event' | 'status' | 'gap' | 'command_result';
// Stored frames keep their kind as an index into this list (src/outbox/segment.ts): append only.
export const FRAME_KINDS: readonly FrameKind[] = ['cross_section', 'exposure', 'event', 'status', 'gap', 'command_result'];

export const ClockStatus = { UNSPECIFIED: 0, SYNCED: 1, UNSYNCED: 2, JUMPED: 3 } as const;
export const HubState = { UNSPECIFIED: 0, ONLINE: 1, OFFLINE: 2 } as const;
export const GapReason = { UNSPECIFIED: 0, QUOTA_FULL: 1, STORE_DAMAGED: 2, PURGED: 3 } as const;
export const EventKind = { UNSPECIFIED: 0, MEDICATION: 1, PROCEDURE: 2, MEAL: 3, SLEEP: 4, DEVICE_CHANGE: 5, NOTE: 6 } as const;
export const VectorEncoding = { UNSPECIFIED: 0, FLOAT32: 1, FLOAT16: 2, INT8: 3 } as const;

export interface Feature { code: string; value: number; unit: string; standard_code?: string; coverage?: number; n?: number }
export interface SourceDevice { device_id: string; profile_id: string; profile_version: string; channels?: string[] }
export interface ModalityQuality { modality: string; coverage: number; gaps?: number; late_samples?: number }
export interface Embedding {
  modality: string; encoder_name: string; encoder_version: string; encoder_sha256: string; dim: number;
  encoding: number; values?: number[] | Float32Array; packed?: Uint8Array; scale?: number; quality?: number;
}
export interface CrossSection {
  window_start_ms: number; window_end_ms: number; window_start_mono_ms?: number; partial?: boolean;
  embeddings?: Embedding[]; features?: Feature[]; sources?: SourceDevice[]; quality?: ModalityQuality[];
}
export interface Accumulator { code: string; value: number; unit: string; covered_s?: number; half_life_s?: number }
export interface Exposure {
  period_start_ms: number; period_end_ms: number; time_zone: string; local_date: string; final?: boolean;
  accumulators?: Accumulator[];
}
export interface Event {
  event_id: string; kind: number; code?: string; dose?: number; dose_unit?: string; at_ms: number; note?: string; source?: string;
}
export interface DeviceInfo { device_id: string; profile_id: string; subject_ref: string; state: string; rssi?: number; battery?: number }
export interface Status {
  state: number; software_version?: string; config_sha256?: string; devices?: DeviceInfo[];
  profiles?: { id: string; version: string }[]; encoders?: { name: string; version: string; sha256: string; modality: string }[];
  subjects?: string[]; reason?: string; last_seq?: number; connection?: number;
  next_key?: KeyHandover; key_handovers?: Uint8Array[];
}
/** Status.next_key: the hub's next signing key and the first seq it signs (frame.proto). */
export interface KeyHandover { public_key: Uint8Array; key_id: string; from_seq: number }
export const SealAlgorithm = { UNSPECIFIED: 0, X25519_HKDF_SHA256_AES_256_GCM: 1 } as const;
/** A payload sealed to the twin server (frame.proto, Sealed); `kind` names the payload inside. */
export interface Sealed {
  algorithm: number; kind: string; recipient_key_id: string;
  ephemeral_public_key: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array;
}
/** Kinds that are never sealed: a receiver needs their contents (key handover, dropped seqs). */
export const CLEAR_KINDS: ReadonlySet<FrameKind> = new Set<FrameKind>(['status', 'gap', 'command_result']);
export interface SeqRange { first: number; last: number }
export interface Gap { reason: number; dropped: SeqRange[]; frames?: number; bytes?: number }
export const ConsentKindCode = { UNSPECIFIED: 0, EMBEDDINGS: 1, FEATURES: 2, EXPOSURE: 3, EVENTS: 4 } as const;
export const CommandOutcome = { UNSPECIFIED: 0, ACCEPTED: 1, REJECTED: 2 } as const;
export const CommandRejection = { UNSPECIFIED: 0, WRONG_HUB: 1, STALE: 2, CLOCK_UNSYNCED: 3, UNKNOWN_SUBJECT: 4, INVALID: 5, NOT_AVAILABLE: 6, FAILED: 7 } as const;
export interface PurgeReport {
  subject_ref: string; frames: number; bytes: number; removed: SeqRange[]; gap_seq: number; delivered_copies: number; state_keys: string[];
}
export interface SubjectConsent { subject_ref: string; allowed: number[] }
/** The hub's answer to a twin-server command (frame.proto, CommandResult). */
export interface CommandResult {
  command_nonce: Uint8Array; command_issued_at_ms: number; command: string; outcome: number; rejection?: number;
  detail?: string; command_key_id: string; purge?: PurgeReport; consent?: SubjectConsent;
}

export type Payload =
  | { cross_section: CrossSection }
  | { exposure: Exposure }
  | { event: Event }
  | { status: Status }
  | { gap: Gap }
  | { command_result: CommandResult };

/** The header every frame body carries, whatever its payload. */
export interface FrameHeader {
  schema_version: number;
  hub_id: string;
  subject_ref: string;
  seq: number;
  boot_id: string;
  wall_ms: number;
  mono_ms: number;
  clock_status: number;
  clock_jump_ms?: number;
}

export type FrameBody = FrameHeader & (Payload | { sealed: Sealed });

/** A decoded body: header values as plain numbers, plus which payload it holds. */
export type DecodedBody = FrameHeader & Partial<{ cross_section: CrossSection; exposure: Exposure; event: Event; status: Status; gap: Gap; sealed: Sealed; command_result: CommandResult }> & { kind: FrameKind };

export interface SignedFrame { body: Uint8Array; signature: Uint8Array; key_id: string }

export function payloadKind(body: Payload): FrameKind {
  for (const k of FRAME_KINDS) if ((body as Record<string, unknown>)[k] !== undefined) return k;
  throw new TypeError('frame body has no payload');
}

export function encodeBody(body: FrameBody): Uint8Array {
  const problem = FrameBodyType.verify(body);
  if (problem) throw new TwinedgeError('FRAME_INVALID', `frame body: ${problem}`);
  return FrameBodyType.encode(body).finish();
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: Number, bytes: Uint8Array as unknown as typeof Array, defaults: true, arrays: true, oneofs: true };

/** Decodes a body; throws (a protobufjs error) on bytes that are not a FrameBody. */
export function decodeBody(bytes: Uint8Array): DecodedBody {
  const msg = FrameBodyType.decode(bytes);
  const obj = FrameBodyType.toObject(msg, toObjectOptions) as DecodedBody & { payload?: FrameKind };
  const kind = obj.payload as FrameKind | 'sealed' | undefined;
  if (!kind) throw new Error('frame body has no payload');
  delete obj.payload;
  if (kind === 'sealed') {
    // A sealed body's kind is the one it claims in clear; opening it checks the claim.
    const claimed = obj.sealed!.kind as FrameKind;
    if (!FRAME_KINDS.includes(claimed) || CLEAR_KINDS.has(claimed)) throw new Error(`a sealed payload cannot be of kind '${obj.sealed!.kind}'`);
    obj.kind = claimed;
    return obj;
  }
  obj.kind = kind;
  return obj;
}

export function encodeSigned(frame: SignedFrame): Uint8Array {
  return SignedFrameType.encode(frame).finish();
}

/** Decodes the envelope only; the body stays as the exact bytes received. */
export function decodeSigned(bytes: Uint8Array): SignedFrame {
  const msg = SignedFrameType.decode(bytes) as unknown as SignedFrame;
  return { body: msg.body, signature: msg.signature, key_id: msg.key_id };
}

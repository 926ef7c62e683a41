import type { Clock } from '../ops/clock.js';
import { ClockStatus, CLEAR_KINDS, encodeBody, payloadKind, SCHEMA_VERSION, type FrameBody, type Payload } from './codec.js';
import { seal, type SealRecipient } from './seal.js';
import type { FrameSigner } from './sign.js';

/** subject_ref of frames about the hub itself (status, gap). */
export const HUB_SUBJECT = '_hub';

const CLOCK_STATUS = { synced: ClockStatus.SYNCED, unsynced: ClockStatus.UNSYNCED, jumped: ClockStatus.JUMPED } as const;

export interface FrameMakerOptions {
  hubId: string;
  clock: Clock;
  signer: FrameSigner;
  /** Called once per frame; a jump it returns is reported in that frame's header. */
  takeClockJump?: () => { deltaMs: number } | undefined;
  /** When set, every payload but status and gap is sealed to this key (seal.ts, frame.proto Sealed). */
  sealTo?: SealRecipient | undefined;
}

/** Builds a frame body with the hub's header, and signs it. */
export class FrameMaker {
  readonly hubId: string;
  readonly #clock: Clock;
  /**
   * Signers by the first seq they sign, ascending: a key handover adds one. The signer is chosen
   * by seq, not by when a frame is made, so a frame whose seq was given before a handover is
   * signed by the old key even if it is made after it.
   */
  readonly #signers: Array<{ readonly fromSeq: number; readonly signer: FrameSigner }>;
  readonly #takeJump: (() => { deltaMs: number } | undefined) | undefined;
  readonly #sealTo: SealRecipient | undefined;

  constructor(opts: FrameMakerOptions) {
    this.hubId = opts.hubId;
    this.#clock = opts.clock;
    this.#signers = [{ fromSeq: 0, signer: opts.signer }];
    this.#takeJump = opts.takeClockJump;
    this.#sealTo = opts.sealTo;
  }

  /** The key of the latest signer: the one that signs new frames. */
  get keyId(): string {
    return this.#signers[this.#signers.length - 1]!.signer.keyId;
  }

  /** Frames with seq `fromSeq` and above are signed by `signer` (a key handover, hub.ts). */
  switchSigner(fromSeq: number, signer: FrameSigner): void {
    if (fromSeq <= this.#signers[this.#signers.length - 1]!.fromSeq) throw new TypeError(`a signer switch at seq ${fromSeq} is not after the last one`);
    this.#signers.push({ fromSeq, signer });
  }

  /** The signer of seq `keySeq`. A status frame (seq 0) passes its last_seq + 1. */
  signerFor(keySeq: number): FrameSigner {
    for (let i = this.#signers.length - 1; i > 0; i--) if (keySeq >= this.#signers[i]!.fromSeq) return this.#signers[i]!.signer;
    return this.#signers[0]!.signer;
  }

  body(seq: number, subjectRef: string, payload: Payload): FrameBody {
    const jump = this.#takeJump?.();
    const kind = this.#sealTo ? payloadKind(payload) : undefined;
    const sealed = this.#sealTo && kind && !CLEAR_KINDS.has(kind)
      ? { sealed: seal(this.#sealTo, { hubId: this.hubId, subjectRef, kind, seq }, payload) }
      : undefined;
    return {
      schema_version: SCHEMA_VERSION,
      hub_id: this.hubId,
      subject_ref: subjectRef,
      seq,
      boot_id: this.#clock.bootId,
      wall_ms: Math.round(this.#clock.wallMs()),
      mono_ms: Math.max(0, Math.round(this.#clock.monoMs())),
      clock_status: jump ? ClockStatus.JUMPED : CLOCK_STATUS[this.#clock.sync()],
      clock_jump_ms: jump ? jump.deltaMs : 0,
      ...(sealed ?? payload),
    };
  }

  /** The signed frame bytes for one payload; `keySeq` picks the signer (see signerFor). */
  make(seq: number, subjectRef: string, payload: Payload, keySeq = seq): Uint8Array {
    return this.signerFor(keySeq).sign(encodeBody(this.body(seq, subjectRef, payload)));
  }

  /** The same, signed off the main thread. The body is encoded (and checked) before it returns. */
  makeAsync(seq: number, subjectRef: string, payload: Payload, keySeq = seq): Promise<Uint8Array> {
    return this.signerFor(keySeq).signAsync(encodeBody(this.body(seq, subjectRef, payload)));
  }
}

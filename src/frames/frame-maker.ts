import type { Clock } from '../ops/clock.js';
import { ClockStatus, encodeBody, SCHEMA_VERSION, type FrameBody, type Payload } from './codec.js';
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
}

/** Builds a frame body with the hub's header, and signs it. */
export class FrameMaker {
  readonly hubId: string;
  readonly #clock: Clock;
  readonly #signer: FrameSigner;
  readonly #takeJump: (() => { deltaMs: number } | undefined) | undefined;

  constructor(opts: FrameMakerOptions) {
    this.hubId = opts.hubId;
    this.#clock = opts.clock;
    this.#signer = opts.signer;
    this.#takeJump = opts.takeClockJump;
  }

  get keyId(): string {
    return this.#signer.keyId;
  }

  body(seq: number, subjectRef: string, payload: Payload): FrameBody {
    const jump = this.#takeJump?.();
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
      ...payload,
    };
  }

  /** The signed frame bytes for one payload. */
  make(seq: number, subjectRef: string, payload: Payload): Uint8Array {
    return this.#signer.sign(encodeBody(this.body(seq, subjectRef, payload)));
  }

  /** The same, signed off the main thread. The body is encoded (and checked) before it returns. */
  makeAsync(seq: number, subjectRef: string, payload: Payload): Promise<Uint8Array> {
    return this.#signer.signAsync(encodeBody(this.body(seq, subjectRef, payload)));
  }
}

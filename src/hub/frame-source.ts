import type { DeviceInfo, Payload } from '../frames/codec.js';
import type { StateWrite } from '../outbox/outbox.js';

/** A frame's content before it has a seq, a header and a signature. */
export interface ProducedFrame {
  readonly subjectRef: string;
  readonly payload: Payload;
}

/**
 * Appends frames, with the state that produced them in the same atomic batch (exposure
 * accumulators): after a crash either both are on disk or neither is.
 */
export type EmitFrames = (frames: readonly ProducedFrame[], state?: readonly StateWrite[]) => Promise<void>;

/** Reads back state a source stored with its frames. */
export type ReadState = (key: string) => Promise<Uint8Array | undefined>;

/**
 * Where the hub's frames come from. Until the device layers land this is a simulated source; the
 * transports -> profiles -> windows -> features chain plugs in here.
 *
 * Contract: `emit` resolves once the frames are durable in the outbox; a source awaits it before
 * it counts them as sent (and, later, before it commits state that produced them). `start` is
 * called once; `stop` stops producing, emits what it holds (a partial window, marked partial) and
 * resolves when that emit has resolved. `emit` is never called after `stop` resolved.
 */
export interface FrameSource {
  readonly name: string;
  /** The devices and profiles it reads, for the status frame; absent for sources without devices. */
  describe?(): {
    devices: DeviceInfo[];
    profiles: Array<{ id: string; version: string }>;
    encoders: Array<{ name: string; version: string; sha256: string; modality: string }>;
  };
  start(emit: EmitFrames, readState?: ReadState): void;
  stop(): Promise<void>;
  /**
   * A purge of a subject: the source forgets what it accumulated about them (exposure state, so
   * that no later report carries data from before the purge) and resolves once the frames it had
   * already made were handed to `emit`. Absent: the source keeps nothing between frames.
   */
  forgetSubject?(subjectRef: string): Promise<void>;
}

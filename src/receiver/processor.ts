import { TwinedgeError } from '../ops/errors.js';
import type { DedupeState, GapEvent } from './dedupe.js';
import { REJECT_REASONS, type RejectReason } from './reasons.js';
import type { Sink } from './sinks/sink.js';
import type { AcceptedFrame, FrameVerifier } from './verify.js';

export type Outcome =
  | { readonly status: 'accepted'; readonly frame: AcceptedFrame; readonly gaps: readonly GapEvent[] }
  | { readonly status: 'rejected'; readonly reason: RejectReason; readonly hubId: string | undefined };

export interface ReceiverCounters {
  accepted: number;
  /** Every reason is present, at 0 when it never happened, so dashboards see the full set. */
  rejected: Record<RejectReason, number>;
}

export interface FrameProcessorOptions {
  verifier: FrameVerifier;
  state: DedupeState;
  sink: Sink;
}

/**
 * One message from topic and bytes to an outcome: verify, check against the state, write to the
 * sink, record in the state. When `process` resolves, an accepted frame is in the sink and in the
 * state, so the caller may acknowledge the message; when it rejects (the sink or the state
 * failed), the caller must not acknowledge it, and the processor refuses all later messages:
 * it fails stopped rather than write frames after one it lost track of.
 *
 * Calls are queued: each runs after the previous one settled, even if the caller overlaps them
 * (an MQTT reconnect can deliver a message again while its first copy is still being written).
 */
export class FrameProcessor {
  readonly #o: FrameProcessorOptions;
  readonly #counters: ReceiverCounters = { accepted: 0, rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number> };
  #tail: Promise<unknown> = Promise.resolve();
  #failure: unknown;

  constructor(opts: FrameProcessorOptions) {
    this.#o = opts;
  }

  process(topic: string, payload: Uint8Array): Promise<Outcome> {
    const run = this.#tail.then(() => this.#run(topic, payload));
    // The queue continues after a failure; #run refuses from then on.
    this.#tail = run.catch(() => {});
    return run;
  }

  counters(): ReceiverCounters {
    return { accepted: this.#counters.accepted, rejected: { ...this.#counters.rejected } };
  }

  async #run(topic: string, payload: Uint8Array): Promise<Outcome> {
    if (this.#failure !== undefined) throw this.#failure;
    let verdict = this.#o.verifier.verify(topic, payload);
    if (!verdict.ok && verdict.reason === 'unknown_key' && await this.#learnCarried(topic, payload)) {
      verdict = this.#o.verifier.verify(topic, payload);
    }
    if (!verdict.ok) return this.#reject(verdict.reason, verdict.hubId);
    const frame = verdict.frame;
    const seen = this.#o.state.check(frame);
    if (seen) return this.#reject(seen, frame.hub_id);
    try {
      try {
        await this.#o.sink.write(frame);
      } catch (e) {
        throw e instanceof TwinedgeError ? e : new TwinedgeError('RECEIVE_SINK_FAILED', `the sink could not take frame ${frame.hub_id}#${frame.seq}: ${(e as Error).message}; it was not acknowledged`, {}, { cause: e });
      }
      const gaps = await this.#o.state.accept(frame);
      this.#counters.accepted++;
      return { status: 'accepted', frame, gaps };
    } catch (e) {
      this.#failure = e;
      throw e;
    }
  }

  /**
   * A birth or will signed by a key this receiver has not learned may carry the handovers that
   * lead to it (it missed the handover frame itself): each is verified on its own, oldest first,
   * and taken if it checks out. True when one was taken.
   */
  async #learnCarried(topic: string, payload: Uint8Array): Promise<boolean> {
    let learned = false;
    for (const carried of this.#o.verifier.carriedHandovers(topic, payload)) {
      const v = this.#o.verifier.verify(carried.topic, carried.payload);
      if (!v.ok || !v.frame.handover) continue;
      try {
        await this.#o.state.learn(v.frame.handover);
      } catch (e) {
        this.#failure = e;
        throw e;
      }
      learned = true;
    }
    return learned;
  }

  #reject(reason: RejectReason, hubId: string | undefined): Outcome {
    this.#counters.rejected[reason]++;
    return { status: 'rejected', reason, hubId };
  }
}

/**
 * Commands from the twin server, carried out on the hub (proto/twin/v1/command.proto):
 *
 *   twin/v1/<hub_id>/cmd -> Publisher (subscribed, QoS 1) -> Hub.handleCommand -> here, one at a time
 *     -> CommandVerifier   signature by the trusted key, hub, clock, window, nonce
 *     -> the command       resend status | rotate key | purge a subject | set a subject's consent
 *     -> LevelOutbox       its CommandResult frame, its effect on the hub's state and its nonce in
 *                          one atomic batch: after a crash the command happened or it did not
 *
 * Refusals of unsigned, badly signed and malformed messages and of replays are counted and never
 * answered; other refusals are answered within a budget (AnswerBudget).
 */
import type { KeyObject } from 'node:crypto';
import { AnswerBudget } from '../commands/answer-budget.js';
import type { DecodedCommand } from '../commands/command-codec.js';
import { ANSWERED_REJECTIONS, COMMAND_REJECT_REASONS, CommandVerifier, type CommandRejectReason, type VerifiedCommand } from '../commands/command-verifier.js';
import { consentCode, consentKindOf, normalConsent, type ConsentKind, type ConsentPolicy } from '../commands/consent.js';
import { NonceStore } from '../commands/nonce-store.js';
import type { RecentEvents } from '../events/recent-events.js';
import { CommandOutcome, CommandRejection, type CommandResult } from '../frames/codec.js';
import { HUB_SUBJECT, type FrameMaker } from '../frames/frame-maker.js';
import { generateHubKey, keyIdOf, type HubKey } from '../frames/keys.js';
import type { LevelOutbox } from '../outbox/level-outbox.js';
import type { AppendEntry, PurgeOutcome, StateWrite } from '../outbox/outbox.js';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/log.js';
import type { Publisher } from '../publish/session.js';
import { ID_PATTERN } from '../publish/topics.js';
import type { FrameSource } from './frame-source.js';

export interface CommandSettings {
  /** The twin server's Ed25519 public key (commands.trust_file): the only key whose commands are carried out. */
  readonly trustKey: KeyObject;
  /** commands.window_s, in ms. */
  readonly windowMs: number;
}

/** Refusals after the signature verified and the command was taken up. */
export type DispatchRejectReason = 'unknown_subject' | 'invalid' | 'not_available' | 'failed';
export type CommandCountReason = CommandRejectReason | DispatchRejectReason;
export const COMMAND_COUNT_REASONS: readonly CommandCountReason[] = [...COMMAND_REJECT_REASONS, 'unknown_subject', 'invalid', 'not_available', 'failed'];

export interface CommandStats {
  /** Messages taken from the command topic (or handed to handleCommand). */
  readonly received: number;
  readonly accepted: number;
  /** By reason, every reason present (0 when it never happened), so dashboards see the full set. */
  readonly rejected: Readonly<Record<CommandCountReason, number>>;
  /** Signed refusals left unanswered because the answer budget was spent. */
  readonly unanswered: number;
  /** Frames, or halves of cross-sections, kept on the hub for want of consent since start. */
  readonly withheld: Readonly<Record<ConsentKind, number>>;
}

export interface HandledCommand {
  readonly outcome: 'accepted' | 'rejected';
  readonly reason?: CommandCountReason;
  /** The seq of the CommandResult frame, when one was stored. */
  readonly resultSeq?: number;
  readonly purge?: PurgeOutcome;
}

/** Thrown by a stand-in for a hub function this version does not have: the command is refused as NOT_AVAILABLE. */
export class CommandNotAvailable extends Error {}

const WIRE_REJECTION: Readonly<Partial<Record<CommandCountReason, number>>> = {
  wrong_hub: CommandRejection.WRONG_HUB,
  stale: CommandRejection.STALE,
  clock_unsynced: CommandRejection.CLOCK_UNSYNCED,
  unknown_subject: CommandRejection.UNKNOWN_SUBJECT,
  invalid: CommandRejection.INVALID,
  not_available: CommandRejection.NOT_AVAILABLE,
  failed: CommandRejection.FAILED,
};

/** Signed refusals answered at once, then one more every ANSWER_REFILL_MS. */
const ANSWER_BURST = 10;
const ANSWER_REFILL_MS = 6000;
const EXPOSURE_STATE_PREFIX = 'exposure/';

export interface HubCommandsOptions {
  readonly hubId: string;
  /** Absent: the hub trusts no twin-server key and refuses every command (bad_signature). */
  readonly settings: CommandSettings | undefined;
  readonly clock: Clock;
  readonly consent: ConsentPolicy;
  readonly outbox: LevelOutbox;
  readonly maker: FrameMaker;
  readonly publisher: Publisher;
  readonly source: FrameSource;
  /** The hub's recent event ids, once loaded. */
  readonly events: () => RecentEvents | undefined;
  readonly rotateKey: (newKey: HubKey) => Promise<unknown>;
  /** A result (and its effect) could not be stored. */
  readonly onStoreFailure: (err: unknown) => void;
  readonly log: Logger;
}

interface Outcome {
  /** undefined: accepted. */
  readonly reason: CommandCountReason | undefined;
  readonly detail: string;
  readonly extra?: Pick<CommandResult, 'purge' | 'consent'>;
  readonly state?: readonly StateWrite[];
}

export class HubCommands {
  readonly #o: HubCommandsOptions;
  readonly #log: Logger;
  readonly #verifier: CommandVerifier | undefined;
  readonly #budget: AnswerBudget;
  #nonces: NonceStore | undefined;
  #received = 0;
  #accepted = 0;
  #unanswered = 0;
  readonly #rejected = Object.fromEntries(COMMAND_COUNT_REASONS.map((r) => [r, 0])) as Record<CommandCountReason, number>;
  readonly #logged = new Set<CommandCountReason>();
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: HubCommandsOptions) {
    this.#o = options;
    this.#log = options.log.child({ stage: 'commands' });
    const s = options.settings;
    this.#verifier = s && new CommandVerifier({
      hubId: options.hubId,
      trusted: { publicKey: s.trustKey, keyId: keyIdOf(s.trustKey) },
      windowMs: s.windowMs,
      clock: options.clock,
      seen: (nonce) => this.#nonces?.has(nonce) ?? false,
    });
    this.#budget = new AnswerBudget(ANSWER_BURST, ANSWER_REFILL_MS, () => options.clock.monoMs());
  }

  /**
   * Reads what commands stored: consent (before any frame passes the policy) and the nonces
   * carried out (before any command is taken). Consent the config has overtaken is deleted.
   */
  async load(read: (key: string) => Promise<Uint8Array | undefined>): Promise<void> {
    const { changes, cleanup } = await this.#o.consent.load(read);
    for (const c of changes) {
      if (c.from === 'command') this.#log.info({ subject: c.subject, allowed: c.allowed }, 'consent as last set by the twin server');
      else this.#log.warn({ subject: c.subject, allowed: c.allowed }, 'the config changed this subject\'s consent since the twin server last set it: the config\'s applies');
    }
    if (cleanup.length > 0) await this.#o.outbox.append([], cleanup);
    this.#nonces = await NonceStore.load(read);
    if (this.#nonces.damaged) this.#log.error('the record of commands carried out was unreadable: a command from the last window could be carried out twice if it is played back');
    if (this.#o.settings) this.#log.info({ trustedKeyId: keyIdOf(this.#o.settings.trustKey), windowS: this.#o.settings.windowMs / 1000 }, 'taking signed commands');
  }

  /** Takes one message from the command topic; messages are handled one at a time, in order. */
  handle(payload: Uint8Array): Promise<HandledCommand> {
    const run = this.#tail.then(() => this.#handle(payload));
    this.#tail = run.catch(() => {});
    return run;
  }

  stats(): CommandStats {
    return { received: this.#received, accepted: this.#accepted, rejected: { ...this.#rejected }, unanswered: this.#unanswered, withheld: this.#o.consent.withheld() };
  }

  async #handle(payload: Uint8Array): Promise<HandledCommand> {
    this.#received++;
    const nonces = this.#nonces;
    if (!this.#verifier || !nonces) {
      this.#count('bad_signature', 'this hub trusts no twin-server key (commands.trust_file)');
      return { outcome: 'rejected', reason: 'bad_signature' };
    }
    const verdict = this.#verifier.verify(payload);
    if (!verdict.ok) {
      this.#count(verdict.reason, verdict.detail, verdict.command);
      if (!verdict.command || !ANSWERED_REJECTIONS.has(verdict.reason)) return { outcome: 'rejected', reason: verdict.reason };
      if (!this.#budget.take()) {
        this.#unanswered++;
        return { outcome: 'rejected', reason: verdict.reason };
      }
      const resultSeq = await this.#answer(verdict.command, { reason: verdict.reason, detail: verdict.detail }, []);
      return { outcome: 'rejected', reason: verdict.reason, resultSeq };
    }
    const c = verdict.command;
    nonces.claim(c.nonceHex, c.expiresAtMs + this.#o.settings!.windowMs);
    try {
      return await this.#carryOut(c, nonces);
    } catch (e) {
      // Nothing of the command was stored: a copy of it may be carried out after all.
      nonces.release(c.nonceHex);
      this.#o.onStoreFailure(e);
      throw e;
    }
  }

  async #carryOut(c: VerifiedCommand, nonces: NonceStore): Promise<HandledCommand> {
    const nonceWrite = () => nonces.stateWrite(this.#o.clock.wallMs());
    if (c.body.command === 'purge_subject') return this.#purge(c, nonceWrite);
    const outcome = await this.#run(c.body);
    const resultSeq = await this.#answer(c, outcome, [...(outcome.state ?? []), nonceWrite()]);
    if (outcome.reason !== undefined) this.#count(outcome.reason, outcome.detail, c);
    else this.#acceptedOne(c, outcome.detail);
    return outcome.reason === undefined ? { outcome: 'accepted', resultSeq } : { outcome: 'rejected', reason: outcome.reason, resultSeq };
  }

  async #run(body: DecodedCommand): Promise<Outcome> {
    switch (body.command) {
      case 'resend_status': {
        try {
          if (!(await this.#o.publisher.resendStatus())) return { reason: 'failed', detail: 'not connected to the broker' };
        } catch (e) {
          return { reason: 'failed', detail: `the status could not be published: ${(e as Error).message}` };
        }
        return { reason: undefined, detail: 'status published again' };
      }
      case 'rotate_key': {
        // The hub makes the key: no private key ever travels (command.proto, RotateKey).
        const key = generateHubKey();
        try {
          await this.#o.rotateKey(key);
        } catch (e) {
          if (e instanceof CommandNotAvailable) return { reason: 'not_available', detail: e.message };
          return { reason: 'failed', detail: `the key could not be rotated: ${(e as Error).message}` };
        }
        return { reason: undefined, detail: `signing with new key ${key.keyId} from the seq after its handover` };
      }
      case 'set_consent': {
        const { subject_ref: subject, allowed } = body.set_consent!;
        if (!this.#o.consent.isSubject(subject)) return { reason: 'unknown_subject', detail: `'${subject}' is not a subject of this hub` };
        const kinds = allowed.map(consentKindOf);
        if (kinds.some((k) => k === undefined)) return { reason: 'invalid', detail: `unknown consent kind in [${allowed.join(', ')}]` };
        const now = normalConsent(kinds as ConsentKind[]);
        const write = this.#o.consent.set(subject, now);
        return {
          reason: undefined,
          detail: `consent of ${subject}: ${now.length > 0 ? now.join(', ') : 'nothing'} may leave the hub`,
          extra: { consent: { subject_ref: subject, allowed: now.map(consentCode) } },
          state: [write],
        };
      }
      default:
        return { reason: 'invalid', detail: `command ${body.command} is not handled here` };
    }
  }

  /**
   * A purge: the source forgets the subject's accumulators and hands on what it made, then the
   * outbox drops the subject's pending frames, and in the same batch the gap frame that declares
   * them, this command's result, the subject's state deleted and the nonce.
   */
  async #purge(c: VerifiedCommand, nonceWrite: () => StateWrite): Promise<HandledCommand> {
    const subject = c.body.purge_subject!.subject_ref;
    if (!ID_PATTERN.test(subject) || subject === HUB_SUBJECT) {
      const outcome: Outcome = { reason: 'unknown_subject', detail: `'${subject}' is not a subject ref` };
      const resultSeq = await this.#answer(c, outcome, [nonceWrite()]);
      this.#count('unknown_subject', outcome.detail, c);
      return { outcome: 'rejected', reason: 'unknown_subject', resultSeq };
    }
    await this.#o.source.forgetSubject?.(subject);
    const events = this.#o.events();
    const ids = events ? await events.idsOf(subject) : [];
    const exposureKey = EXPOSURE_STATE_PREFIX + subject;
    const hadExposure = (await this.#o.outbox.getState(exposureKey)) !== undefined;
    let writes: StateWrite[] = [];
    let detail = '';
    const done = await this.#o.outbox.purgeSubject({
      subjectRef: subject,
      report: (removed): AppendEntry[] => {
        // Forgotten in memory as the batch is queued, so no later event write brings them back.
        writes = [...(hadExposure ? [{ key: exposureKey, value: undefined }] : []), ...(events?.forget(ids) ?? [])];
        const stateKeys = writes.filter((w) => w.value === undefined).map((w) => w.key);
        detail = `removed ${removed.frames} pending frame(s) of ${subject} and ${stateKeys.length} state key(s)`;
        return [this.#resultEntry(this.#result(c, { reason: undefined, detail, extra: { purge: {
          subject_ref: subject, frames: removed.frames, bytes: removed.bytes, removed: removed.removed.map((r) => ({ first: r.first, last: r.last })),
          gap_seq: removed.gapSeq, delivered_copies: removed.deliveredCopies, state_keys: stateKeys,
        } } }))];
      },
      state: () => [...writes, nonceWrite()],
    });
    this.#acceptedOne(c, detail, { removed: done.removed, gapSeq: done.gapSeq });
    return { outcome: 'accepted', resultSeq: done.seqs.at(-1)!, purge: done };
  }

  #result(c: VerifiedCommand, o: Outcome): CommandResult {
    const reason = o.reason;
    return {
      command_nonce: c.body.nonce,
      command_issued_at_ms: c.body.issued_at_ms,
      command: c.body.command,
      outcome: reason === undefined ? CommandOutcome.ACCEPTED : CommandOutcome.REJECTED,
      rejection: reason === undefined ? CommandRejection.UNSPECIFIED : WIRE_REJECTION[reason] ?? CommandRejection.UNSPECIFIED,
      detail: o.detail,
      command_key_id: c.keyId,
      ...o.extra,
    };
  }

  #resultEntry(result: CommandResult): AppendEntry {
    return { subjectRef: HUB_SUBJECT, kind: 'command_result', make: (seq) => this.#o.maker.makeAsync(seq, HUB_SUBJECT, { command_result: result }) };
  }

  /** Stores the result frame (with `state`, atomically); resolves to its seq. */
  async #answer(c: VerifiedCommand, o: Outcome, state: readonly StateWrite[]): Promise<number> {
    const [seq] = await this.#o.outbox.append([this.#resultEntry(this.#result(c, o))], state);
    return seq!;
  }

  #acceptedOne(c: VerifiedCommand, detail: string, more: Record<string, unknown> = {}): void {
    this.#accepted++;
    this.#log.info({ command: c.body.command, nonce: c.nonceHex.slice(0, 16), ...more }, `command carried out: ${detail}`);
  }

  /** Counts a refusal; the first of each reason is logged at warn, the rest at debug (the counters have them). */
  #count(reason: CommandCountReason, detail: string, c?: VerifiedCommand): void {
    this.#rejected[reason]++;
    const fields = { reason, command: c?.body.command, nonce: c?.nonceHex.slice(0, 16), detail };
    if (this.#logged.has(reason)) {
      this.#log.debug(fields, 'command refused');
    } else {
      this.#logged.add(reason);
      this.#log.warn(fields, 'command refused (first of this reason; see the command counters for more)');
    }
  }
}

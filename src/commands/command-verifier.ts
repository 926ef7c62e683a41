import type { KeyObject } from 'node:crypto';
import type { Clock } from '../ops/clock.js';
import { decodeCommandBody, decodeSignedCommand, type DecodedCommand, type SignedCommand } from './command-codec.js';
import { verifyCommandBody } from './command-sign.js';

/**
 * Why a command was refused before it was carried out. These strings are stable, like error
 * codes: the hub's counters and metrics key on them. The order of the checks is the contract
 * (proto/twin/v1/command.proto): nothing from a body is believed before its signature verified.
 */
export type CommandRejectReason =
  | 'malformed'
  | 'unsigned'
  | 'bad_signature'
  | 'wrong_hub'
  | 'clock_unsynced'
  | 'stale'
  | 'replayed';

export const COMMAND_REJECT_REASONS: readonly CommandRejectReason[] = ['malformed', 'unsigned', 'bad_signature', 'wrong_hub', 'clock_unsynced', 'stale', 'replayed'];

/**
 * Refusals the hub answers with a result frame: the signature verified, so the twin server sent
 * the command and can use the reason. A replay is never answered: the first copy was, and a
 * recorded command published again and again must not make the hub write again and again.
 */
export const ANSWERED_REJECTIONS: ReadonlySet<CommandRejectReason> = new Set(['wrong_hub', 'clock_unsynced', 'stale']);

/** A command whose signature verified by the trusted key. */
export interface VerifiedCommand {
  readonly body: DecodedCommand;
  readonly nonceHex: string;
  readonly keyId: string;
  /** The last wall-clock ms at which it may be carried out. */
  readonly expiresAtMs: number;
}

export type CommandVerdict =
  | { readonly ok: true; readonly command: VerifiedCommand }
  /** `command` is there when the signature verified (the refusal can be answered). */
  | { readonly ok: false; readonly reason: CommandRejectReason; readonly detail: string; readonly command?: VerifiedCommand };

export interface TrustedCommandKey {
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

export interface CommandVerifierOptions {
  readonly hubId: string;
  readonly trusted: TrustedCommandKey;
  /** How far issued_at may lie from the hub's clock either way, and the longest a command lives. */
  readonly windowMs: number;
  readonly clock: Clock;
  /** Whether a nonce was carried out before (within what the hub remembers). */
  readonly seen: (nonceHex: string) => boolean;
}

/**
 * Checks one message from the command topic. Stateless apart from `seen`: taking a nonce is the
 * caller's job, once it decides to carry the command out.
 *
 * A hub whose wall clock is not synchronised refuses every command (clock_unsynced): it cannot
 * tell a command made a minute ago from one recorded last month and played back after the nonce
 * was forgotten, and an old "allow everything" consent played back after a withdrawal is exactly
 * what must not happen. The twin server sends the command again, with a new nonce, once the
 * hub's frames say its clock is synchronised.
 */
export class CommandVerifier {
  readonly #o: CommandVerifierOptions;

  constructor(options: CommandVerifierOptions) {
    this.#o = options;
  }

  verify(payload: Uint8Array): CommandVerdict {
    let signed: SignedCommand;
    try {
      signed = decodeSignedCommand(payload);
    } catch (e) {
      return refuse('malformed', `not a SignedCommand: ${(e as Error).message}`);
    }
    if (signed.body.length === 0) return refuse('malformed', 'the command has no body');
    if (signed.signature.length === 0) return refuse('unsigned', 'the command is not signed');
    if (signed.key_id !== this.#o.trusted.keyId) return refuse('bad_signature', `signed by key ${JSON.stringify(signed.key_id.slice(0, 32))}, not the trusted twin-server key ${this.#o.trusted.keyId}`);
    if (!verifyCommandBody(signed.body, signed.signature, this.#o.trusted.publicKey)) return refuse('bad_signature', 'the signature does not verify');

    let body: DecodedCommand;
    try {
      body = decodeCommandBody(signed.body);
    } catch (e) {
      return refuse('malformed', `a signed body that is not a command: ${(e as Error).message}`);
    }
    const window = this.#o.windowMs;
    const validFor = body.valid_for_ms && body.valid_for_ms > 0 ? Math.min(body.valid_for_ms, window) : window;
    const command: VerifiedCommand = {
      body,
      nonceHex: Buffer.from(body.nonce).toString('hex'),
      keyId: signed.key_id,
      expiresAtMs: body.issued_at_ms + validFor,
    };
    if (body.hub_id !== this.#o.hubId) return refuse('wrong_hub', `the command is for hub '${body.hub_id}'`, command);
    if (this.#o.clock.sync() !== 'synced') return refuse('clock_unsynced', "the hub's wall clock is not synchronised, so the command's age cannot be checked; send it again once it is", command);
    const now = this.#o.clock.wallMs();
    if (body.issued_at_ms - window > now) {
      return refuse('stale', `issued ${Math.round((body.issued_at_ms - now) / 1000)} s ahead of the hub's clock (window ${window / 1000} s): check the twin server's clock`, command);
    }
    if (now > command.expiresAtMs) {
      return refuse('stale', `issued ${Math.round((now - body.issued_at_ms) / 1000)} s before the hub's clock and valid for ${validFor / 1000} s`, command);
    }
    if (this.#o.seen(command.nonceHex)) return refuse('replayed', 'this nonce was carried out before', command);
    return { ok: true, command };
  }
}

function refuse(reason: CommandRejectReason, detail: string, command?: VerifiedCommand): CommandVerdict {
  return command ? { ok: false, reason, detail, command } : { ok: false, reason, detail };
}

import protobuf from 'protobufjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROTO_FILE, SCHEMA_VERSION } from '../frames/codec.js';
import { PACKAGE_ROOT } from '../ops/package-root.js';

/**
 * Encoding and decoding of the twin server's commands (proto/twin/v1/command.proto), by
 * reflection over the .proto files as for frames. command.proto imports frame.proto (for
 * ConsentKind), so both are parsed into one root of their own.
 */

export const COMMAND_PROTO_FILE = join(PACKAGE_ROOT, 'proto', 'twin', 'v1', 'command.proto');

const root = new protobuf.Root();
protobuf.parse(readFileSync(PROTO_FILE, 'utf8'), root, { keepCase: true });
protobuf.parse(readFileSync(COMMAND_PROTO_FILE, 'utf8'), root, { keepCase: true });
root.resolveAll();

const SignedCommandType = root.lookupType('twin.v1.SignedCommand');
const CommandBodyType = root.lookupType('twin.v1.CommandBody');

export type CommandName = 'resend_status' | 'rotate_key' | 'purge_subject' | 'set_consent';
export const COMMAND_NAMES: readonly CommandName[] = ['resend_status', 'rotate_key', 'purge_subject', 'set_consent'];

export type CommandPayload =
  | { resend_status: Record<string, never> }
  | { rotate_key: Record<string, never> }
  | { purge_subject: { subject_ref: string } }
  | { set_consent: { subject_ref: string; allowed: number[] } };

export interface CommandHeader {
  schema_version: number;
  hub_id: string;
  issued_at_ms: number;
  nonce: Uint8Array;
  valid_for_ms?: number;
}

export type CommandBody = CommandHeader & CommandPayload;

/** A decoded body: the header, the command's own fields, and which command it is. */
export type DecodedCommand = CommandHeader & Partial<{
  resend_status: Record<string, never>;
  rotate_key: Record<string, never>;
  purge_subject: { subject_ref: string };
  set_consent: { subject_ref: string; allowed: number[] };
}> & { command: CommandName };

export interface SignedCommand { body: Uint8Array; signature: Uint8Array; key_id: string }

/** Nonces shorter than this could repeat by chance; longer ones only bloat the hub's replay memory. */
export const NONCE_MIN_BYTES = 16;
export const NONCE_MAX_BYTES = 64;

export function encodeCommandBody(body: CommandBody): Uint8Array {
  const problem = CommandBodyType.verify(body);
  if (problem) throw new TypeError(`command body: ${problem}`);
  return CommandBodyType.encode(body).finish();
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: Number, bytes: Uint8Array as unknown as typeof Array, defaults: true, arrays: true, oneofs: true };

/**
 * Decodes a body and checks what the schema cannot say (version, nonce size, a command, a time);
 * throws an Error naming the first problem.
 */
export function decodeCommandBody(bytes: Uint8Array): DecodedCommand {
  const obj = CommandBodyType.toObject(CommandBodyType.decode(bytes), toObjectOptions) as DecodedCommand & { command?: CommandName };
  if (obj.schema_version !== SCHEMA_VERSION) throw new Error(`schema_version ${obj.schema_version} is not ${SCHEMA_VERSION}`);
  if (!obj.command) throw new Error('no command in the body');
  if (obj.nonce.length < NONCE_MIN_BYTES || obj.nonce.length > NONCE_MAX_BYTES) throw new Error(`a nonce of ${obj.nonce.length} bytes (${NONCE_MIN_BYTES} to ${NONCE_MAX_BYTES} expected)`);
  if (!Number.isSafeInteger(obj.issued_at_ms) || obj.issued_at_ms <= 0) throw new Error('no issued_at_ms');
  return obj;
}

export function encodeSignedCommand(cmd: SignedCommand): Uint8Array {
  return SignedCommandType.encode(cmd).finish();
}

/** Decodes the envelope only; the body stays as the exact bytes received. */
export function decodeSignedCommand(bytes: Uint8Array): SignedCommand {
  const msg = SignedCommandType.decode(bytes) as unknown as SignedCommand;
  return { body: msg.body, signature: msg.signature, key_id: msg.key_id };
}

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sendCommand } from '../commands/command-client.js';
import type { CommandBody, CommandPayload } from '../commands/command-codec.js';
import { makeSignedCommand } from '../commands/command-sign.js';
import { CONSENT_KINDS, consentCode, consentKindOf, normalConsent, type ConsentKind } from '../commands/consent.js';
import { CommandOutcome, CommandRejection, SCHEMA_VERSION, type CommandResult } from '../frames/codec.js';
import { loadHubKey } from '../frames/keys.js';
import { TwinedgeError } from '../ops/errors.js';
import { ID_PATTERN } from '../publish/topics.js';
import { jsonLine } from '../receiver/sinks/jsonl-sink.js';
import { formatRanges } from '../receiver/sinks/line-sink.js';
import { loadTrustStore } from '../receiver/trust.js';
import { numberOption, parseCommandArgs, requireOption } from './args.js';
import { TLS_FLAGS, TLS_USAGE, tlsFromFlags } from './tls-options.js';

const USAGE = `usage: twinedge command --key FILE --hub HUB --broker URL --trust FILE|DIR COMMAND [options]

Signs a command with the twin server's key, publishes it to twin/v1/HUB/cmd and waits for the
hub's signed answer. Exit 0 when the hub carried it out, 1 when it refused it or did not answer.

commands:
  resend-status                         publish the hub's status (birth) again
  rotate-key                            the hub makes a new signing key and announces it
  purge --subject REF                   remove the subject's unsent frames and state from the hub
  consent --subject REF --allow KINDS   what of the subject's data may leave the hub from now on:
                                        a comma list of ${CONSENT_KINDS.join(', ')}, or none

  --key FILE            the twin server's Ed25519 private key (PKCS#8 PEM, mode 0600), made by
                        twinedge keys generate; the hub's commands.trust_file is its .pub
  --hub HUB             the hub's id
  --broker URL          mqtt://host:port (also mqtts, ws, wss)
${TLS_USAGE}
  --trust FILE|DIR      the hubs' public keys, as for twinedge receive: the answer is checked
  --timeout S           how long to wait for the answer (default 60)
  --valid-for S         how long the hub may still carry it out (default: the hub's window)
  --username U          broker user name
  --password-file F     file holding the broker password
  --json                the answer as one JSON line (the frame as twinedge receive writes it)
`;

const NAMES: Readonly<Record<string, keyof typeof COMMAND_FIELDS>> = {
  'resend-status': 'resend_status', 'rotate-key': 'rotate_key', purge: 'purge_subject', consent: 'set_consent',
};
const COMMAND_FIELDS = { resend_status: 0, rotate_key: 0, purge_subject: 0, set_consent: 0 } as const;
const BROKER_SCHEMES = new Set(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:']);

function fail(message: string): never {
  throw new TwinedgeError('USAGE_BAD_ARGUMENT', `command: ${message}`);
}

/** twinedge command: see USAGE. */
export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('command', argv, {
    key: { type: 'string' },
    hub: { type: 'string' },
    broker: { type: 'string' },
    trust: { type: 'string' },
    subject: { type: 'string' },
    allow: { type: 'string' },
    timeout: { type: 'string' },
    'valid-for': { type: 'string' },
    username: { type: 'string' },
    'password-file': { type: 'string' },
    ...TLS_FLAGS,
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  // Everything is checked before anything is sent.
  if (positionals.length !== 1 || !Object.hasOwn(NAMES, positionals[0]!)) fail(`give one command: ${Object.keys(NAMES).join(', ')}`);
  const name = NAMES[positionals[0]!]!;
  const keyFile = requireOption('command', values.key, '--key');
  const hubId = requireOption('command', values.hub, '--hub');
  if (!ID_PATTERN.test(hubId)) fail(`--hub '${hubId}' is not a hub id`);
  const broker = requireOption('command', values.broker, '--broker');
  let scheme = '';
  try {
    scheme = new URL(broker).protocol;
  } catch {
    fail(`--broker must be a URL such as mqtt://localhost:1883, got '${broker}'`);
  }
  if (!BROKER_SCHEMES.has(scheme)) fail(`--broker scheme '${scheme}' is not one of ${[...BROKER_SCHEMES].join(' ')}`);
  const trustPath = requireOption('command', values.trust, '--trust');
  const timeoutMs = numberOption('command', values.timeout, '--timeout', 60) * 1000;
  const validForMs = numberOption('command', values['valid-for'], '--valid-for', 0) * 1000;
  if (validForMs > 0xffffffff) fail('--valid-for is too long');
  const payload = commandPayload(name, values.subject, values.allow);
  const key = await loadHubKey(keyFile);
  const trust = await loadTrustStore(trustPath);
  if (trust.keyIdsOf(hubId).length === 0) throw new TwinedgeError('TRUST_INVALID', `no key for hub '${hubId}' in ${trustPath}: its answer could not be checked`, { file: trustPath });
  const password = values['password-file'] !== undefined ? await readPassword(values['password-file']) : undefined;
  const tls = await tlsFromFlags('command', broker, values);

  const nonce = randomBytes(16);
  const body = { schema_version: SCHEMA_VERSION, hub_id: hubId, issued_at_ms: Date.now(), nonce, valid_for_ms: Math.round(validForMs), ...payload } as CommandBody;
  const { result, frame } = await sendCommand({
    brokerUrl: broker, hubId, payload: makeSignedCommand(key, body), nonce, trust, timeoutMs, username: values.username, password, tls,
  });
  if (values.json) process.stdout.write(jsonLine(frame));
  else process.stdout.write(`${describe(result)}\n`);
  if (result.outcome === CommandOutcome.ACCEPTED) return 0;
  if (values.json) return 1;
  throw new TwinedgeError('COMMAND_REJECTED', `hub '${hubId}' refused ${positionals[0]}: ${rejectionName(result.rejection ?? 0)}${result.detail ? ` (${result.detail})` : ''}`);
}

function commandPayload(name: keyof typeof COMMAND_FIELDS, subject: string | undefined, allow: string | undefined): CommandPayload {
  const wantsSubject = name === 'purge_subject' || name === 'set_consent';
  if (!wantsSubject && subject !== undefined) fail(`--subject is for purge and consent`);
  if (name !== 'set_consent' && allow !== undefined) fail(`--allow is for consent`);
  if (!wantsSubject) return name === 'resend_status' ? { resend_status: {} } : { rotate_key: {} };
  const ref = requireOption('command', subject, '--subject');
  if (!ID_PATTERN.test(ref) || ref === '_hub') fail(`--subject '${ref}' is not a subject ref`);
  if (name === 'purge_subject') return { purge_subject: { subject_ref: ref } };
  const list = requireOption('command', allow, '--allow');
  const kinds = list === 'none' ? [] : list.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(CONSENT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) fail(`--allow: unknown kind(s) ${unknown.join(', ')}; give a comma list of ${CONSENT_KINDS.join(', ')}, or none`);
  return { set_consent: { subject_ref: ref, allowed: normalConsent(kinds as ConsentKind[]).map(consentCode) } };
}

async function readPassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (e) {
    fail(`cannot read --password-file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function rejectionName(code: number): string {
  return (Object.keys(CommandRejection).find((k) => CommandRejection[k as keyof typeof CommandRejection] === code) ?? String(code)).toLowerCase();
}

/** One line for people: the outcome and what the hub did. */
function describe(r: CommandResult): string {
  const command = r.command.replace(/_/g, '-');
  if (r.outcome !== CommandOutcome.ACCEPTED) return `${command} rejected: ${rejectionName(r.rejection ?? 0)}${r.detail ? ` (${r.detail})` : ''}`;
  const parts = [`${command} accepted${r.detail ? `: ${r.detail}` : ''}`];
  if (r.purge) {
    const p = r.purge;
    parts.push(`frames ${p.frames} (${p.bytes} bytes)${p.removed.length > 0 ? ` seqs ${formatRanges(p.removed)} declared by gap #${p.gap_seq}` : ''}`);
    if (p.delivered_copies > 0) parts.push(`${p.delivered_copies} delivered copies deleted`);
    if (p.state_keys.length > 0) parts.push(`state ${p.state_keys.join(' ')}`);
  }
  if (r.consent) parts.push(`allowed: ${r.consent.allowed.map((c) => consentKindOf(c) ?? String(c)).join(',') || 'none'}`);
  return parts.join('; ');
}

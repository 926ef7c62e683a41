/**
 * The one error class of twinedge and its code table.
 *
 * Codes are stable: they never change meaning and are never reused; messages may improve.
 * The README's error list is kept in step with this table by a test. Misuse of an internal API
 * throws a plain TypeError instead: nothing should branch on it.
 */

export type ExitCode = 0 | 1 | 2 | 3;

interface CodeEntry {
  /** What went wrong. */
  readonly meaning: string;
  /** What the operator should do about it. */
  readonly action: string;
  /** The process exit code when this error ends a command. */
  readonly exit: ExitCode;
}

export const ERROR_CODES = {
  USAGE_BAD_ARGUMENT: { meaning: 'A command-line argument is missing, unknown or malformed.', action: 'Run the command with --help and correct the arguments.', exit: 2 },
  CONFIG_FILE_UNREADABLE: { meaning: 'The config file does not exist or cannot be read.', action: 'Check the path given to --config and its permissions.', exit: 2 },
  CONFIG_YAML_SYNTAX: { meaning: 'The config file is not valid YAML.', action: 'Fix the YAML at the line shown.', exit: 2 },
  CONFIG_KEY_UNKNOWN: { meaning: 'The config has a key the schema does not know.', action: 'Check the spelling: it is a typo or not in this version.', exit: 2 },
  CONFIG_KEY_MISSING: { meaning: 'A required config key is absent.', action: 'Add the key named in the message.', exit: 2 },
  CONFIG_VALUE_INVALID: { meaning: 'A config value has the wrong type or is out of range.', action: 'Change the value to what the message says is expected.', exit: 2 },
  KEY_FILE_UNREADABLE: { meaning: 'A key file does not exist or cannot be read.', action: 'Create it with `twinedge keys generate --out PREFIX` or fix the path and permissions.', exit: 2 },
  KEY_FILE_INVALID: { meaning: 'A key file is not an Ed25519 key in the expected PEM form.', action: 'Use a PKCS#8 PEM private key or SPKI PEM public key made by `twinedge keys generate` or openssl.', exit: 2 },
  KEY_FILE_EXPOSED: { meaning: 'The private key file can be read by other users.', action: 'Run `chmod 600` on the key file.', exit: 2 },
  KEY_ROTATION_INVALID: { meaning: 'The hub\'s record of which key signs its frames does not match the keys it was given, or a rotation names a key this hub has already used.', action: 'Point hub.key_file or hub.next_key_file at the key the message names (its frames from that seq on are signed by it); a rotation needs a key never used before (`twinedge keys rotate`).', exit: 2 },
  SEAL_KEY_INVALID: { meaning: 'A sealing key file (hub.seal_to, receive --open-key) is not an X25519 key in the expected PEM form.', action: 'Make the twin server\'s pair with `twinedge keys generate --x25519 --out PREFIX`: give the hub PREFIX.pub and the receiver PREFIX.key.', exit: 2 },
  TRUST_INVALID: { meaning: 'A trust file or directory is malformed.', action: 'Each trust entry binds a hub id to an SPKI PEM public key; fix the entry named.', exit: 2 },
  FRAME_INVALID: { meaning: 'A frame could not be built from the values given.', action: 'This is a bug in the producing stage; report it with the log line.', exit: 1 },
  OUTBOX_OPEN_FAILED: { meaning: 'The outbox store could not be opened.', action: 'Check that the data folder exists, is writable and is not used by another hub process.', exit: 1 },
  OUTBOX_CLOSED: { meaning: 'The outbox was used after it was closed.', action: 'This happens only during shutdown; frames produced then are not lost if shutdown is graceful.', exit: 1 },
  OUTBOX_WRITE_FAILED: { meaning: 'A write to the outbox failed.', action: 'Check free disk space and the data folder; the hub stops producing until writes succeed.', exit: 1 },
  BROKER_UNREACHABLE: { meaning: 'The MQTT broker could not be reached.', action: 'Check the broker URL, network and credentials; the hub keeps frames in its outbox and retries.', exit: 1 },
  BROKER_REFUSED: { meaning: 'The broker refused the connection or a subscription (credentials, authorisation, protocol version).', action: 'Check the username, password, client certificate and the broker ACL; retrying will not help.', exit: 1 },
  RECEIVE_STATE_UNAVAILABLE: { meaning: 'The receiver state folder cannot be opened, or another receiver holds it.', action: 'Give each receiver its own --state folder, or stop the other receiver.', exit: 2 },
  RECEIVE_SINK_FAILED: { meaning: 'Writing an accepted frame to the sink failed; the frame was not acknowledged.', action: 'Check the output file\'s disk and permissions, then restart: the broker redelivers the frame.', exit: 1 },
  TRANSPORT_OPEN_FAILED: { meaning: 'A device port could not be opened (absent, unplugged, busy or not permitted).', action: 'Check that the device is plugged in and that the hub may use it (the dialout group for serial ports); the hub keeps retrying.', exit: 1 },
  RECEIVE_REJECTED: { meaning: 'A received frame was rejected (see its reason).', action: 'Check the reason counters: trust, topic or signature problems point to a misconfigured or hostile publisher.', exit: 1 },
  PROFILE_YAML_SYNTAX: { meaning: 'A device profile file is not valid YAML.', action: 'Fix the YAML at the line shown; the hub runs the other profiles meanwhile.', exit: 2 },
  PROFILE_INVALID: { meaning: 'A device profile breaks the profile format (a key, a value, a field or channel it names).', action: 'Fix the key at the line shown (device-profiles/README.md has the format); the hub runs the other profiles meanwhile.', exit: 2 },
  PROFILE_DUPLICATE_ID: { meaning: 'Two profile files declare the same id.', action: 'Rename one of the two files\' ids (both are named); neither is used until then.', exit: 2 },
  PROFILE_UNKNOWN: { meaning: 'No loaded profile has the id asked for.', action: 'Check the id against `twinedge profiles validate`, which lists the profiles found.', exit: 2 },
  SERIAL_PORTS_UNLISTABLE: { meaning: 'The system cannot list serial ports, so a device matched by USB id cannot be found.', action: 'Give the device\'s path instead (for example /dev/serial/by-id/...), or run where udev is available.', exit: 1 },
  CAPTURE_FILE_INVALID: { meaning: 'A capture file is malformed.', action: 'The message names the line; captures are JSON lines made by `twinedge capture`.', exit: 2 },
  CAPTURE_WRITE_FAILED: { meaning: 'A capture file could not be written (disk full, removed folder).', action: 'Free space or choose another --out; the chunks written before the failure are in the file.', exit: 1 },
  ENCODER_INVALID: { meaning: 'An encoder manifest or its ONNX model cannot be used (unreadable, malformed, or not the shape it says).', action: 'Fix the manifest field named, or the model; the hub runs without that encoder meanwhile.', exit: 2 },
  EVENT_INVALID: { meaning: 'An event to record (from `twinedge mark`, the HTTP endpoint or a profile\'s `events`) has a missing, unknown or malformed field.', action: 'Fix the field named in the message; nothing was recorded.', exit: 2 },
  EVENT_ID_REUSED: { meaning: 'An event id was sent again with different content than the event first recorded with it.', action: 'Give a new event its own id (or none, and the hub makes one); resend an event only unchanged.', exit: 2 },
  HTTP_TOKEN_EXPOSED: { meaning: 'The HTTP token file can be read or written by other users.', action: 'Run `chmod 600` on the token file named, or delete it and restart the hub to make a new one.', exit: 2 },
  HTTP_TOKEN_INVALID: { meaning: 'The HTTP token file cannot be read or does not hold a usable token.', action: 'Check the path (http.token_file, --token-file); delete a damaged file and restart the hub to make a new one.', exit: 2 },
  HTTP_TOKEN_REFUSED: { meaning: 'The hub refused the bearer token sent to its HTTP endpoint.', action: 'Use the token file of the running hub (its http.token_file); it changes when that file is deleted and the hub restarted.', exit: 2 },
  HTTP_LISTEN_FAILED: { meaning: 'The hub\'s loopback HTTP port could not be opened (in use, or not permitted).', action: 'Choose another http.port (or --http-port), or stop what holds it; the hub keeps running without HTTP meanwhile.', exit: 1 },
  HUB_UNREACHABLE: { meaning: 'The hub\'s HTTP endpoint could not be reached.', action: 'Check that the hub is running and that the URL or the config\'s http.port is its port.', exit: 1 },
  EVENT_NOT_RECORDED: { meaning: 'The hub could not store an event (it is stopping, or its outbox cannot write).', action: 'Send the event again with the same id once the hub runs; a repeat is recorded once.', exit: 1 },
  EVENT_NOT_CONSENTED: { meaning: 'An event was not recorded: the subject\'s consent does not let events leave the hub.', action: 'Nothing was recorded. Consent is the twin server\'s to change (`twinedge command consent`), or the operator\'s in subjects[].consent.', exit: 2 },
  COMMAND_REJECTED: { meaning: 'The hub refused a command from `twinedge command`, and said why (stale, wrong hub, unknown subject, ...); nothing changed on the hub.', action: 'Act on the reason given: a stale command usually means a wrong clock on the twin server or the hub; send the command again, it gets a new nonce.', exit: 1 },
  COMMAND_NO_ANSWER: { meaning: 'No result came back from the hub for a command within the timeout.', action: 'The hub may be offline, not take commands (no commands.trust_file), have a backlog of frames to send first, or have refused the command without answering (unsigned, bad signature: check --key against its commands.trust_file); its command counters say which.', exit: 1 },
  DECODE_REJECTED: { meaning: 'Input bytes were rejected by a decoder.', action: 'Check the bytes against the profile; the errors name the byte or field.', exit: 3 },
} as const satisfies Record<string, CodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorPlace {
  file?: string;
  line?: number;
  keyPath?: string;
  byteOffset?: number;
  device?: string;
}

export class TwinedgeError extends Error {
  readonly code: ErrorCode;
  readonly place: ErrorPlace;

  constructor(code: ErrorCode, message: string, place: ErrorPlace = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TwinedgeError';
    this.code = code;
    this.place = place;
  }

  get exitCode(): ExitCode {
    return ERROR_CODES[this.code].exit;
  }

  /** One line for stderr: where, what, and the code. */
  toLine(): string {
    const where = formatPlace(this.place);
    return `${where ? where + ': ' : ''}${this.message} [${this.code}]`;
  }
}

function formatPlace(p: ErrorPlace): string {
  const parts: string[] = [];
  if (p.file !== undefined) parts.push(p.line !== undefined ? `${p.file}:${p.line}` : p.file);
  if (p.keyPath !== undefined) parts.push(p.keyPath);
  if (p.byteOffset !== undefined) parts.push(`byte ${p.byteOffset}`);
  if (p.device !== undefined) parts.push(p.device);
  return parts.join(' ');
}

export function isTwinedgeError(e: unknown): e is TwinedgeError {
  return e instanceof TwinedgeError;
}

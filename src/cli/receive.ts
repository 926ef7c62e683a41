import { parseCommandArgs, numberOption, requireOption } from './args.js';
import { TLS_FLAGS, TLS_USAGE, tlsFromFlags } from './tls-options.js';
import { TwinedgeError } from '../ops/errors.js';
import { createLogger, type LogLevel } from '../ops/log.js';
import { Receiver } from '../receiver/receiver.js';
import { JsonlSink } from '../receiver/sinks/jsonl-sink.js';
import { LineSink } from '../receiver/sinks/line-sink.js';
import type { Sink } from '../receiver/sinks/sink.js';
import { loadTrustStore } from '../receiver/trust.js';
import { loadOpenKey, OpenKeys } from '../frames/seal.js';

const USAGE = `usage: twinedge receive --broker URL --trust FILE|DIR [options]

  --broker URL          mqtt://host:port (also mqtts, ws, wss)
${TLS_USAGE}
  --trust FILE|DIR      a directory of <hub_id>.pub files, or a YAML file hub_id -> public keys
  --out FILE.jsonl      append JSON lines here (default: stdout)
  --format jsonl|line   JSON lines (default) or one short human-readable line per frame
  --share GROUP         join the MQTT 5 shared subscription $share/GROUP/twin/v1/#
  --state DIR           de-duplication state, keys learned from key handovers, and client id
                        (default: ./.twinedge-receive)
  --open-key FILE       the twin server's X25519 private key (keys generate --x25519): sealed
                        payloads are opened after their signature verified, and frames that do
                        not open are rejected (seal_wrong_key, seal_open_failed). Repeat it for
                        several keys. Without it, sealed frames are accepted sealed and written
                        with "sealed": "closed", to open later.
  --client-id ID        MQTT client id (default: made once and kept in --state)
  --mqtt-version 5|3.1.1  default 5; 3.1.1 for brokers without MQTT 5 (aedes)
  --session-expiry S    how long the broker keeps frames for this receiver (default 604800)
  --log-level LEVEL     pino level for the logs on stderr (default info)

Runs until SIGINT or SIGTERM, then prints the counters as one JSON line on stderr.
`;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const BROKER_SCHEMES = new Set(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:']);

function fail(message: string): never {
  throw new TwinedgeError('USAGE_BAD_ARGUMENT', `receive: ${message}`);
}

/**
 * twinedge receive: the reference twin-side receiver. Frames out as JSON lines (stdout or
 * --out), logs on stderr, so stdout can be piped. Exit 0 after a signal, 1 when the broker
 * refuses the receiver or a frame cannot be stored, 2 for bad arguments or trust.
 */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('receive', argv, {
    broker: { type: 'string' },
    trust: { type: 'string' },
    out: { type: 'string' },
    format: { type: 'string' },
    share: { type: 'string' },
    state: { type: 'string' },
    'client-id': { type: 'string' },
    'mqtt-version': { type: 'string' },
    'session-expiry': { type: 'string' },
    'log-level': { type: 'string' },
    'open-key': { type: 'string', multiple: true },
    ...TLS_FLAGS,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  // Everything is checked before anything starts.
  const broker = requireOption('receive', values.broker, '--broker');
  let scheme: string;
  try {
    scheme = new URL(broker).protocol;
  } catch {
    fail(`--broker must be a URL such as mqtt://localhost:1883, got '${broker}'`);
  }
  if (!BROKER_SCHEMES.has(scheme)) fail(`--broker scheme '${scheme}' is not one of ${[...BROKER_SCHEMES].join(' ')}`);
  const trustPath = requireOption('receive', values.trust, '--trust');
  const format = values.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'line') fail(`--format must be jsonl or line, got '${format}'`);
  if (format === 'line' && values.out !== undefined) fail('--format line is for people watching stdout; use jsonl with --out');
  const version = values['mqtt-version'] ?? '5';
  if (version !== '5' && version !== '3.1.1' && version !== '4') fail(`--mqtt-version must be 5 or 3.1.1, got '${version}'`);
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(level)) fail(`--log-level must be one of ${LOG_LEVELS.join(' ')}, got '${level}'`);
  const sessionExpiryS = numberOption('receive', values['session-expiry'], '--session-expiry', 604_800);
  const tls = await tlsFromFlags('receive', broker, values);
  const trust = await loadTrustStore(trustPath);
  const openKeyFiles = values['open-key'] ?? [];
  const openKeys = openKeyFiles.length > 0 ? new OpenKeys(await Promise.all(openKeyFiles.map((f) => loadOpenKey(f)))) : undefined;

  // Logs go to stderr: stdout may be the frames.
  const log = createLogger(level, process.stderr);
  const sink: Sink = values.out !== undefined ? new JsonlSink({ path: values.out })
    : format === 'line' ? new LineSink(process.stdout) : new JsonlSink({ stream: process.stdout });

  let receiver: Receiver;
  try {
    receiver = new Receiver({
      brokerUrl: broker,
      ...(tls ? { tls } : {}),
      trust,
      ...(openKeys ? { openKeys } : {}),
      sink,
      stateDir: values.state ?? '.twinedge-receive',
      ...(values['client-id'] !== undefined ? { clientId: values['client-id'] } : {}),
      ...(values.share !== undefined ? { share: values.share } : {}),
      mqttVersion: version === '5' ? 5 : 4,
      sessionExpiryS,
      log,
    });
  } catch (e) {
    await sink.close();
    throw e;
  }

  // Whichever comes first: a signal (a normal end) or a failure retrying cannot fix.
  let onSignal!: (signal: string) => void;
  const signalled = new Promise<string>((resolve) => { onSignal = resolve; });
  const failed = new Promise<Error>((resolve) => receiver.once('error', resolve));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let error: unknown;
  let startError: unknown;
  try {
    const startFailed = receiver.start().then(() => new Promise<never>(() => {}), (e: unknown) => { startError = e; return e; });
    const ended = await Promise.race([signalled, failed, startFailed]);
    if (typeof ended === 'string') log.info({ signal: ended }, 'stopping');
    else error = ended;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await receiver.stop();
  }
  // A receiver that never started (state folder locked, broker refusal) has no counters to tell.
  if (startError === undefined) {
    const missing = Object.fromEntries(receiver.hubs().map((h) => [h, receiver.missing(h)] as const).filter(([, m]) => m.length > 0));
    process.stderr.write(JSON.stringify({ ...receiver.counters(), missing }) + '\n');
  }
  if (error !== undefined) throw error;
  return 0;
}

import { randomUUID } from 'node:crypto';
import { loadConfig } from '../config/load.js';
import { EventRequestError, validateEventRequest, type FieldProblem } from '../events/event-request.js';
import { DEFAULT_EVENT_TIME_LIMITS, type EventTimeLimits } from '../events/event-time.js';
import { eventLimitsOf, loadTokenFile, tokenFileOf } from '../hub/http-server.js';
import { isTwinedgeError, TwinedgeError } from '../ops/errors.js';
import { parseCommandArgs } from './args.js';

/**
 * twinedge mark --subject REF --kind KIND [--code CODE] [--dose N --unit U] [--at TIME]
 *   [--note TEXT] [--id ID] (--config FILE | --url URL --token-file FILE) [--json]
 *
 * Records an intervention event on the running hub, through its loopback HTTP endpoint. The
 * event is checked here first with the hub's own rules, so a mistake is said before anything is
 * sent (exit 2, naming the flag). The event id is made here when --id is not given and printed,
 * so that a run whose answer was lost can be repeated with --id and is recorded once.
 */

/** Request fields as the flags that give them, for messages. */
const FLAGS: Readonly<Record<string, string>> = {
  subject_ref: '--subject', kind: '--kind', code: '--code', dose: '--dose', unit: '--unit', at: '--at', note: '--note', event_id: '--id',
};

const TIMEOUT_MS = 10_000;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('mark', argv, {
    subject: { type: 'string' },
    kind: { type: 'string' },
    code: { type: 'string' },
    dose: { type: 'string' },
    unit: { type: 'string' },
    at: { type: 'string' },
    note: { type: 'string' },
    id: { type: 'string' },
    config: { type: 'string' },
    url: { type: 'string' },
    'token-file': { type: 'string' },
    json: { type: 'boolean' },
  });
  const target = await hubTarget(values);
  // Missing flags are left for the check below, which names every problem at once.
  const request: Record<string, unknown> = { event_id: values.id ?? randomUUID(), source: 'cli' };
  if (values.subject !== undefined) request.subject_ref = values.subject;
  if (values.kind !== undefined) request.kind = values.kind;
  if (values.code !== undefined) request.code = values.code;
  // A number where the flag holds one; otherwise the text, so that the check names what was typed.
  if (values.dose !== undefined) request.dose = DECIMAL.test(values.dose) ? Number(values.dose) : values.dose;
  if (values.unit !== undefined) request.unit = values.unit;
  if (values.at !== undefined) request.at = values.at;
  if (values.note !== undefined) request.note = values.note;
  try {
    validateEventRequest(request, { nowMs: Date.now(), limits: target.limits, ...(target.subjects ? { subjects: target.subjects } : {}) });
  } catch (e) {
    throw e instanceof EventRequestError ? asFlags(e.problems) : e;
  }

  const token = await loadTokenFile(target.tokenFile, { create: false }).catch((e: unknown) => {
    // The hub makes the file when it first starts: its absence usually means it never ran.
    if (isTwinedgeError(e) && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new TwinedgeError(e.code, `${e.message}; the hub makes it when it starts: is the hub running with this config?`, e.place, { cause: e.cause });
    }
    throw e;
  });
  const url = new URL('/v1/events', target.url);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Authorization': `Bearer ${token}` },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    if (err.name === 'TimeoutError') {
      throw new TwinedgeError('HUB_UNREACHABLE', `no answer from the hub at ${target.url} within ${TIMEOUT_MS / 1000} s; it may have recorded the event: run again with --id ${String(request.event_id)} to be sure it is recorded once`);
    }
    throw new TwinedgeError('HUB_UNREACHABLE', `cannot reach the hub at ${target.url} (${err.cause?.code ?? err.message}): is the hub running?`);
  }
  const answer = await res.json().catch(() => undefined) as Answer | undefined;
  if (res.status === 200 || res.status === 201) {
    process.stdout.write(values.json ? `${JSON.stringify(answer)}\n` : `${describeRecord(answer!)}\n`);
    return 0;
  }
  const message = answer?.error?.message ?? `HTTP ${res.status}`;
  if (res.status === 400) throw asFlags(answer?.error?.problems ?? [{ field: answer?.error?.field ?? '(body)', message }]);
  if (res.status === 401) throw new TwinedgeError('HTTP_TOKEN_REFUSED', `the hub refused the token in ${target.tokenFile}: is it the running hub's http.token_file?`);
  if (res.status === 409) throw new TwinedgeError('EVENT_ID_REUSED', message, { keyPath: '--id' });
  if (res.status === 403 && answer?.error?.code === 'EVENT_NOT_CONSENTED') throw new TwinedgeError('EVENT_NOT_CONSENTED', message, { keyPath: '--subject' });
  if (res.status === 503) throw new TwinedgeError('EVENT_NOT_RECORDED', `${message}; run again with --id ${String(request.event_id)} once the hub runs`);
  throw new TwinedgeError('HUB_UNREACHABLE', `${target.url} answered ${res.status} (${message}): is it the hub's HTTP port?`);
}

interface Answer {
  seq?: number;
  subject_ref?: string;
  repeated?: boolean;
  event?: { event_id: string; kind: string; code?: string; dose?: number; dose_unit?: string; at: string; note?: string };
  error?: { message?: string; code?: string; field?: string; problems?: FieldProblem[] };
}

interface Target {
  readonly url: string;
  readonly tokenFile: string;
  readonly limits: EventTimeLimits;
  readonly subjects: readonly string[] | undefined;
}

/** Where the hub listens and its token: from its config, or given. */
async function hubTarget(v: { config?: string | undefined; url?: string | undefined; 'token-file'?: string | undefined }): Promise<Target> {
  if (v.config !== undefined) {
    if (v.url !== undefined || v['token-file'] !== undefined) throw new TwinedgeError('USAGE_BAD_ARGUMENT', 'give --config, or --url with --token-file, not both');
    const config = await loadConfig(v.config);
    if (config.http.enabled === 'off') throw new TwinedgeError('USAGE_BAD_ARGUMENT', `http.enabled is off in ${v.config}; if the hub was started with --http-port, give --url and --token-file`);
    if (config.http.port === 0) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `http.port is 0 in ${v.config}, so the port is the one the hub logged at start; give it with --url`);
    const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    return { url: `http://${host}:${config.http.port}`, tokenFile: tokenFileOf(config, v.config), limits: eventLimitsOf(config), subjects: config.subjects.map((s) => s.ref) };
  }
  if (v.url === undefined || v['token-file'] === undefined) throw new TwinedgeError('USAGE_BAD_ARGUMENT', 'give --config FILE (the hub\'s config), or --url URL with --token-file FILE');
  let url: URL;
  try {
    url = new URL(v.url);
  } catch {
    throw new TwinedgeError('USAGE_BAD_ARGUMENT', `--url '${v.url}' is not a URL`);
  }
  // The hub listens on loopback only; sending its token anywhere else would give it away.
  if (url.protocol !== 'http:' || !LOOPBACK_HOST.test(url.hostname)) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `--url must be http:// on a loopback address (127.0.0.1, [::1], localhost), got '${v.url}'`);
  return { url: url.origin, tokenFile: v['token-file'], limits: DEFAULT_EVENT_TIME_LIMITS, subjects: undefined };
}

function asFlags(problems: readonly FieldProblem[]): EventRequestError {
  return new EventRequestError(problems.map((p) => ({ field: Object.hasOwn(FLAGS, p.field) ? FLAGS[p.field]! : p.field, message: p.message })));
}

function describeRecord(a: Answer): string {
  const e = a.event!;
  const what = [e.kind, e.code, e.dose !== undefined ? `${e.dose} ${e.dose_unit}` : undefined].filter(Boolean).join(' ');
  return `${a.repeated ? 'already recorded' : 'recorded'}: ${what} at ${e.at} for ${a.subject_ref}, seq ${a.seq}, event ${e.event_id}`;
}

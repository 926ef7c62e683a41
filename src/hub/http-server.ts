/**
 * The hub's loopback HTTP server (node:http, no framework): a table of routes, each a method, a
 * path, whether it needs the bearer token, and a handler. Local tools use it: `twinedge mark`
 * posts events; Prometheus scrapes /metrics; probes ask /healthz and /readyz; /status says what
 * the hub's birth message says (see `hubRoutes`).
 *
 * It binds a loopback address only: the token is a second guard, not the first. A request is
 * answered in this order, so that a caller without the token learns nothing about bodies:
 *   404/405 unknown path or method -> 401 missing or wrong token -> 415 not JSON -> 413 too
 *   large -> 400 malformed JSON or an invalid request -> the handler's answer.
 * A body refused before it was read is still read (and discarded) up to a bound before the
 * answer goes out: a client still sending when the socket closed would get a reset instead of
 * the answer.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import { kindName } from '../events/event-fields.js';
import { EventRequestError, validateEventRequest } from '../events/event-request.js';
import { DAY_MS, type EventTimeLimits } from '../events/event-time.js';
import type { RecordOutcome } from '../events/recent-events.js';
import type { Event } from '../frames/codec.js';
import type { Clock } from '../ops/clock.js';
import { isTwinedgeError, TwinedgeError } from '../ops/errors.js';
import type { Logger } from '../ops/log.js';
import { PROMETHEUS_CONTENT_TYPE, processMetrics } from '../ops/metrics.js';
import { liveness, readinessAnswer, statusDocument, type HealthSource } from './hub-health.js';
import type { HubMetrics } from './hub-metrics.js';

export interface Reply {
  readonly status: number;
  /** Sent as JSON; a string is sent as it is, with the Content-Type in `headers` (text/plain by default). */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a handler gets: the parsed JSON body for routes that take one. */
export interface RouteRequest {
  readonly body: unknown;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** 'token': the bearer token must be sent; 'none': open to any local caller (health checks). */
  readonly auth: 'token' | 'none';
  /** 'json': the body must be JSON (415 otherwise) and is parsed before the handler runs. */
  readonly body: 'json' | 'none';
  handle(req: RouteRequest): Promise<Reply> | Reply;
}

export interface HttpServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly token: string;
  readonly routes: readonly Route[];
  readonly maxBodyBytes: number;
  readonly log: Logger;
}

const LOOPBACK = new Set(['127.0.0.1', '::1']);
/** Bytes of a refused body read and discarded before answering; past it the connection is cut. */
const DRAIN_LIMIT = 1 << 20;

const errorReply = (status: number, message: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): Reply => (
  { status, body: { error: { message, ...extra } }, ...(headers ? { headers } : {}) }
);

/**
 * The server. `start` resolves with the port once listening (rejects with HTTP_LISTEN_FAILED);
 * `stop` stops accepting, lets requests in progress finish for a moment, then closes every
 * connection. Handlers run concurrently, one per request.
 */
export class HttpServer {
  readonly #o: HttpServerOptions;
  readonly #tokenHash: Buffer;
  readonly #server: Server;
  #port: number | undefined;

  constructor(options: HttpServerOptions) {
    if (!LOOPBACK.has(options.host)) throw new TypeError(`the hub's HTTP server binds a loopback address only, not ${options.host}`);
    this.#o = options;
    this.#tokenHash = sha256(options.token);
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((e: unknown) => {
        this.#o.log.error({ err: (e as Error).message, path: req.url }, 'HTTP request failed');
        if (!res.headersSent) send(res, errorReply(500, 'internal error; see the hub log'));
        else res.destroy();
      });
    });
    // A slow or stuck local client must not hold a connection for ever.
    this.#server.requestTimeout = 10_000;
    this.#server.headersTimeout = 5_000;
  }

  get port(): number | undefined {
    return this.#port;
  }

  async start(): Promise<number> {
    await new Promise<void>((resolveListen, reject) => {
      const failed = (e: NodeJS.ErrnoException) => reject(new TwinedgeError('HTTP_LISTEN_FAILED', `cannot listen on ${this.#o.host} port ${this.#o.port}: ${e.code ?? e.message}`, {}, { cause: e }));
      this.#server.once('error', failed);
      this.#server.listen(this.#o.port, this.#o.host, () => {
        this.#server.off('error', failed);
        resolveListen();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#o.log.info({ host: this.#o.host, port: this.#port }, 'HTTP listening');
    return this.#port;
  }

  async stop(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    this.#server.closeIdleConnections();
    const cut = setTimeout(() => this.#server.closeAllConnections(), 2000);
    await closed;
    clearTimeout(cut);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const routes = this.#o.routes.filter((r) => r.path === path);
    if (routes.length === 0) return refuse(req, res, errorReply(404, `no route ${path}`));
    const route = routes.find((r) => r.method === req.method);
    if (!route) return refuse(req, res, errorReply(405, `${req.method} is not allowed on ${path}`, {}, { Allow: routes.map((r) => r.method).join(', ') }));
    if (route.auth === 'token' && !this.#tokenOk(req.headers.authorization)) {
      return refuse(req, res, errorReply(401, 'missing or wrong bearer token', { code: 'HTTP_TOKEN_REFUSED' }, { 'WWW-Authenticate': 'Bearer realm="twinedge"' }));
    }
    let body: unknown;
    if (route.body === 'json') {
      if (!isJson(req.headers['content-type'])) return refuse(req, res, errorReply(415, 'expected Content-Type: application/json (UTF-8)'));
      const declared = Number(req.headers['content-length']);
      if (declared > this.#o.maxBodyBytes) return refuse(req, res, tooLarge(this.#o.maxBodyBytes));
      const bytes = await readBody(req, this.#o.maxBodyBytes);
      if (bytes === undefined) return refuse(req, res, tooLarge(this.#o.maxBodyBytes));
      try {
        body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch (e) {
        return send(res, errorReply(400, `the body is not JSON: ${(e as Error).message}`, { code: 'EVENT_INVALID', field: '(body)' }));
      }
    } else {
      req.resume();
    }
    send(res, await route.handle({ body }));
  }

  #tokenOk(header: string | undefined): boolean {
    const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
    // Hashing first makes the comparison take the same time whatever the length sent.
    const same = timingSafeEqual(sha256(m?.[1] ?? ''), this.#tokenHash);
    return m !== null && same;
  }
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(';').map((x) => x.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

const tooLarge = (max: number) => errorReply(413, `the body is larger than ${max} bytes (http.max_body_bytes)`);

/** The body, or undefined once it passes `max` (the rest is then left to `refuse`). */
function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | undefined> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.off('data', onData).off('end', onEnd).pause();
        resolveBody(undefined);
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => resolveBody(Buffer.concat(chunks));
    req.on('data', onData).on('end', onEnd).once('error', reject);
  });
}

/** Answers before (or without) reading the body: drains it first, within DRAIN_LIMIT. */
function refuse(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (req.readableEnded) return send(res, reply);
  let drained = 0;
  let done = false;
  const finish = (close: boolean) => {
    if (done) return;
    done = true;
    if (close) {
      res.setHeader('Connection', 'close');
      res.once('finish', () => req.destroy());
    }
    send(res, reply);
  };
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > DRAIN_LIMIT) finish(true);
  });
  req.once('end', () => finish(false));
  req.once('error', () => finish(true));
  req.resume();
}

function send(res: ServerResponse, reply: Reply): void {
  const raw = typeof reply.body === 'string';
  const text = raw ? reply.body as string : JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'Content-Type': raw ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...reply.headers });
  res.end(text);
}

// ---------------------------------------------------------------------------------------------
// The bearer token file.

/** Printable ASCII without spaces, long enough not to be guessed: what the hub writes is 64 hex digits. */
const TOKEN = /^[\x21-\x7e]{32,512}$/;

/**
 * The token in `file`. With `create`, a file that does not exist is made (32 random bytes in
 * hex, mode 0600, its folder 0700). A file others can read or write is refused
 * (HTTP_TOKEN_EXPOSED): anyone who can read it can record events for the subjects.
 */
export async function loadTokenFile(file: string, opts: { create: boolean }): Promise<string> {
  if (opts.create) {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    try {
      // 'wx' never follows or replaces an existing file (or link): an existing one is read below.
      const fd = await open(file, 'wx', 0o600);
      try {
        await fd.writeFile(`${randomBytes(32).toString('hex')}\n`);
      } finally {
        await fd.close();
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw tokenError(file, e);
    }
  }
  let text: string;
  try {
    const st = await stat(file);
    if ((st.mode & 0o077) !== 0) {
      throw new TwinedgeError('HTTP_TOKEN_EXPOSED', `other users can read or write the token file (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 ${file}`, { file });
    }
    text = (await readFile(file, 'utf8')).trim();
  } catch (e) {
    if (isTwinedgeError(e)) throw e;
    throw tokenError(file, e);
  }
  if (!TOKEN.test(text)) throw new TwinedgeError('HTTP_TOKEN_INVALID', 'the token file must hold one token of 32 to 512 printable characters without spaces; delete it and restart the hub to make one', { file });
  return text;
}

function tokenError(file: string, e: unknown): TwinedgeError {
  return new TwinedgeError('HTTP_TOKEN_INVALID', `cannot read the token file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file }, { cause: e });
}

/** The token file a config names: http.token_file from the config file's folder, or http.token in hub.data_dir. */
export function tokenFileOf(config: Config, configFile: string | undefined): string {
  const f = config.http.token_file;
  if (f === undefined) return join(config.hub.data_dir, 'http.token');
  return resolve(configFile === undefined ? process.cwd() : dirname(resolve(configFile)), f);
}

// ---------------------------------------------------------------------------------------------
// The hub's routes.

export interface HubRouteContext {
  readonly hub: HealthSource & { readonly metrics: HubMetrics; recordEvent(subjectRef: string, event: Event): Promise<RecordOutcome> };
  readonly clock: Clock;
  readonly subjects: readonly string[];
  readonly limits: EventTimeLimits;
  readonly log: Logger;
}

/**
 * The route table, one line a route.
 *
 * Which routes need the token: writing events does; /status does too, since it ties each
 * device (a BLE address is a radio identity anyone nearby can see) to the subject wearing it,
 * and quotes the devices' last errors. /healthz and /readyz carry no identifier, and a probe
 * (systemd, Docker, a watchdog) should not need a secret. /metrics is open as well: the only
 * token the hub has also authorises recording events for the subjects, and a scraper has no
 * business holding that; its labels name devices and subjects but never which device a
 * subject wears, and the port is on loopback, so only users of the hub itself reach it.
 */
export function hubRoutes(ctx: HubRouteContext): Route[] {
  // The process metrics start measuring (event-loop delay) when the server is made, not at the first scrape.
  processMetrics();
  return [
    { method: 'POST', path: '/v1/events', auth: 'token', body: 'json', handle: (req) => postEvent(ctx, req.body) },
    { method: 'GET', path: '/healthz', auth: 'none', body: 'none', handle: () => liveness(ctx.hub) },
    { method: 'GET', path: '/readyz', auth: 'none', body: 'none', handle: () => readinessAnswer(ctx.hub) },
    { method: 'GET', path: '/status', auth: 'token', body: 'none', handle: () => ({ status: 200, body: statusDocument(ctx.hub, ctx.clock) }) },
    { method: 'GET', path: '/metrics', auth: 'none', body: 'none', handle: async () => ({ status: 200, body: await ctx.hub.metrics.text(), headers: { 'Content-Type': PROMETHEUS_CONTENT_TYPE } }) },
  ];
}

/** The event limits a config sets. */
export function eventLimitsOf(config: Config): EventTimeLimits {
  return { maxAgeMs: config.events.max_age_days * DAY_MS, maxFutureMs: config.events.max_future_s * 1000 };
}

async function postEvent(ctx: HubRouteContext, body: unknown): Promise<Reply> {
  try {
    const req = validateEventRequest(body, { nowMs: ctx.clock.wallMs(), limits: ctx.limits, clockTrusted: ctx.clock.sync() !== 'unsynced', subjects: ctx.subjects });
    const outcome = await ctx.hub.recordEvent(req.subject_ref, req.event);
    const e = outcome.record.event;
    ctx.log.info({ eventId: e.event_id, seq: outcome.record.seq, subject: outcome.record.subject_ref, kind: kindName(e.kind), source: e.source, repeated: outcome.repeated }, outcome.repeated ? 'event already recorded' : 'event recorded');
    return { status: outcome.repeated ? 200 : 201, body: recordJson(outcome) };
  } catch (e) {
    if (e instanceof EventRequestError) return errorReply(400, e.message, { code: e.code, field: e.place.keyPath, problems: e.problems });
    if (!isTwinedgeError(e)) throw e;
    if (e.code === 'EVENT_INVALID') return errorReply(400, e.message, { code: e.code, field: e.place.keyPath, problems: [{ field: e.place.keyPath, message: e.message }] });
    if (e.code === 'EVENT_ID_REUSED') return errorReply(409, e.message, { code: e.code, field: 'event_id' });
    if (e.code === 'EVENT_NOT_CONSENTED') return errorReply(403, e.message, { code: e.code, field: 'subject_ref' });
    if (e.code === 'OUTBOX_CLOSED' || e.code === 'OUTBOX_WRITE_FAILED') return errorReply(503, `the event was not recorded: ${e.message}`, { code: 'EVENT_NOT_RECORDED' });
    throw e;
  }
}

/** How a recorded event is shown: the frame's event with its kind by name and its time in ISO 8601 too. */
export function recordJson(o: RecordOutcome): Record<string, unknown> {
  const e = o.record.event;
  return {
    seq: o.record.seq,
    subject_ref: o.record.subject_ref,
    repeated: o.repeated,
    event: { ...e, kind: kindName(e.kind), at: new Date(e.at_ms).toISOString() },
  };
}

/** The server a config asks for, serving `hubRoutes`; not started. */
export function hubHttpServer(config: Config, parts: { hub: HubRouteContext['hub']; clock: Clock; log: Logger; token: string; port?: number | undefined }): HttpServer {
  const log = parts.log.child({ stage: 'http' });
  return new HttpServer({
    host: config.http.host,
    port: parts.port ?? config.http.port,
    token: parts.token,
    maxBodyBytes: config.http.max_body_bytes,
    log,
    routes: hubRoutes({ hub: parts.hub, clock: parts.clock, subjects: config.subjects.map((s) => s.ref), limits: eventLimitsOf(config), log }),
  });
}

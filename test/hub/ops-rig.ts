// A real hub behind its real HTTP server, for the operations endpoints: a LevelDB outbox in a
// temporary folder, a real broker (aedes, stopped and started again on the same port for
// outages), and whatever frame source the test gives (devices on ptys or a simulated radio).
import { join } from 'node:path';
import { DEFAULT_EVENT_TIME_LIMITS } from '../../src/events/event-time.js';
import { EventKind } from '../../src/frames/codec.js';
import { generateHubKey } from '../../src/frames/keys.js';
import type { FrameSource } from '../../src/hub/frame-source.js';
import { Hub } from '../../src/hub/hub.js';
import { HttpServer, hubRoutes, loadTokenFile } from '../../src/hub/http-server.js';
import { ManualClock, type Clock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { startAedes, type AedesBroker } from '../helpers/aedes.js';
import { parseExposition, type Scrape } from '../helpers/prom-text.js';
import { tempDir, type AfterHook } from '../helpers/tmp.js';

export const HUB_ID = 'hub-ops';
export const SUBJECTS = ['p-1', 'p-2'];
export const NOW = Date.UTC(2026, 4, 1, 6, 30, 0);
export const CONFIG_SHA256 = 'ab'.repeat(32);

/** A source that makes no frames: the frames are the events a test records. */
export const quiet: FrameSource = { name: 'quiet', start() {}, async stop() {} };

export interface Answer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
  json(): any;
}

export interface OpsRig {
  readonly hub: Hub;
  readonly clock: ManualClock | Clock;
  readonly token: string;
  readonly dir: string;
  broker: AedesBroker;
  get(path: string, token?: string | null): Promise<Answer>;
  scrape(): Promise<Scrape>;
  /** Records one event frame (a note) for the first subject; resolves once it is durable. */
  record(): Promise<void>;
  /** The broker goes away: its port is closed and every connection cut. */
  brokerDown(): Promise<void>;
  /** A broker is back on the same port. */
  brokerUp(): Promise<void>;
}

export interface OpsRigOptions {
  source?: FrameSource;
  clock?: ManualClock | Clock;
  quotaBytes?: number;
  /** false: the server serves a hub not yet started. */
  start?: boolean;
  /** 'down': the hub starts while its broker is away (brokerUp brings it). */
  brokerAtStart?: 'up' | 'down';
  dir?: string;
}

let events = 0;

export async function startOpsRig(t: AfterHook, o: OpsRigOptions = {}): Promise<OpsRig> {
  const dir = o.dir ?? await tempDir(t);
  let broker = await startAedes();
  const port = broker.port;
  const clock = o.clock ?? new ManualClock(NOW, 'synced');
  const log = silentLogger();
  const hub = new Hub({
    hubId: HUB_ID, dataDir: join(dir, 'hub'), key: generateHubKey(), clock,
    broker: { url: broker.url, clientId: `${HUB_ID}-${process.pid}-${++events}`, keepaliveS: 10, connectTimeoutMs: 2000, reconnectMinMs: 20, reconnectMaxMs: 100 },
    inflight: 16, outbox: { quotaBytes: o.quotaBytes ?? 64 << 20, sync: 'batch', maxBatch: 100 },
    subjects: SUBJECTS, source: o.source ?? quiet, configSha256: CONFIG_SHA256, log,
  });
  if (o.brokerAtStart === 'down') await broker.close();
  const token = await loadTokenFile(join(dir, 'http.token'), { create: true });
  const server = new HttpServer({
    host: '127.0.0.1', port: 0, token, maxBodyBytes: 16_384, log,
    routes: hubRoutes({ hub, clock, subjects: SUBJECTS, limits: DEFAULT_EVENT_TIME_LIMITS, log }),
  });
  const httpPort = await server.start();
  if (o.start !== false) await hub.start();
  t.after(async () => {
    await server.stop();
    await hub.stop();
    await rig.broker.close();
  });
  const get = async (path: string, auth: string | null = null): Promise<Answer> => {
    const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, auth === null ? {} : { headers: { Authorization: `Bearer ${auth}` } });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) };
  };
  const rig: OpsRig = {
    hub, clock, token, dir, broker,
    get,
    async scrape() {
      const r = await get('/metrics');
      if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.text}`);
      return parseExposition(r.text);
    },
    async record() {
      const n = ++events;
      await hub.recordEvent(SUBJECTS[0]!, { event_id: `evt-${n}`, kind: EventKind.NOTE, at_ms: clock.wallMs(), note: `note ${n}`, source: 'test' });
    },
    async brokerDown() {
      await rig.broker.close();
    },
    async brokerUp() {
      broker = await startAedes({ port });
      rig.broker = broker;
    },
  };
  return rig;
}

import { readFile } from 'node:fs/promises';
import { loadConfig, configHash } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadHubKey } from '../frames/keys.js';
import { Hub } from '../hub/hub.js';
import { SimulatedSource } from '../hub/simulated-source.js';
import { SystemClock } from '../ops/clock.js';
import { TwinedgeError } from '../ops/errors.js';
import { createLogger, type LogLevel } from '../ops/log.js';
import type { BrokerOptions } from '../publish/session.js';
import { parseCommandArgs, requireOption } from './args.js';
import { untilSignal } from './signals.js';

async function readTlsFile(path: string | undefined, keyPath: string): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (e) {
    throw new TwinedgeError('CONFIG_VALUE_INVALID', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { keyPath });
  }
}

async function brokerOptions(c: Config): Promise<BrokerOptions> {
  const b = c.broker;
  let tls: BrokerOptions['tls'];
  if (b.tls) {
    const [ca, cert, key] = await Promise.all([
      readTlsFile(b.tls.ca_file, 'broker.tls.ca_file'),
      readTlsFile(b.tls.cert_file, 'broker.tls.cert_file'),
      readTlsFile(b.tls.key_file, 'broker.tls.key_file'),
    ]);
    tls = {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(b.tls.server_name ? { servername: b.tls.server_name } : {}),
      rejectUnauthorized: b.tls.verify === 'strict',
    };
  }
  return {
    url: b.url,
    clientId: b.client_id,
    username: b.username,
    password: b.password,
    tls,
    keepaliveS: b.keepalive_s,
    connectTimeoutMs: b.connect_timeout_s * 1000,
    reconnectMinMs: b.reconnect_min_ms,
    reconnectMaxMs: b.reconnect_max_ms,
  };
}

/**
 * twinedge run --config FILE: the daemon. Everything that can be wrong with the config or the
 * key is found before anything starts (exit 2); after that, failures to reach the broker are
 * retried and never stop the hub. SIGINT/SIGTERM stop it gracefully.
 */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('run', argv, { config: { type: 'string' } });
  const config = await loadConfig(requireOption('run', values.config, '--config'));
  const key = await loadHubKey(config.hub.key_file);
  const broker = await brokerOptions(config);
  const log = createLogger(config.log.level as LogLevel);
  const clock = new SystemClock(config.hub.clock_sync);
  const subjects = config.subjects.map((s) => s.ref);
  const hub = new Hub({
    hubId: config.hub.id,
    dataDir: config.hub.data_dir,
    key,
    clock,
    broker,
    inflight: config.publish.inflight,
    outbox: { quotaBytes: config.outbox.quota_mb * 1024 * 1024, sync: config.outbox.sync, maxBatch: config.outbox.max_batch },
    subjects,
    source: new SimulatedSource({ subjects, windowMs: config.source.simulated.window_s * 1000, clock }),
    configSha256: configHash(config),
    log,
  });
  await hub.start();
  const why = await untilSignal();
  log.info({ signal: why }, 'stopping');
  await hub.stop();
  return 0;
}

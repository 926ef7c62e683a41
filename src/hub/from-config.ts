import { readFile } from 'node:fs/promises';
import { configHash } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { HubKey } from '../frames/keys.js';
import type { SystemClock } from '../ops/clock.js';
import { TwinedgeError } from '../ops/errors.js';
import type { Logger } from '../ops/log.js';
import type { BrokerOptions } from '../publish/session.js';
import type { HubOptions } from './hub.js';
import { SimulatedSource } from './simulated-source.js';

async function readTlsFile(path: string | undefined, keyPath: string): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (e) {
    throw new TwinedgeError('CONFIG_VALUE_INVALID', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { keyPath });
  }
}

export async function brokerOptionsFrom(c: Config): Promise<BrokerOptions> {
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

/** The hub's options from a validated config: the one mapping `run` and `demo` share. */
export async function hubOptionsFrom(config: Config, parts: { key: HubKey; clock: SystemClock; log: Logger }): Promise<HubOptions> {
  const subjects = config.subjects.map((s) => s.ref);
  return {
    hubId: config.hub.id,
    dataDir: config.hub.data_dir,
    key: parts.key,
    clock: parts.clock,
    broker: await brokerOptionsFrom(config),
    inflight: config.publish.inflight,
    outbox: { quotaBytes: config.outbox.quota_mb * 1024 * 1024, sync: config.outbox.sync, maxBatch: config.outbox.max_batch },
    subjects,
    source: new SimulatedSource({
      subjects: config.source.simulated.subjects ? [...config.source.simulated.subjects] : subjects,
      windowMs: config.source.simulated.window_s * 1000,
      clock: parts.clock,
    }),
    configSha256: configHash(config),
    log: parts.log,
  };
}

// broker.mqtt_version auto: MQTT 5 where the broker speaks it (so that a refused publish is seen),
// 3.1.1 from a broker that refuses 5 as an unacceptable protocol version, said once in the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateHubKey } from '../../src/frames/keys.js';
import { Hub } from '../../src/hub/hub.js';
import { SimulatedSource } from '../../src/hub/simulated-source.js';
import { SystemClock } from '../../src/ops/clock.js';
import { createLogger } from '../../src/ops/log.js';
import { startAedesFor } from '../helpers/aedes.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

function autoHub(dir: string, url: string, lines: Array<Record<string, unknown>>): Hub {
  const clock = new SystemClock('assume-synced');
  const log = createLogger('info', new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).trim().split('\n')) lines.push(JSON.parse(l)); cb(); } }));
  return new Hub({
    hubId: 'hub-v', dataDir: join(dir, 'hub'), key: generateHubKey(), clock,
    broker: { url, clientId: 'hub-v', mqttVersion: 'auto', keepaliveS: 30, connectTimeoutMs: 2000, reconnectMinMs: 600_000, reconnectMaxMs: 600_000 },
    inflight: 64, outbox: { quotaBytes: 1 << 22, sync: 'none', maxBatch: 100 }, subjects: ['s1'],
    source: new SimulatedSource({ subjects: ['s1'], windowMs: 20, clock }), configSha256: '', log,
  });
}

const fallback = (lines: Array<Record<string, unknown>>) => lines.filter((l) => String(l.msg).startsWith('the broker does not speak MQTT 5'));

test('auto against a 3.1.1-only broker (aedes) falls back at once and says so once', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const lines: Array<Record<string, unknown>> = [];
  const hub = autoHub(dir, broker.url, lines);
  await hub.start();
  t.after(() => hub.stop());
  // The reconnect backoff is ten minutes: frames acknowledged at all mean the fallback did not wait for it.
  await until(() => hub.stats().publisher.acked >= 5, 'frames acknowledged over 3.1.1');
  assert.equal(fallback(lines).length, 1);
  assert.equal(hub.stats().publisher.reconnects, 0, 'a fallback is not an outage');
});

test('auto against mosquitto speaks MQTT 5', { timeout: 30_000, skip: skipUnless('mosquitto') }, async (t) => {
  const dir = await tempDir(t);
  const broker = await startMosquitto(t);
  const lines: Array<Record<string, unknown>> = [];
  const hub = autoHub(dir, broker.url, lines);
  await hub.start();
  t.after(() => hub.stop());
  await until(() => hub.stats().publisher.acked >= 5, 'frames acknowledged');
  assert.deepEqual(fallback(lines), []);
  // mosquitto logs each client's protocol: p5 for MQTT 5, p4 for 3.1.1.
  assert.match(await broker.logText(), /as hub-v \(p5,/);
});

// MQTT 5 lets a broker cap how many QoS 1 publishes a client may have unacknowledged (Receive
// Maximum, MQTT 5 3.2.2.3.3; mosquitto announces its max_inflight_messages). mqtt.js sends
// past it, so the publisher shrinks its own window to it; publishing past it is a protocol
// error that a broker may answer by disconnecting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateHubKey } from '../../src/frames/keys.js';
import { Hub } from '../../src/hub/hub.js';
import { SimulatedSource } from '../../src/hub/simulated-source.js';
import { SystemClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

test('over MQTT 5 the publisher keeps no more frames in flight than the broker\'s Receive Maximum', { timeout: 30_000, skip: skipUnless('mosquitto') }, async (t) => {
  const dir = await tempDir(t, 'twinedge-rxmax-');
  const broker = await startMosquitto(t, { extraConfig: ['max_inflight_messages 4'] });
  const clock = new SystemClock('assume-synced');
  const hub = new Hub({
    hubId: 'hub-rm', dataDir: join(dir, 'hub'), key: generateHubKey(), clock,
    broker: { url: broker.url, clientId: 'hub-rm', mqttVersion: 5, keepaliveS: 30, connectTimeoutMs: 2000, reconnectMinMs: 50, reconnectMaxMs: 200 },
    inflight: 512, outbox: { quotaBytes: 1 << 22, sync: 'none', maxBatch: 100 }, subjects: ['s1'],
    source: new SimulatedSource({ subjects: ['s1'], windowMs: 10, clock }), configSha256: '', log: silentLogger(),
  });
  await hub.start();
  try {
    await until(() => hub.stats().publisher.acked >= 5, 'frames acknowledged while the broker runs');
    // A frozen broker acknowledges nothing: the window fills and stays full.
    await broker.pause();
    await until(() => hub.stats().outbox.pending >= 40, 'a backlog well past the window');
    assert.equal(hub.stats().publisher.inflight, 4);
    await broker.resume();
  } finally {
    await broker.resume();
    await hub.stop();
  }
});

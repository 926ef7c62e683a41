import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultConfig } from '../config/load.js';
import { generateHubKey, loadHubKey, type HubKey } from '../frames/keys.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../hub/embedded-broker.js';
import { hubOptionsFrom } from '../hub/from-config.js';
import { Hub } from '../hub/hub.js';
import { hubHttpServer, loadTokenFile, tokenFileOf, type HttpServer } from '../hub/http-server.js';
import { SystemClock } from '../ops/clock.js';
import { HubState } from '../frames/codec.js';
import { createLogger, type Logger, type LogLevel } from '../ops/log.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../profiles/load.js';
import { DEVICE_OUTPUTS } from '../transports/simulated/device-outputs.js';
import { SimulatedTransport } from '../transports/simulated/simulated-transport.js';
import { loadNoble } from '../transports/ble/load-noble.js';
import { bthomeLight, heartRateStrap, polarH10, pulseOximeter } from '../transports/simulated/ble-peripherals.js';
import { SimulatedRadio } from '../transports/simulated/ble-radio.js';
import type { TransportListener } from '../transports/transport.js';
import { DeviceSource, type ConfiguredDevice } from '../hub/device-source.js';
import type { Config } from '../config/schema.js';
import { exposureOptionsFrom } from '../hub/from-config.js';
import { localDate, localDayBounds } from '../exposure/local-days.js';
import { ReplayTransport } from '../transports/capture/replay-transport.js';
import { lightDayCapture } from '../transports/simulated/light-day.js';
import { EncoderSet, SHIPPED_ENCODERS_DIR } from '../embeddings/encoder-set.js';
import { Receiver } from '../receiver/receiver.js';
import { LineSink } from '../receiver/sinks/line-sink.js';
import { TrustStore } from '../receiver/trust.js';
import { numberOption, parseCommandArgs, portOption } from './args.js';
import { untilSignal } from './signals.js';

const HUB_ID = 'demo-hub';

/**
 * What the demo simulates, through the real byte formats, transports and decoders. The first
 * subject wears a Polar H10 (heart rate, RR, ECG, accelerometer) and a BLE pulse oximeter and has
 * a serial respiration belt and a button box on which "medication taken" is pressed; the second wears a heart-rate strap and has a serial IMU and a
 * BTHome light sensor by the bed; the third has a serial light sensor whose day is replayed fast.
 */
const SERIAL_DEMO: ReadonlyArray<[subject: 0 | 1, profile: string]> = [[0, 'generic/respiration-belt-csv'], [0, 'generic/button-box'], [1, 'generic/imu6-lcrc']];

/**
 * The third subject's bedside light sensor plays yesterday's light, a day in two minutes: its
 * exposure reports (hourly, then the day's final values) follow the replayed clock.
 */
const LIGHT_DAY_SPEED = 720;
const LIGHT_DAY_ZONE = 'Europe/Paris';

/** Simulated devices speaking their real byte formats, read through the real profiles, windows and features; BLE through the real noble over a simulated radio. */
async function simulatedDevices(config: Config, windowMs: number, clock: SystemClock, log: Logger): Promise<{ source: DeviceSource; radio: SimulatedRadio }> {
  const subjects = SUBJECTS;
  const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
  const yesterday = localDayBounds(localDate(clock.wallMs() - 86_400_000, LIGHT_DAY_ZONE), LIGHT_DAY_ZONE);
  const devices: ConfiguredDevice[] = [
    ...SERIAL_DEMO.map(([subject, id]) => ({
      subject: subjects[subject],
      profile: profiles.get(id)!,
      transport: (l: TransportListener) => new SimulatedTransport(id.split('/')[1]!, DEVICE_OUTPUTS[id]!(), clock, l),
    })),
    {
      subject: subjects[2],
      profile: profiles.get('generic/bh1750-light')!,
      replayed: true,
      windows: false,
      transport: (l: TransportListener) => new ReplayTransport({ capture: lightDayCapture(yesterday.startMs, yesterday.endMs), speed: LIGHT_DAY_SPEED, atEnd: 'stay-open' }, clock, l),
    },
  ];
  const radio = new SimulatedRadio();
  radio.add(polarH10({ address: 'a0:9e:1a:00:00:01' }));
  radio.add(pulseOximeter({ address: 'a0:9e:1a:00:00:02' }));
  radio.add(heartRateStrap({ address: 'a0:9e:1a:00:00:03' }));
  radio.add(bthomeLight({ address: 'a0:9e:1a:00:00:04' }));
  const ble = [
    { subject: subjects[0], profile: profiles.get('polar/h10')!, address: 'a0:9e:1a:00:00:01' },
    { subject: subjects[0], profile: profiles.get('bluetooth-sig/pulse-oximeter')!, address: 'a0:9e:1a:00:00:02' },
    { subject: subjects[1], profile: profiles.get('bluetooth-sig/heart-rate')!, address: 'a0:9e:1a:00:00:03' },
    { subject: subjects[1], profile: profiles.get('bthome/v2')!, address: 'a0:9e:1a:00:00:04' },
  ];
  const encoders = { set: await EncoderSet.load([SHIPPED_ENCODERS_DIR], log, { intraOpThreads: 1 }), options: { encoding: 'float16' as const, minQuality: 0.5 } };
  const source = new DeviceSource({
    devices, windowMs, graceMs: Math.min(1000, windowMs / 5), clock, log, encoders, ble: { devices: ble, load: () => loadNoble(radio) },
    exposure: exposureOptionsFrom(config),
  });
  return { source, radio };
}

const SUBJECTS = ['demo-subject', 'demo-subject-2', 'demo-light-day'] as const;


/**
 * twinedge demo: simulated devices (serial: a respiration belt, an IMU; BLE, through the real
 * noble over a simulated radio: a Polar H10, a heart-rate strap, a pulse oximeter, a BTHome light
 * sensor) in their real byte formats, read through the shipped profiles, windows, features and
 * encoders, then
 * the real frames, outbox and publisher, to an embedded broker (or --broker), and the reference
 * receiver printing each verified frame in one line on stdout. Logs go to stderr so the frames
 * stay readable.
 */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('demo', argv, {
    broker: { type: 'string' },
    duration: { type: 'string' },
    'data-dir': { type: 'string' },
    key: { type: 'string' },
    window: { type: 'string' },
    'log-level': { type: 'string' },
    'http-port': { type: 'string' },
  });
  const httpPort = portOption('demo', values['http-port'], '--http-port');
  const durationS = numberOption('demo', values.duration, '--duration', 0);
  const windowS = numberOption('demo', values.window, '--window', 15);
  const log = createLogger((values['log-level'] ?? 'warn') as LogLevel, process.stderr);
  const key: HubKey = values.key ? await loadHubKey(resolve(values.key)) : generateHubKey();
  const ownDataDir = values['data-dir'] === undefined;
  const dataDir = values['data-dir'] ? resolve(values['data-dir']) : await mkdtemp(join(tmpdir(), 'twinedge-demo-'));

  let broker: EmbeddedBroker | undefined;
  const brokerUrl = values.broker ?? (broker = await startEmbeddedBroker()).url;
  const config = defaultConfig({
    hub: { id: HUB_ID, data_dir: join(dataDir, 'hub'), clock_sync: 'auto' },
    subjects: SUBJECTS.map((ref) => ({ ref, ...(ref === 'demo-light-day' ? { time_zone: LIGHT_DAY_ZONE } : {}) })),
    exposure: { period_s: 3600 },
    // aedes speaks 3.1.1 only; an external broker is asked for MQTT 5 first.
    broker: { url: brokerUrl, reconnect_max_ms: 10_000, mqtt_version: broker ? '3.1.1' : 'auto' },
    publish: { inflight: 256 },
    outbox: { quota_mb: 64 },
    source: { simulated: { window_s: Math.max(0.05, windowS) } },
  });
  const clock = new SystemClock(config.hub.clock_sync);
  const simulated = await simulatedDevices(config, Math.max(0.05, windowS) * 1000, clock, log);
  const hub = new Hub({ ...(await hubOptionsFrom(config, { key, clock, log })), source: simulated.source });
  // HTTP only when asked for: two demos on one machine would otherwise fight over a port.
  let http: HttpServer | undefined;
  let tokenFile: string | undefined;
  if (httpPort !== undefined) {
    tokenFile = tokenFileOf(config, undefined);
    http = hubHttpServer(config, { hub, clock, log, token: await loadTokenFile(tokenFile, { create: true }), port: httpPort });
  }
  const receiver = new Receiver({
    brokerUrl,
    trust: new TrustStore([{ hubId: HUB_ID, publicKey: key.publicKey, source: 'demo key' }]),
    sink: new LineSink(process.stdout),
    stateDir: join(dataDir, 'receiver'),
    clientId: `twinedge-demo-receiver-${process.pid}`,
    // aedes speaks MQTT 3.1.1; an external broker is asked for MQTT 5.
    mqttVersion: broker ? 4 : 5,
    log,
  });
  let dataFrames = 0;
  let offlineSeen = false;
  receiver.on('accepted', (f) => {
    if (f.kind !== 'status') dataFrames++;
    else if (f.body.status?.state === HubState.OFFLINE) offlineSeen = true;
  });
  process.stdout.write(`twinedge demo: hub ${HUB_ID} (key ${key.keyId}) -> ${brokerUrl}${broker ? ' (embedded)' : ''}; a frame per ${windowS} s window; ${SUBJECTS[2]}'s light sensor replays yesterday, a day in ${Math.round(86_400 / LIGHT_DAY_SPEED / 60)} minutes, with an exposure report each hour of it; Ctrl-C to stop\n`);
  try {
    await receiver.start();
    await hub.start();
    if (http) {
      const port = await http.start();
      process.stdout.write(`twinedge demo: events at http://127.0.0.1:${port}/v1/events; try: twinedge mark --url http://127.0.0.1:${port} --token-file ${tokenFile} --subject ${SUBJECTS[0]} --kind meal\n`);
      process.stdout.write(`twinedge demo: metrics at http://127.0.0.1:${port}/metrics, health at /healthz and /readyz, the hub's status at /status (with the token)\n`);
    }
    await untilSignal(durationS > 0 ? durationS * 1000 : undefined);
    await http?.stop();
    await hub.stop();
    // Let the receiver take what the hub published, its offline status last.
    const last = hub.stats().outbox.lastSeq;
    const deadline = Date.now() + 3000;
    while (((receiver.watermark(HUB_ID) ?? 0) < last || !offlineSeen) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const c = receiver.counters();
    const rejected = Object.values(c.rejected).reduce((a, b) => a + b, 0);
    process.stdout.write(`twinedge demo: ${last} frames made, ${dataFrames} received and verified, ${rejected} rejected\n`);
    return 0;
  } finally {
    await http?.stop().catch(() => {});
    await hub.stop().catch(() => {});
    simulated.radio.close();
    await receiver.stop().catch(() => {});
    await broker?.close();
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

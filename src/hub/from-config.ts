import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configHash } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadHubKey, type HubKey } from '../frames/keys.js';
import { loadSealRecipient } from '../frames/seal.js';
import type { Clock, SystemClock } from '../ops/clock.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../profiles/load.js';
import { findUsbPort, usbAddress } from '../transports/serial/find-port.js';
import { SerialTransport } from '../transports/serial/serial-transport.js';
import type { TransportListener } from '../transports/transport.js';
import { EncoderSet, SHIPPED_ENCODERS_DIR } from '../embeddings/encoder-set.js';
import { loadNoble } from '../transports/ble/load-noble.js';
import type { Profile } from '../profiles/profile.js';
import type { ConfiguredBleDevice } from './ble-devices.js';
import { DeviceSource, type ConfiguredDevice, type DeviceExposureOptions } from './device-source.js';
import { ReplayTransport } from '../transports/capture/replay-transport.js';
import { clockMinutesOf } from '../exposure/exposure-settings.js';
import { TwinedgeError } from '../ops/errors.js';
import type { Logger } from '../ops/log.js';
import type { BrokerOptions } from '../publish/session.js';
import type { HubOptions } from './hub.js';
import { parsePublicKey } from '../frames/keys.js';
import type { CommandSettings } from './hub-commands.js';
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
    mqttVersion: b.mqtt_version === '5' ? 5 : b.mqtt_version === 'auto' ? 'auto' : 4,
    keepaliveS: b.keepalive_s,
    connectTimeoutMs: b.connect_timeout_s * 1000,
    reconnectMinMs: b.reconnect_min_ms,
    reconnectMaxMs: b.reconnect_max_ms,
  };
}

/**
 * The configured devices, each with its profile and transport. Problems that would stop a device
 * from ever working (an unknown profile, no port) stop the hub before it starts (exit 2); a
 * refused profile file that no device uses is only logged.
 */
export async function configuredDevices(config: Config, log: Logger, hubClock: Clock): Promise<{ serial: ConfiguredDevice[]; ble: ConfiguredBleDevice[] }> {
  const out = { serial: [] as ConfiguredDevice[], ble: [] as ConfiguredBleDevice[] };
  if (config.devices.length === 0) return out;
  const loaded = await loadProfiles([SHIPPED_PROFILES_DIR, ...config.profiles.dirs]);
  for (const p of loaded.problems) log.warn({ code: p.code, file: p.place.file, line: p.place.line, field: p.place.keyPath }, `profile refused: ${p.message}`);
  for (const [i, d] of config.devices.entries()) {
    const profile = loaded.profiles.get(d.profile);
    if (!profile) {
      const refused = loaded.problems.length > 0 ? ` (${loaded.problems.length} profile file(s) were refused; see the log or run twinedge profiles validate)` : '';
      throw new TwinedgeError('CONFIG_VALUE_INVALID', `no profile '${d.profile}'${refused}`, { keyPath: `devices[${i}].profile` });
    }
    if (d.replay) {
      if (profile.transport !== 'serial') throw new TwinedgeError('CONFIG_VALUE_INVALID', `profile '${d.profile}' is for ${profile.transport} devices; captures are of serial devices`, { keyPath: `devices[${i}].replay` });
      out.serial.push(replayDevice(d.replay, d.subject!, profile, hubClock));
      continue;
    }
    if (profile.transport !== 'serial') {
      if (d.serial) throw new TwinedgeError('CONFIG_VALUE_INVALID', `profile '${d.profile}' is for ${profile.transport} devices: give ble, not serial`, { keyPath: `devices[${i}].serial` });
      out.ble.push({ subject: d.subject!, profile, address: d.ble?.address?.toLowerCase(), key: d.ble?.bind_key_file ? await readBindKey(d.ble.bind_key_file, i) : undefined });
      continue;
    }
    if (d.ble) throw new TwinedgeError('CONFIG_VALUE_INVALID', `profile '${d.profile}' is for serial devices: give serial, not ble`, { keyPath: `devices[${i}].ble` });
    out.serial.push(serialDevice(d, i, profile, hubClock));
  }
  return out;
}

/**
 * A replayed capture: played to its end and then silent, as a device that stopped talking (a
 * replay that ended is not reopened).
 */
function replayDevice(r: NonNullable<Config['devices'][number]['replay']>, subject: string, profile: Profile, hubClock: Clock): ConfiguredDevice {
  return { subject, profile, replayed: true, transport: (listener: TransportListener) => new ReplayTransport({ capture: r.file, speed: r.speed, atEnd: 'stay-open' }, hubClock, listener) };
}

/** The exposure settings of a validated config. */
export function exposureOptionsFrom(config: Config): DeviceExposureOptions {
  const e = config.exposure;
  return {
    periodMs: e.period_s * 1000,
    graceMs: e.grace_s * 1000,
    maxGapMs: e.max_gap_s === undefined ? undefined : e.max_gap_s * 1000,
    light: {
      thresholdLx: e.light.threshold_lx,
      nightThresholdLx: e.light.night_threshold_lx,
      nightStartMin: clockMinutesOf(e.light.night_start),
      nightEndMin: clockMinutesOf(e.light.night_end),
      halfLivesMs: e.light.half_lives_h.map((h) => h * 3_600_000),
    },
    timeZones: new Map(config.subjects.map((s) => [s.ref, s.time_zone])),
  };
}

/** A BTHome bind key: 32 hex digits in a file (a secret, so not in the config itself). */
async function readBindKey(file: string, i: number): Promise<Uint8Array> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (e) {
    throw new TwinedgeError('CONFIG_VALUE_INVALID', `cannot read the bind key ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { keyPath: `devices[${i}].ble.bind_key_file` });
  }
  if (!/^[0-9a-fA-F]{32}$/.test(text)) throw new TwinedgeError('CONFIG_VALUE_INVALID', `${file} must hold the 16-byte bind key as 32 hex digits`, { keyPath: `devices[${i}].ble.bind_key_file` });
  return Buffer.from(text, 'hex');
}

/** A serial device's transport: its port by path, or found by USB ids at each open. */
function serialDevice(d: Config['devices'][number], i: number, profile: Profile, hubClock: Clock): ConfiguredDevice {
  if (!profile.serial) throw new TypeError('a serial profile has its serial setup');
  const s = d.serial ?? {};
  const usb = s.usb ? { vendorId: s.usb.vendor_id, productId: s.usb.product_id, serialNumber: s.usb.serial_number } : s.path === undefined ? profile.match.usb : undefined;
  const fixedPath = s.path ?? (usb ? undefined : profile.match.path);
  if (fixedPath === undefined && !usb) {
    throw new TwinedgeError('CONFIG_VALUE_INVALID', `device ${i + 1} (${d.profile}) needs serial.path or serial.usb: its profile does not say where to find it`, { keyPath: `devices[${i}].serial` });
  }
  const path = fixedPath ?? { describe: usbAddress(usb!), resolve: () => findUsbPort(usb!) };
  const options = {
    path,
    baudRate: s.baud_rate ?? profile.serial.baudRate,
    dataBits: s.data_bits ?? profile.serial.dataBits,
    parity: s.parity ?? profile.serial.parity,
    stopBits: s.stop_bits ?? profile.serial.stopBits,
  };
  return { subject: d.subject!, profile, transport: (listener: TransportListener) => new SerialTransport(options, hubClock, listener) };
}

/** The hub's options from a validated config: the one mapping `run` and `demo` share. */
export async function hubOptionsFrom(config: Config, parts: { key: HubKey; clock: SystemClock; log: Logger }): Promise<HubOptions> {
  const subjects = config.subjects.map((s) => s.ref);
  const { serial: devices, ble } = await configuredDevices(config, parts.log, parts.clock);
  const e = config.embeddings;
  const encoders = devices.length + ble.length > 0 && e.enabled === 'on'
    ? { set: await EncoderSet.load([SHIPPED_ENCODERS_DIR, ...e.dirs], parts.log, { intraOpThreads: e.intra_op_threads }), options: { encoding: e.encoding, minQuality: e.min_quality } }
    : undefined;
  return {
    hubId: config.hub.id,
    dataDir: config.hub.data_dir,
    key: parts.key,
    nextKey: config.hub.next_key_file !== undefined ? await loadHubKey(config.hub.next_key_file) : undefined,
    sealTo: config.hub.seal_to !== undefined ? await loadSealRecipient(config.hub.seal_to) : undefined,
    clock: parts.clock,
    broker: await brokerOptionsFrom(config),
    inflight: config.publish.inflight,
    outbox: { quotaBytes: config.outbox.quota_mb * 1024 * 1024, sync: config.outbox.sync, maxBatch: config.outbox.max_batch },
    subjects,
    source: devices.length + ble.length > 0
      ? new DeviceSource({
        devices, windowMs: config.windows.length_s * 1000, graceMs: config.windows.grace_s * 1000,
        minCoverage: config.windows.min_coverage, clock: parts.clock, log: parts.log,
        exposure: exposureOptionsFrom(config),
        ...(encoders ? { encoders } : {}),
        ble: {
          devices: ble,
          load: () => loadNoble(),
          countersFile: join(config.hub.data_dir, 'bthome-counters.json'),
          central: {
            maxConnections: config.ble.max_connections, maxConnecting: config.ble.max_connecting,
            stepTimeoutMs: config.ble.step_timeout_s * 1000, backoffMaxMs: config.ble.backoff_max_s * 1000,
          },
        },
      })
      : new SimulatedSource({
        subjects: config.source.simulated.subjects ? [...config.source.simulated.subjects] : subjects,
        windowMs: config.source.simulated.window_s * 1000,
        clock: parts.clock,
      }),
    configSha256: configHash(config),
    consent: new Map(config.subjects.map((s) => [s.ref, s.consent])),
    commands: await commandSettingsFrom(config),
    log: parts.log,
  };
}

/** The command settings of a config; undefined (no commands taken) without commands.trust_file. */
export async function commandSettingsFrom(config: Config): Promise<CommandSettings | undefined> {
  const c = config.commands;
  if (c.trust_file === undefined) return undefined;
  const place = { file: c.trust_file, keyPath: 'commands.trust_file' };
  let pem: string;
  try {
    pem = await readFile(c.trust_file, 'utf8');
  } catch (e) {
    throw new TwinedgeError('KEY_FILE_UNREADABLE', `cannot read the twin server's public key: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, place, { cause: e });
  }
  // A public key can be derived from a private one, which would then sit on every hub.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new TwinedgeError('KEY_FILE_INVALID', "this is a private key; give the twin server's public key (its .pub file) and keep the private key off the hub", place);
  }
  return { trustKey: parsePublicKey(pem, c.trust_file), windowMs: c.window_s * 1000 };
}

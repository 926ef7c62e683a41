/**
 * The hub's BLE devices: the central over noble (loaded only when a device needs it), each
 * device's packets through its profile with its address and key as decode context, and BTHome
 * counters checked against replay. Without an adapter, or without the right to use it, one line
 * says so and the rest of the hub runs on.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { DeviceInfo } from '../frames/codec.js';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/log.js';
import { isFreshCounter } from '../profiles/decoders/bthome.js';
import { PacketReader, type ReaderStats } from '../profiles/packet-reader.js';
import type { Profile } from '../profiles/profile.js';
import type { TimedSample } from '../profiles/timing.js';
import { BleCentral, nobleUuid, type BleTarget } from '../transports/ble/ble-central.js';
import type { NobleLoad } from '../transports/ble/load-noble.js';

export interface ConfiguredBleDevice {
  readonly subject: string;
  readonly profile: Profile;
  readonly address?: string | undefined;
  /** BTHome bind key: with one, unencrypted packets are refused. */
  readonly key?: Uint8Array | undefined;
}

export interface BleDevicesOptions {
  readonly devices: readonly ConfiguredBleDevice[];
  readonly clock: Clock;
  readonly log: Logger;
  readonly load: () => Promise<NobleLoad>;
  readonly central?: { maxConnections?: number; maxConnecting?: number; stepTimeoutMs?: number; backoffMinMs?: number; backoffMaxMs?: number };
  readonly onSamples: (key: string, samples: TimedSample[]) => void;
  readonly onGap: (key: string) => void;
  /** The device under `key` is now known by this id (bound to its address). */
  readonly onBound: (key: string, deviceId: string) => void;
  /**
   * Where the BTHome counters are kept across restarts, so that a packet recorded before a
   * restart cannot be replayed after it. Without one they are kept in memory only.
   */
  readonly countersFile?: string;
}

interface Running {
  readonly key: string;
  readonly config: ConfiguredBleDevice;
  readonly reader: PacketReader;
  lastCounter: number | undefined;
  /** The last battery level the device reported, for the status. */
  battery: number | undefined;
}

export const DECODE_REPLAYED = 'DECODE_REPLAYED';

/** The key a configured BLE device is known by until (and unless) it is bound to an address. */
export function bleDeviceKey(d: ConfiguredBleDevice, index: number): string {
  return d.address ? `ble:${d.address.toLowerCase()}` : `ble:${d.profile.id}#${index + 1}`;
}

export class BleDevices {
  readonly #o: BleDevicesOptions;
  readonly #running: Running[];
  #central: BleCentral | undefined;
  #unavailable: string | undefined;

  constructor(options: BleDevicesOptions) {
    this.#o = options;
    this.#running = options.devices.map((config, i) => {
      const r: Running = {
        key: bleDeviceKey(config, i),
        config,
        lastCounter: undefined,
        battery: undefined,
        reader: new PacketReader({
          profile: config.profile,
          onSamples: () => {},
          onIssue: (issue) => options.log.debug({ device: r.key, code: issue.code, message: issue.message }, 'bad BLE packet'),
          admit: (decoded) => this.#admit(r, decoded.values),
        }),
      };
      return r;
    });
  }

  get keys(): string[] {
    return this.#running.map((r) => r.key);
  }

  /** A BTHome counter must move forward: a replayed packet would repeat or go back. */
  #admit(r: Running, values: Readonly<Record<string, unknown>>): { code: string; message: string } | undefined {
    const counter = values.counter;
    if (typeof counter !== 'number') return undefined;
    if (!isFreshCounter(r.lastCounter, counter)) return { code: DECODE_REPLAYED, message: `counter ${counter} is not after ${r.lastCounter}: a replayed packet` };
    r.lastCounter = counter;
    this.#saveCounters();
    return undefined;
  }

  #saving: Promise<void> = Promise.resolve();
  #dirty = false;

  /** Writes the counters (at most one write in flight; the latest state wins). */
  #saveCounters(): void {
    const file = this.#o.countersFile;
    if (!file) return;
    if (this.#dirty) return;
    this.#dirty = true;
    this.#saving = this.#saving.then(async () => {
      this.#dirty = false;
      const counters = Object.fromEntries(this.#running.filter((r) => r.lastCounter !== undefined).map((r) => [r.config.address ?? r.key, r.lastCounter]));
      // Written whole then renamed over the old file: a crash leaves one or the other.
      const tmp = `${file}.tmp`;
      await writeFile(tmp, `${JSON.stringify(counters)}\n`, { mode: 0o600 });
      await rename(tmp, file);
    }).catch((e: Error) => this.#o.log.error({ err: e.message, file }, 'BTHome counters not saved'));
  }

  async #loadCounters(): Promise<void> {
    const file = this.#o.countersFile;
    if (!file) return;
    let saved: Record<string, number>;
    try {
      saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, number>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.#o.log.warn({ err: (e as Error).message, file }, 'BTHome counters unreadable; starting without');
      return;
    }
    for (const r of this.#running) {
      const c = saved[r.config.address ?? r.key];
      if (typeof c === 'number') r.lastCounter = c;
    }
  }

  async start(): Promise<void> {
    if (this.#running.length === 0) return;
    await this.#loadCounters();
    const loaded = await this.#o.load();
    if ('unavailable' in loaded) {
      this.#unavailable = loaded.unavailable;
      this.#o.log.warn(`BLE unavailable: ${loaded.unavailable}; serial devices keep running`);
      return;
    }
    const targets: BleTarget[] = this.#running.map((r) => {
      const p = r.config.profile;
      const m = p.ble?.match;
      return {
        key: r.key,
        kind: p.transport === 'ble-advert' ? 'advert' : 'connect',
        ...(r.config.address ? { address: r.config.address } : {}),
        match: {
          ...(m?.services ? { services: m.services.map(nobleUuid) } : {}),
          ...(m?.name ? { name: new RegExp(m.name) } : {}),
          ...(m?.manufacturerId !== undefined ? { manufacturerId: m.manufacturerId } : {}),
          ...(m?.serviceData ? { serviceData: nobleUuid(m.serviceData) } : {}),
        },
        subscribe: p.ble?.subscribe ?? [],
        reads: p.ble?.reads ?? [],
        writes: p.ble?.writes ?? [],
      };
    });
    const byKey = new Map(this.#running.map((r) => [r.key, r]));
    const c = this.#o.central ?? {};
    this.#central = new BleCentral(loaded.noble, targets, {
      clock: this.#o.clock,
      log: this.#o.log,
      ...c,
      onPacket: (packet) => {
        const r = byKey.get(packet.key)!;
        if (!r.key.startsWith(`ble:${packet.address}`) && !this.#bound.has(r.key)) {
          this.#bound.add(r.key);
          this.#o.onBound(r.key, `ble:${packet.address}`);
        }
        const context = { address: packet.address, ...(r.config.key ? { key: r.config.key } : {}) };
        // The reader counts bytes only where it does the framing (serial); a BLE packet comes whole.
        r.reader.stats.bytes += packet.bytes.length;
        const samples = r.reader.packet(packet.bytes, packet, packet.source, context);
        for (const s of samples) if (s.channel === 'battery' && typeof s.value === 'number') r.battery = s.value;
        if (samples.length > 0) this.#o.onSamples(r.key, samples);
      },
      onGap: (gap) => {
        byKey.get(gap.key)?.reader.gap();
        this.#o.onGap(gap.key);
      },
    });
    this.#central.start();
  }

  readonly #bound = new Set<string>();

  describe(): DeviceInfo[] {
    const status = new Map((this.#central?.describe() ?? []).map((s) => [s.key, s]));
    return this.#running.map((r) => {
      const s = status.get(r.key);
      return {
        device_id: s?.address ? `ble:${s.address}` : r.key,
        profile_id: r.config.profile.id,
        subject_ref: r.config.subject,
        state: this.#unavailable ? 'ble-unavailable' : s ? (s.state === 'streaming' ? 'connected' : s.state) : 'searching',
        ...(s?.rssi !== undefined ? { rssi: s.rssi } : {}),
        battery: r.battery ?? -1,
      };
    });
  }

  /**
   * Per device: its state, the failed attempts since it last streamed and the last one's reason
   * (for /status), and what its reader counted. Without an adapter every device says
   * 'ble-unavailable' and the reason is the adapter's.
   */
  stats(): Array<{ device: string; profile: string; state: string; failures: number; lastError: string | undefined } & ReaderStats> {
    const status = new Map((this.#central?.describe() ?? []).map((s) => [s.key, s]));
    return this.#running.map((r) => {
      const s = status.get(r.key);
      return {
        device: r.key,
        profile: r.config.profile.id,
        state: this.#unavailable ? 'ble-unavailable' : s?.state ?? 'searching',
        failures: s?.failures ?? 0,
        lastError: this.#unavailable ?? s?.lastError,
        ...r.reader.snapshot(),
      };
    });
  }

  async stop(): Promise<void> {
    await this.#central?.stop();
    await this.#saving;
  }
}

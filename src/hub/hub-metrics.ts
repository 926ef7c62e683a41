/**
 * The hub's Prometheus metrics, one registry per hub. Every value but the publish latency is read
 * at scrape time from counters the stages already keep (device readers, the outbox, the
 * publisher, the exposure trackers): one snapshot per scrape, so the numbers of one scrape agree
 * with each other, and nothing is added to the per-sample path.
 *
 * Labels are bounded by the config: device (its id), profile, transport, decode error code (a
 * fixed table), frame kind, device state, clock state, and subject (the configured subjects) on
 * the exposure metrics only. No metric carries both a device and a subject: which device belongs
 * to which subject is told by /status, behind the token.
 */
import type { CommandStats } from './hub-commands.js';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FRAME_KINDS } from '../frames/codec.js';
import type { OutboxStats } from '../outbox/outbox.js';
import type { Clock, ClockSync } from '../ops/clock.js';
import { exposition, mirrorCounter, mirrorGauge, processMetrics, type Labels } from '../ops/metrics.js';
import type { PublisherStats } from '../publish/session.js';
import type { DeviceSource } from './device-source.js';
import type { FrameSource } from './frame-source.js';

/** What the hub counts itself (Hub.stats()). */
export interface HubCounters {
  readonly outbox: OutboxStats;
  readonly publisher: PublisherStats;
  readonly appendFailures: number;
}

/** One input device as metrics, /readyz and /status see it, serial and BLE alike. */
export interface DeviceRow {
  readonly device: string;
  readonly profile: string;
  readonly transport: 'serial' | 'ble';
  /** 'connected' when bytes can flow (a serial port open, a BLE device streaming); else the transport's own state. */
  readonly state: string;
  readonly bytes: number;
  readonly packets: number;
  readonly samples: number;
  readonly rejected: number;
  /** Bad input by code: framing (FRAME_*), text lines (LINE_*), decoding (DECODE_*). */
  readonly issues: Readonly<Record<string, number>>;
  /** BLE: failed attempts since it last streamed, and the last one's reason. */
  readonly failures?: number;
  readonly lastError?: string | undefined;
}

type DeviceStats = Pick<DeviceSource, 'stats' | 'bleStats' | 'exposureStats' | 'eventsMarked'>;

/** The source's device statistics, when it reads devices (the simulated source has none). */
export function deviceStatsOf(source: FrameSource): DeviceStats | undefined {
  const s = source as Partial<DeviceStats>;
  return typeof s.stats === 'function' && typeof s.bleStats === 'function' && typeof s.exposureStats === 'function' ? s as DeviceStats : undefined;
}

const CONNECTED_STATES = new Set(['open', 'streaming']);

/** Every configured device, serial first, in config order. */
export function deviceRows(source: FrameSource): DeviceRow[] {
  const d = deviceStatsOf(source);
  if (!d) return [];
  const serial = d.stats().map((s): DeviceRow => ({
    device: s.device, profile: s.profile, transport: 'serial', state: CONNECTED_STATES.has(s.state) ? 'connected' : s.state,
    bytes: s.bytes, packets: s.packets, samples: s.samples, rejected: s.rejected, issues: s.issues,
  }));
  const ble = d.bleStats().map((s): DeviceRow => ({
    device: s.device, profile: s.profile, transport: 'ble', state: CONNECTED_STATES.has(s.state) ? 'connected' : s.state,
    bytes: s.bytes, packets: s.packets, samples: s.samples, rejected: s.rejected, issues: s.issues,
    failures: s.failures, lastError: s.lastError,
  }));
  return [...serial, ...ble];
}

export interface HubMetricsOptions {
  readonly hubId: string;
  readonly version: string;
  readonly clock: Clock;
  readonly source: FrameSource;
  readonly counters: () => HubCounters;
  /** Commands from the twin server, and what consent kept back; absent in the docs' registry. */
  readonly commands?: () => CommandStats;
}

interface Snapshot {
  readonly hub: HubCounters;
  readonly devices: readonly DeviceRow[];
  readonly exposure: ReadonlyArray<{ subject: string; late: number; unsetClockSamples: number }>;
  readonly eventsMarked: number;
  readonly commands: CommandStats | undefined;
  readonly sync: ClockSync;
  readonly wallMs: number;
}

const CLOCK_STATES: readonly ClockSync[] = ['synced', 'unsynced', 'jumped'];
/** Always shown, at 0 when no device is in it, so that an alert on it has a series to read. */
const ALWAYS_SHOWN_STATES = ['connected'];
/** Seconds from publish to PUBACK: a local broker answers in milliseconds, a far one over a mobile link in seconds. */
const ACK_LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class HubMetrics {
  readonly registry = new Registry();
  readonly #o: HubMetricsOptions;
  readonly #ackLatency: Histogram;
  /** Taken once at the start of a scrape; every metric's collect reads it. */
  #snap: Snapshot | undefined;

  constructor(options: HubMetricsOptions) {
    this.#o = options;
    const registers = [this.registry];
    const snap = () => this.#snap ?? this.#take();
    const gauge = (name: string, help: string, labelNames: readonly string[], rows: (s: Snapshot) => Iterable<readonly [Labels, number]>) => new Gauge({
      name, help, labelNames, registers, collect() { mirrorGauge(this, rows(snap())); },
    });
    const counter = (name: string, help: string, labelNames: readonly string[], rows: (s: Snapshot) => Iterable<readonly [Labels, number]>) => new Counter({
      name, help, labelNames, registers, collect() { mirrorCounter(this, rows(snap())); },
    });
    const one = (value: (s: Snapshot) => number) => (s: Snapshot): Array<readonly [Labels, number]> => [[{}, value(s)]];
    const perDevice = (value: (d: DeviceRow) => number) => (s: Snapshot) => s.devices.map((d) => [{ device: d.device, profile: d.profile }, value(d)] as const);

    gauge('twinedge_hub_info', 'The hub: its id and software version (always 1).', ['hub_id', 'version'], () => [[{ hub_id: options.hubId, version: options.version }, 1]]);

    // Inputs.
    gauge('twinedge_devices', 'Configured devices by state: connected, or the transport\'s own state (opening, backing-off, searching, ble-unavailable, ...).', ['state'], (s) => {
      const by = new Map<string, number>(ALWAYS_SHOWN_STATES.map((st) => [st, 0]));
      for (const d of s.devices) by.set(d.state, (by.get(d.state) ?? 0) + 1);
      return [...by].map(([state, n]) => [{ state }, n] as const);
    });
    gauge('twinedge_device_connected', '1 while the device can send (a serial port open, a BLE device streaming), else 0.', ['device', 'profile', 'transport'],
      (s) => s.devices.map((d) => [{ device: d.device, profile: d.profile, transport: d.transport }, d.state === 'connected' ? 1 : 0] as const));
    gauge('twinedge_ble_device_failures', 'Failed connection attempts of a BLE device since it last streamed (reset when it streams again).', ['device', 'profile'],
      (s) => s.devices.filter((d) => d.transport === 'ble').map((d) => [{ device: d.device, profile: d.profile }, d.failures ?? 0] as const));
    counter('twinedge_device_bytes_total', 'Bytes received from the device.', ['device', 'profile'], perDevice((d) => d.bytes));
    counter('twinedge_device_packets_total', 'Packets (frames, lines, notifications, adverts) decoded, good or not.', ['device', 'profile'], perDevice((d) => d.packets));
    counter('twinedge_device_packets_rejected_total', 'Packets that gave no sample because they were rejected.', ['device', 'profile'], perDevice((d) => d.rejected));
    counter('twinedge_device_samples_total', 'Samples decoded from the device.', ['device', 'profile'], perDevice((d) => d.samples));
    counter('twinedge_decode_errors_total', 'Bad input by error code: framing (FRAME_*), text lines (LINE_*), decoding (DECODE_*).', ['device', 'profile', 'code'],
      (s) => s.devices.flatMap((d) => Object.entries(d.issues).map(([code, n]) => [{ device: d.device, profile: d.profile, code }, n] as const)));
    counter('twinedge_events_marked_total', 'Intervention events marked on devices (a button box).', [], one((s) => s.eventsMarked));
    counter('twinedge_exposure_late_samples_total', 'Samples an exposure tracker passed over as repeated or late.', ['subject'],
      (s) => s.exposure.map((x) => [{ subject: x.subject }, x.late] as const));
    counter('twinedge_exposure_unset_clock_samples_total', 'Samples kept out of exposures because the wall clock was not set yet.', ['subject'],
      (s) => s.exposure.map((x) => [{ subject: x.subject }, x.unsetClockSamples] as const));

    // Frames and the outbox.
    counter('twinedge_frames_appended_total', 'Frames made durable in the outbox, by kind (gap frames included).', ['kind'],
      (s) => FRAME_KINDS.map((kind) => [{ kind }, s.hub.outbox.appended[kind]] as const));
    counter('twinedge_frames_append_failures_total', 'Appends the outbox refused or failed to store.', [], one((s) => s.hub.appendFailures));
    gauge('twinedge_outbox_open', '1 while the outbox stores frames; 0 once closed or after a failed write.', [], one((s) => (s.hub.outbox.state === 'open' ? 1 : 0)));
    gauge('twinedge_outbox_pending_frames', 'Frames stored and not yet acknowledged by the broker.', [], one((s) => s.hub.outbox.pending));
    gauge('twinedge_outbox_pending_bytes', 'Bytes those frames count against the quota.', [], one((s) => s.hub.outbox.pendingBytes));
    gauge('twinedge_outbox_quota_bytes', 'The outbox quota (outbox.quota_mb): past it the oldest frames give way to a gap frame.', [], one((s) => s.hub.outbox.quotaBytes));
    gauge('twinedge_outbox_oldest_pending_age_seconds', 'How long ago the oldest unacknowledged frame was made; 0 when none is pending.', [], one((s) => {
      const at = s.hub.outbox.oldestAppendedAtMs;
      return at === undefined ? 0 : Math.max(0, (s.wallMs - at) / 1000);
    }));
    gauge('twinedge_outbox_last_seq', 'The highest seq appended.', [], one((s) => s.hub.outbox.lastSeq));
    counter('twinedge_outbox_dropped_frames_total', 'Frames dropped by the quota (each drop is reported by a gap frame).', [], one((s) => s.hub.outbox.droppedFrames));
    counter('twinedge_outbox_dropped_bytes_total', 'Bytes dropped by the quota.', [], one((s) => s.hub.outbox.droppedBytes));

    // Publishing.
    gauge('twinedge_broker_connected', '1 while connected to the broker.', [], one((s) => (s.hub.publisher.connected ? 1 : 0)));
    counter('twinedge_broker_reconnects_total', 'Broker connections lost (each followed by reconnecting with backoff).', [], one((s) => s.hub.publisher.reconnects));
    counter('twinedge_publish_frames_total', 'Frames published (QoS 1), resends after a reconnect included.', [], one((s) => s.hub.publisher.published));
    counter('twinedge_publish_acked_total', 'Frames the broker acknowledged (PUBACK).', [], one((s) => s.hub.publisher.acked));
    counter('twinedge_publish_refused_total', 'Frames the broker refused (an MQTT 5 PUBACK reason code, e.g. 0x87 when its ACL denies the topic): kept and sent again after a reconnect.', [], one((s) => s.hub.publisher.refused));
    gauge('twinedge_publish_inflight_frames', 'Frames published and not yet acknowledged.', [], one((s) => s.hub.publisher.inflight));
    this.#ackLatency = new Histogram({ name: 'twinedge_publish_ack_latency_seconds', help: 'Time from publishing a frame to its PUBACK.', buckets: ACK_LATENCY_BUCKETS, registers });

    // Commands and consent.
    counter('twinedge_commands_received_total', 'Messages taken from the hub\'s command topic.', [], one((s) => s.commands?.received ?? 0));
    counter('twinedge_commands_accepted_total', 'Commands verified and carried out.', [], one((s) => s.commands?.accepted ?? 0));
    counter('twinedge_commands_rejected_total', 'Commands refused, by reason (unsigned, bad signature, wrong hub, stale, replayed, ...).', ['reason'],
      (s) => Object.entries(s.commands?.rejected ?? {}).map(([reason, n]) => [{ reason }, n] as const));
    counter('twinedge_consent_withheld_total', 'Frames, or halves of cross-sections, kept on the hub for want of the subject\'s consent, by kind.', ['kind'],
      (s) => Object.entries(s.commands?.withheld ?? {}).map(([kind, n]) => [{ kind }, n] as const));

    // Time.
    gauge('twinedge_clock_sync', '1 for the wall clock\'s state now (synced, unsynced, jumped), 0 for the others.', ['state'],
      (s) => CLOCK_STATES.map((state) => [{ state }, s.sync === state ? 1 : 0] as const));
  }

  /** A PUBACK came, `ms` after its publish. */
  observeAckLatency(ms: number): void {
    this.#ackLatency.observe(ms / 1000);
  }

  #take(): Snapshot {
    const o = this.#o;
    const d = deviceStatsOf(o.source);
    return {
      hub: o.counters(),
      devices: deviceRows(o.source),
      exposure: d?.exposureStats() ?? [],
      eventsMarked: d?.eventsMarked ?? 0,
      commands: o.commands?.(),
      sync: o.clock.sync(),
      wallMs: o.clock.wallMs(),
    };
  }

  /** The scrape answer: the hub's metrics, then the process's (see processMetrics). */
  async text(): Promise<string> {
    this.#snap = this.#take();
    try {
      return await exposition(this.registry, processMetrics());
    } finally {
      this.#snap = undefined;
    }
  }
}

/** The README's metric table, made from the registry so the two cannot drift (scripts/update-docs.ts). */
export function metricsTable(): string {
  const unused = () => { throw new TypeError('the metric table reads no values'); };
  const m = new HubMetrics({
    hubId: '', version: '', source: { name: 'docs', start() {}, async stop() {} }, counters: unused,
    clock: { bootId: '', wallMs: unused, monoMs: unused, sync: unused },
  });
  // name, type, help and labelNames are plain fields of every prom-client metric.
  const rows = m.registry.getMetricsAsArray().map((x) => x as unknown as { name: string; type: string; help: string; labelNames: readonly string[] })
    .map((x) => `| \`${x.name}\` | ${x.type} | ${x.labelNames.map((l) => `\`${l}\``).join(', ')} | ${x.help.replace(/\|/g, '\\|')} |`);
  return ['| metric | type | labels | what it says |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/**
 * What /healthz, /readyz and /status answer, from what the hub knows now.
 *
 * - /healthz (liveness; no token): 200 while the hub runs and its event loop turns, 503 before
 *   start and from stop on. A supervisor restarts a hub that fails it; nothing else makes it fail,
 *   since a restart cures neither a missing broker nor an unplugged sensor.
 * - /readyz (readiness; no token): 200 when the hub does its job now: it runs, its outbox stores
 *   frames, what it makes reaches the broker or waits in an outbox with room, and its inputs
 *   give data. Each check is listed with its result; no identifier is in the answer.
 * - /status (token): the birth message's content (versions, devices with their subjects,
 *   profiles, encoders, config hash, last seq), with the clock, broker, outbox and every input's
 *   state and failures (BLE connection failures with their last reason).
 */
import { setImmediate as turn } from 'node:timers/promises';
import type { Clock } from '../ops/clock.js';
import type { DeviceRow, HubCounters } from './hub-metrics.js';
import type { HubLifecycle, StatusInfo } from './hub.js';

/** What the answers are made from: a Hub. */
export interface HealthSource {
  readonly hubId: string;
  readonly keyId: string;
  readonly lifecycle: HubLifecycle;
  stats(): HubCounters;
  devices(): DeviceRow[];
  statusInfo(): StatusInfo;
}

/**
 * Past this share of the quota, an outbox that cannot drain is not ready. The quota, once passed,
 * drops frames down to 90 % of it, so an outbox that is dropping never falls below 80 % while
 * the broker stays away: readiness fails before the first drop and stays failed through them.
 */
export const READY_OUTBOX_SHARE = 0.8;

export interface CheckResult {
  readonly ok: boolean;
  readonly detail: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: {
    readonly hub: CheckResult;
    readonly outbox: CheckResult;
    readonly delivery: CheckResult;
    readonly inputs: CheckResult;
  };
}

export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** Liveness: awaits one turn of the event loop, so a loop that no longer turns never answers. */
export async function liveness(hub: Pick<HealthSource, 'lifecycle'>): Promise<Answer> {
  const started = performance.now();
  await turn();
  const lifecycle = hub.lifecycle;
  const alive = lifecycle === 'running';
  return { status: alive ? 200 : 503, body: { status: alive ? 'ok' : lifecycle, loop_turn_ms: Math.round((performance.now() - started) * 1000) / 1000 } };
}

export function readiness(hub: Pick<HealthSource, 'lifecycle' | 'stats' | 'devices'>): Readiness {
  const lifecycle = hub.lifecycle;
  const { outbox, publisher } = hub.stats();
  const share = outbox.quotaBytes > 0 ? outbox.pendingBytes / outbox.quotaBytes : 1;
  const percent = `${Math.round(share * 100)} % of the quota`;
  const devices = hub.devices();
  const connected = devices.filter((d) => d.state === 'connected').length;
  const checks = {
    hub: { ok: lifecycle === 'running', detail: lifecycle },
    outbox: {
      ok: outbox.state === 'open',
      detail: outbox.state === 'failed' ? 'a write failed: nothing more is stored until the hub restarts' : outbox.state,
    },
    delivery: publisher.connected
      ? { ok: true, detail: `broker connected; outbox at ${percent}` }
      : share < READY_OUTBOX_SHARE
        ? { ok: true, detail: `broker unreachable; frames wait in the outbox, at ${percent}` }
        : { ok: false, detail: `broker unreachable and the outbox is at ${percent}: the oldest frames give way (reported by gap frames)` },
    // Wearables come and go (taken off, charging), so one device away is normal and shown by
    // /status and the metrics; every configured device away at once points at the hub (the BLE
    // adapter, a USB hub) and makes it not ready. A hub without devices (the simulated source)
    // has nothing to wait for.
    inputs: devices.length === 0
      ? { ok: true, detail: 'no devices configured' }
      : { ok: connected > 0, detail: `${connected} of ${devices.length} devices connected` },
  };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

export function readinessAnswer(hub: Pick<HealthSource, 'lifecycle' | 'stats' | 'devices'>): Answer {
  const r = readiness(hub);
  return { status: r.ready ? 200 : 503, body: r };
}

/** The /status document: the birth's fields under their proto names, then the hub's state now. */
export function statusDocument(hub: HealthSource, clock: Clock): Record<string, unknown> {
  const { outbox, publisher, appendFailures } = hub.stats();
  const wallMs = clock.wallMs();
  return {
    hub_id: hub.hubId,
    key_id: hub.keyId,
    boot_id: clock.bootId,
    lifecycle: hub.lifecycle,
    ...hub.statusInfo(),
    clock: { sync: clock.sync(), wall: new Date(wallMs).toISOString(), mono_ms: Math.round(clock.monoMs()) },
    broker: { connected: publisher.connected, reconnects: publisher.reconnects, published: publisher.published, acked: publisher.acked, inflight: publisher.inflight },
    outbox: {
      state: outbox.state,
      pending_frames: outbox.pending,
      pending_bytes: outbox.pendingBytes,
      quota_bytes: outbox.quotaBytes,
      oldest_pending_age_s: outbox.oldestAppendedAtMs === undefined ? 0 : Math.max(0, (wallMs - outbox.oldestAppendedAtMs) / 1000),
      dropped_frames: outbox.droppedFrames,
      append_failures: appendFailures,
    },
    inputs: hub.devices().map((d) => ({
      device: d.device,
      profile: d.profile,
      transport: d.transport,
      state: d.state,
      bytes: d.bytes,
      packets: d.packets,
      samples: d.samples,
      rejected: d.rejected,
      errors: d.issues,
      ...(d.transport === 'ble' ? { failures: d.failures ?? 0, last_error: d.lastError ?? null } : {}),
    })),
  };
}

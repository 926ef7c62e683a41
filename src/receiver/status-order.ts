import { HubState, type DecodedBody } from '../frames/codec.js';

/** What the receiver keeps of a hub's latest status frame to order the next one against it. */
export interface StatusMark {
  readonly boot_id: string;
  readonly mono_ms: number;
  readonly wall_ms: number;
  /** The highest seq the hub had appended when it made the status (Status.last_seq). */
  readonly last_seq: number;
  /** HubState. */
  readonly state: number;
  /** Status.connection: the hub's broker connection within this boot. */
  readonly connection: number;
}

export function statusMarkOf(body: DecodedBody): StatusMark {
  return {
    boot_id: body.boot_id,
    mono_ms: body.mono_ms,
    wall_ms: body.wall_ms,
    last_seq: body.status?.last_seq ?? 0,
    state: body.status?.state ?? HubState.UNSPECIFIED,
    connection: body.status?.connection ?? 0,
  };
}

/**
 * Orders a status frame against the latest one kept for its hub. Status frames carry seq 0, so
 * their order comes from the header:
 * - Within one boot, the connection number orders them; within one connection, offline comes
 *   after online (the broker's last will is signed when the hub connects, just before the birth
 *   it then outlives), then mono_ms. An identical connection, state and time is the same status
 *   again (a retained message delivered on a new subscription).
 * - Across boots, boot ids are random and wall clocks may be unsynchronised, but seq grows across
 *   restarts: the status made after more frames is newer; on a tie, the later wall clock.
 */
export function compareStatus(incoming: StatusMark, latest: StatusMark): 'newer' | 'same' | 'older' {
  if (incoming.boot_id === latest.boot_id) {
    if (incoming.connection !== latest.connection) return incoming.connection > latest.connection ? 'newer' : 'older';
    if (incoming.state !== latest.state) return incoming.state === HubState.OFFLINE ? 'newer' : 'older';
    if (incoming.mono_ms === latest.mono_ms) return 'same';
    return incoming.mono_ms > latest.mono_ms ? 'newer' : 'older';
  }
  if (incoming.last_seq !== latest.last_seq) return incoming.last_seq > latest.last_seq ? 'newer' : 'older';
  return incoming.wall_ms > latest.wall_ms ? 'newer' : 'older';
}

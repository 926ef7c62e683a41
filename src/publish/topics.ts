import type { FrameKind } from '../frames/codec.js';

/**
 * MQTT topics (DESIGN.md): frames on twin/v1/<hub_id>/<subject_ref>/<kind>, the hub's retained
 * status on twin/v1/<hub_id>/status. Kinds are written with a hyphen on the wire.
 */

export const TOPIC_ROOT = 'twin/v1';

const KIND_LEVEL: Record<FrameKind, string> = {
  cross_section: 'cross-section',
  exposure: 'exposure',
  event: 'event',
  status: 'status',
  gap: 'gap',
  command_result: 'command-result',
};
const LEVEL_KIND = new Map<string, FrameKind>(Object.entries(KIND_LEVEL).map(([k, v]) => [v, k as FrameKind]));

/** Hub ids and subject refs become topic levels: no wildcards, separators or spaces. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function frameTopic(hubId: string, subjectRef: string, kind: FrameKind): string {
  return `${TOPIC_ROOT}/${hubId}/${subjectRef}/${KIND_LEVEL[kind]}`;
}

export function statusTopic(hubId: string): string {
  return `${TOPIC_ROOT}/${hubId}/status`;
}

/** Where the twin server sends a hub its signed commands (proto/twin/v1/command.proto). */
export function commandTopic(hubId: string): string {
  return `${TOPIC_ROOT}/${hubId}/cmd`;
}

/** A hub's command topic: under twin/v1/# too, but it carries commands, not frames. */
export function isCommandTopic(topic: string): boolean {
  const parts = topic.split('/');
  return parts.length === 4 && parts[0] === 'twin' && parts[1] === 'v1' && parts[3] === 'cmd';
}

export type ParsedTopic =
  | { type: 'frame'; hubId: string; subjectRef: string; kind: FrameKind }
  | { type: 'status'; hubId: string };

/** Reads a topic back; undefined when it is not one of ours. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'twin' || parts[1] !== 'v1') return undefined;
  if (parts.length === 4 && parts[3] === 'status') return { type: 'status', hubId: parts[2]! };
  if (parts.length !== 5) return undefined;
  // A status frame in the sequence (a key handover) travels on twin/v1/<hub_id>/_hub/status.
  const kind = LEVEL_KIND.get(parts[4]!);
  if (!kind) return undefined;
  return { type: 'frame', hubId: parts[2]!, subjectRef: parts[3]!, kind };
}

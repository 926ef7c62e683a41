import { ClockStatus, CommandOutcome, CommandRejection, EventKind, GapReason, HubState, type DecodedBody, type SeqRange } from '../../frames/codec.js';
import type { AcceptedFrame } from '../verify.js';
import type { Sink } from './sink.js';

/**
 * One short line per frame for people watching the demo, for example
 *   hub-a subj-1 #42 cross-section 08:00:10 hr.mean=61.5/min hrv.rmssd=42ms (verified key 1a2b3c4d)
 *   hub-a _hub #57 gap 08:01:00 dropped 40-49,51 quota-full (verified key 1a2b3c4d)
 * Times are the hub's wall clock in UTC, with '?' when the hub said its clock was not
 * synchronised. Not a format for machines: use jsonl-sink for that.
 */
export function formatLine(frame: AcceptedFrame): string {
  const b = frame.body;
  const head = frame.kind === 'status'
    ? `${frame.hub_id} status`
    : `${frame.hub_id} ${frame.subject_ref} #${frame.seq} ${frame.kind.replace('_', '-')}`;
  const what = frame.sealed === 'closed' ? `(sealed to ${b.sealed!.recipient_key_id.slice(0, 8)})` : describe(b);
  return `${head} ${timeOf(b)} ${what} (verified key ${frame.key_id.slice(0, 8)})`;
}

function timeOf(b: DecodedBody): string {
  const d = new Date(b.wall_ms);
  // A signed body may hold any int64: a time past the calendar's range is shown as unknown.
  if (Number.isNaN(d.getTime())) return '--:--:--?';
  const t = d.toISOString().slice(11, 19);
  return b.clock_status === ClockStatus.SYNCED ? t : `${t}?`;
}

/** hh:mm in a time zone; '--:--' when the body's zone or time is one no calendar has. */
function localHourMinute(ms: number, zone: string): string {
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));
  } catch (e) {
    if (e instanceof RangeError) return '--:--';
    throw e;
  }
}

/** Four significant digits is what a person reads at a glance. */
function num(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v);
}

const name = (table: Record<string, number>, v: number) =>
  (Object.keys(table).find((k) => table[k] === v) ?? String(v)).toLowerCase().replace(/_/g, '-');

export function formatRanges(ranges: readonly SeqRange[]): string {
  return ranges.map((r) => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`)).join(',');
}

function describe(b: DecodedBody): string {
  switch (b.kind) {
    case 'cross_section': {
      const cs = b.cross_section!;
      const parts = (cs.features ?? []).map((f) => `${f.code}=${num(f.value)}${f.unit}`);
      for (const e of cs.embeddings ?? []) parts.push(`${e.modality}:${e.encoder_name}[${e.dim}]`);
      if (cs.partial) parts.push('(partial)');
      return parts.length > 0 ? parts.join(' ') : '(no features)';
    }
    case 'exposure': {
      const x = b.exposure!;
      const parts = (x.accumulators ?? []).map((a) => `${a.code}=${num(a.value)}${a.unit}`);
      const covered = x.accumulators?.[0]?.covered_s;
      // The day so far, through the report's local time (24:00 for the day's final values).
      const through = x.final ? '24:00' : localHourMinute(Number(x.period_end_ms), x.time_zone || 'UTC');
      return [`${x.local_date} to ${through}${x.final ? ' final' : ''}`, covered === undefined ? '' : `(${num(covered / 3600)} h covered)`, ...parts].filter((p) => p !== '').join(' ');
    }
    case 'event': {
      const e = b.event!;
      const dose = e.dose ? ` ${num(e.dose)}${e.dose_unit ?? ''}` : '';
      const note = e.note ? ` "${e.note}"` : '';
      return `${name(EventKind, e.kind)}${e.code ? ' ' + e.code : ''}${dose}${note}`;
    }
    case 'status': {
      const s = b.status!;
      const extra = s.state === HubState.OFFLINE ? (s.reason ? ` (${s.reason})` : '') : (s.software_version ? ` v${s.software_version}` : '');
      return `${name(HubState, s.state)}${extra} last_seq=${s.last_seq ?? 0}`;
    }
    case 'gap': {
      const g = b.gap!;
      return `dropped ${formatRanges(g.dropped)} ${name(GapReason, g.reason)}`;
    }
    case 'command_result': {
      const r = b.command_result!;
      const outcome = r.outcome === CommandOutcome.REJECTED ? `rejected ${name(CommandRejection, r.rejection ?? 0)}` : name(CommandOutcome, r.outcome);
      return `${r.command.replace(/_/g, '-')} ${outcome}${r.detail ? `: ${r.detail}` : ''}`;
    }
  }
}

/** The lines to a stream (stdout for the demo); the stream stays open: it is the caller's. */
export class LineSink implements Sink {
  readonly #out: NodeJS.WritableStream;

  constructor(out: NodeJS.WritableStream = process.stdout) {
    this.#out = out;
  }

  write(frame: AcceptedFrame): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#out.write(formatLine(frame) + '\n', (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {}
}

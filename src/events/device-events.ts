/**
 * Events marked on a device: a profile's `events` rules turn a sample (a button press on a
 * serial box, a BTHome button object) into an intervention event, so that a patient can say
 * "medication taken" without a screen.
 *
 * A rule matches a sample of its channel whose value equals `when`. A press is one event however
 * many samples it makes: contacts bounce, firmware repeats a line, a held button sends the value
 * again and again. So a matching sample within `debounce_s` of the previous matching sample of
 * the same rule is part of the same press; the press ends once the rule has matched nothing for
 * `debounce_s`. Time is the hub's monotonic clock, so a wall-clock step never splits or merges
 * presses; the event's own time is the sample's wall time.
 */
import { randomUUID } from 'node:crypto';
import type { Event } from '../frames/codec.js';
import { checkCode, checkDose, checkKind, checkNote, checkUnit, type Checked } from './event-fields.js';
import type { FieldProblem } from './event-request.js';

/** A rule as a profile writes it (its YAML keys). */
export interface EventRuleSpec {
  readonly channel: string;
  readonly when: number | boolean;
  readonly kind: string;
  readonly code?: string;
  readonly dose?: number;
  readonly unit?: string;
  readonly note?: string;
  readonly debounce_s?: number;
}

/** A checked rule, as a compiled profile carries it. */
export interface DeviceEventRule {
  readonly channel: string;
  readonly when: number | boolean;
  /** frame.proto's EventKind. */
  readonly kind: number;
  readonly code: string | undefined;
  readonly dose: number | undefined;
  readonly doseUnit: string | undefined;
  readonly note: string | undefined;
  readonly debounceMs: number;
}

export const DEFAULT_DEBOUNCE_S = 2;

/**
 * Checks a rule's event fields with the same rules as a request to the hub. Problems name the
 * rule's key; the profile compiler places them at file:line. The channel is not checked here:
 * only the profile knows its channels.
 */
export function compileEventRule(spec: EventRuleSpec): { rule: DeviceEventRule } | { problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const take = <T>(field: string, c: Checked<T>): T | undefined => {
    if (c.ok) return c.value;
    problems.push({ field, message: c.problem });
    return undefined;
  };
  const kind = take('kind', checkKind(spec.kind));
  const code = spec.code === undefined || kind === undefined ? undefined : take('code', checkCode(spec.code, kind));
  const dose = spec.dose === undefined ? undefined : take('dose', checkDose(spec.dose));
  const unit = spec.unit === undefined ? undefined : take('unit', checkUnit(spec.unit));
  if (spec.dose !== undefined && spec.unit === undefined) problems.push({ field: 'dose', message: "a dose needs its unit: add unit (UCUM, e.g. 'mg')" });
  if (spec.unit !== undefined && spec.dose === undefined) problems.push({ field: 'unit', message: 'a unit was given without a dose' });
  const note = spec.note === undefined ? undefined : take('note', checkNote(spec.note));
  if (problems.length > 0) return { problems };
  return {
    rule: {
      channel: spec.channel, when: spec.when, kind: kind!, code, dose, doseUnit: dose === undefined ? undefined : unit, note,
      debounceMs: (spec.debounce_s ?? DEFAULT_DEBOUNCE_S) * 1000,
    },
  };
}

/** What the mapper reads of a sample; profiles' TimedSample is one. */
export interface TimedValue {
  readonly channel: string;
  readonly value: number | readonly number[] | boolean;
  /** Hub monotonic time, ms. */
  readonly monoMs: number;
  /** Hub wall clock, Unix ms. */
  readonly wallMs: number;
}

const NONE: readonly Event[] = Object.freeze([]);

/**
 * One device's rules and their debounce state. Make one per device (per device id) when it is
 * set up, and give it every batch of that device's timed samples in time order; it is not
 * shared between devices, and `map` is never called concurrently (it is synchronous).
 */
export class DeviceEventMapper {
  readonly #rules: readonly DeviceEventRule[];
  readonly #channels: ReadonlySet<string>;
  readonly #source: string;
  readonly #newId: () => string;
  /** Per rule, the monotonic time of its last matching sample. */
  readonly #last: number[];

  constructor(rules: readonly DeviceEventRule[], deviceId: string, newId: () => string = randomUUID) {
    this.#rules = rules;
    this.#channels = new Set(rules.map((r) => r.channel));
    this.#source = `device:${deviceId}`;
    this.#newId = newId;
    this.#last = rules.map(() => -Infinity);
  }

  /** Whether any rule exists: a device without rules need not be given its samples. */
  get active(): boolean {
    return this.#rules.length > 0;
  }

  /**
   * The events that `samples` mark, in sample order. Returns a shared empty array when there
   * are none, so a device streaming data allocates nothing here.
   */
  map(samples: readonly TimedValue[]): readonly Event[] {
    let out: Event[] | undefined;
    for (const s of samples) {
      if (!this.#channels.has(s.channel)) continue;
      for (let i = 0; i < this.#rules.length; i++) {
        const r = this.#rules[i]!;
        if (r.channel !== s.channel || s.value !== r.when) continue;
        const last = this.#last[i]!;
        this.#last[i] = Math.max(last, s.monoMs);
        // A sample older than the last match (out of order) is part of that press too.
        if (s.monoMs - last < r.debounceMs) continue;
        (out ??= []).push(this.#event(r, s));
      }
    }
    return out ?? NONE;
  }

  /** Forgets the presses in progress: after the device went away, the next match is a new press. */
  reset(): void {
    this.#last.fill(-Infinity);
  }

  #event(r: DeviceEventRule, s: TimedValue): Event {
    return {
      event_id: this.#newId(),
      kind: r.kind,
      at_ms: Math.round(s.wallMs),
      source: this.#source,
      ...(r.code !== undefined ? { code: r.code } : {}),
      ...(r.dose !== undefined ? { dose: r.dose, dose_unit: r.doseUnit! } : {}),
      ...(r.note !== undefined ? { note: r.note } : {}),
    };
  }
}

/**
 * One subject's exposures: a stream per kind of input (light, breathing, movement), and the
 * reports they make together, one at every period boundary and one at each local midnight with
 * the day's final values.
 *
 * Time: for a replayed capture, `now` is the latest sample time seen, so that the reports depend
 * on the samples alone, at any speed. On a live hub, `now` is the wall clock less a grace, given
 * to `advance` by a timer: devices deliver at their own pace (a BLE notification carries a
 * batch), and one stream running ahead of another must not make the other look stopped.
 * A report for boundary B goes out once `now` has reached B and every stream has passed B, or
 * has nothing before B, or has been silent longer than its gap limit (it has stopped: what it
 * has is all there is). Replayed samples thus give the same reports at any speed, and the
 * reports depend only on the samples.
 *
 * Exactly once: `takeReports` returns the reports due together with this object's whole state
 * as it stands after them. The hub stores that state in the same atomic outbox batch as the
 * reports' frames; after a crash it builds the object again from the stored state, and samples
 * at or before each stream's last one are ignored, so replaying an input from its start counts
 * nothing twice and skips nothing that was not reported.
 */
import type { Accumulator, Exposure } from '../frames/codec.js';
import type { TimedSample } from '../profiles/timing.js';
import { ActivityStream, type ActivityOptions, type ActivityStreamState } from './activity-exposure.js';
import { BreathStream, type BreathOptions, type BreathStreamState } from './breath-exposure.js';
import { boundaryAfter, type Boundaries, type DayLedger } from './day-ledger.js';
import { LightStream, type LightOptions, type LightStreamState } from './light-exposure.js';
import { LocalDayCache } from './local-days.js';

export interface SubjectExposureOptions {
  readonly timeZone: string;
  readonly periodMs: number;
  /** Present when the subject has a device with an `illuminance` channel. */
  readonly light?: LightOptions;
  /** Present when the subject has a `resp` channel with a rate. */
  readonly breaths?: BreathOptions;
  /** Present when the subject has `acc_x`, `acc_y` and `acc_z` channels (in g) with a rate. */
  readonly activity?: ActivityOptions;
}

export interface SubjectExposureState {
  /** What the streams were made with: a state saved with other options is not taken up. */
  options: string;
  /** The next boundary to report; absent before the first sample. */
  next?: number;
  /** The latest sample time seen (or wall time given to `advance`). */
  now?: number;
  light?: LightStreamState;
  breaths?: BreathStreamState;
  activity?: ActivityStreamState;
  /** Samples ignored for being at or before their stream's last one. */
  late: number;
}

interface Stream {
  readonly ledger: DayLedger<object>;
  /** Time has reached `now`: a stream waiting on a sample's end may settle it. */
  advance(now: number): void;
  /** Whether the stream has stopped: silent for longer than its gap limit before `now`. */
  stoppedAt(now: number): boolean;
  report(values: object): Accumulator[];
}

const AXES: Record<string, 0 | 1 | 2> = { acc_x: 0, acc_y: 1, acc_z: 2 };

/** g from a sample's unit; undefined for a unit that is not an acceleration in g. */
function inG(value: number, unit: string): number | undefined {
  return unit === '[g]' ? value : unit === 'm[g]' ? value / 1000 : undefined;
}

export interface ExposureReports {
  readonly reports: Exposure[];
  /** The state after these reports, to be stored with them. */
  readonly state: SubjectExposureState;
}

export class SubjectExposure {
  readonly #o: SubjectExposureOptions;
  readonly #b: Boundaries;
  readonly #s: SubjectExposureState;
  readonly #light: LightStream | undefined;
  readonly #breaths: BreathStream | undefined;
  readonly #activity: ActivityStream | undefined;
  readonly #streams: Stream[] = [];
  readonly #days: LocalDayCache;
  #due: Exposure[] = [];

  readonly #timeFromSamples: boolean;

  /** `timeFromSamples` false: time moves only by `advance` (a live hub's wall clock). */
  constructor(o: SubjectExposureOptions, state?: SubjectExposureState, timeFromSamples = true) {
    this.#o = o;
    this.#timeFromSamples = timeFromSamples;
    this.#b = { timeZone: o.timeZone, periodMs: o.periodMs };
    const options = JSON.stringify(o);
    const s = state && state.options === options ? structuredClone(state) : { options, late: 0 };
    this.#s = s;
    this.#days = new LocalDayCache(o.timeZone);
    if (o.light) {
      const light = new LightStream(o.light, this.#b, s.light);
      this.#light = light;
      const maxGap = o.light.maxGapMs;
      this.#streams.push({
        ledger: light.ledger as DayLedger<object>,
        advance: (now) => light.advance(now),
        stoppedAt: (now) => light.settled || now - (light.state().last ?? -Infinity) > maxGap,
        report: (v) => light.report(v as never),
      });
    }
    if (o.breaths) {
      const breaths = new BreathStream(o.breaths, this.#b, s.breaths);
      this.#breaths = breaths;
      this.#streams.push({ ledger: breaths.ledger as DayLedger<object>, advance: () => {}, stoppedAt: (now) => breaths.stoppedAt(now), report: (v) => breaths.report(v as never) });
    }
    if (o.activity) {
      const activity = new ActivityStream(o.activity, this.#b, s.activity);
      this.#activity = activity;
      this.#streams.push({ ledger: activity.ledger as DayLedger<object>, advance: (now) => activity.advance(now), stoppedAt: (now) => activity.stoppedAt(now), report: (v) => activity.report(v as never) });
    }
  }

  /** Whether a saved state would be taken up (false: saved with other options). */
  static resumes(o: SubjectExposureOptions, state: SubjectExposureState | undefined): boolean {
    return state !== undefined && state.options === JSON.stringify(o);
  }

  /** Samples of one device, in time order. Channels that feed no exposure are passed over. */
  add(samples: readonly TimedSample[]): void {
    for (const s of samples) {
      if (typeof s.value !== 'number') continue;
      let taken: boolean;
      if (s.channel === 'illuminance' && this.#light) taken = this.#light.push(s.wallMs, s.value);
      else if (s.channel === 'resp' && this.#breaths) taken = this.#breaths.push(s.wallMs, s.value);
      else if (AXES[s.channel] !== undefined && this.#activity) {
        const g = inG(s.value, s.unit);
        if (g === undefined) continue;
        taken = this.#activity.push(AXES[s.channel]!, s.wallMs, g);
      } else continue;
      if (!taken) {
        this.#s.late++;
        continue;
      }
      this.#s.next ??= boundaryAfter(s.wallMs, this.#b);
      // Sample by sample, so that the reports do not depend on how the samples were batched; a
      // lagging stream's sample can make a report ready without moving time on.
      if (this.#timeFromSamples) this.advance(s.wallMs);
    }
  }

  /** Time has reached `now`: streams silent past their gap limit stop, and due reports are made. */
  advance(now: number, reportUntil = now): void {
    if (this.#s.now === undefined || now > this.#s.now) this.#s.now = now;
    now = this.#s.now;
    for (const st of this.#streams) st.advance(now);
    const limit = Math.min(now, reportUntil);
    // The common case, sample after sample between two boundaries: nothing to check.
    if (this.#s.next === undefined || this.#s.next > limit) return;
    const due = (at: number | undefined): at is number => at !== undefined && at <= limit && this.#streams.every((st) => this.#ready(st, at, now));
    while (due(this.#s.next)) {
      const at = this.#s.next;
      this.#s.next = boundaryAfter(at, this.#b);
      // Several period reports due at once (the sensors fell silent for hours, a capture has a
      // hole, the clock was set forward): each would repeat the next, so only the last before a
      // midnight goes out, and each day's final one.
      if (at !== this.#days.of(at - 1).endMs && due(this.#s.next)) {
        for (const st of this.#streams) st.ledger.take(at, false);
        continue;
      }
      this.#due.push(this.#report(at));
    }
  }

  #ready(st: Stream, at: number, now: number): boolean {
    const first = st.ledger.firstMs;
    return first === undefined || first >= at || st.ledger.passed(at) || st.stoppedAt(now);
  }

  #report(at: number): Exposure {
    const day = this.#days.of(at - 1);
    const final = at === day.endMs;
    const accumulators = this.#streams.flatMap((st) => st.report(st.ledger.take(at, final)));
    return { period_start_ms: day.startMs, period_end_ms: at, time_zone: this.#o.timeZone, local_date: day.date, final, accumulators };
  }

  /** The whole state as it stands, a copy: plain JSON. */
  #snapshot(): SubjectExposureState {
    return structuredClone({
      ...this.#s,
      ...(this.#light ? { light: this.#light.state() } : {}),
      ...(this.#breaths ? { breaths: this.#breaths.state() } : {}),
      ...(this.#activity ? { activity: this.#activity.state() } : {}),
    });
  }

  /** The reports made since the last call, with the state to store beside them. */
  takeReports(): ExposureReports | undefined {
    if (this.#due.length === 0) return undefined;
    const reports = this.#due;
    this.#due = [];
    return { reports, state: this.#snapshot() };
  }

  /** Samples ignored as repeats or late since this state began. */
  get late(): number {
    return this.#s.late;
  }

  /**
   * The input has ended: streams stop (a waiting sample stands for one period), and the reports
   * up to the end of the last sample's local day are made, its day closed as it stands (its
   * covered time says how much of it was measured). For `twinedge exposure` and tests.
   */
  finish(): Exposure[] {
    const last = this.#s.now;
    if (last === undefined) return [];
    for (const st of this.#streams) st.advance(Infinity);
    const end = this.#days.of(last).endMs;
    // Past every gap limit, so that each stream counts as stopped; reports only to the day's end.
    const gaps = [this.#o.light?.maxGapMs ?? 0, this.#o.breaths?.maxGapMs ?? 0, this.#o.activity?.maxGapMs ?? 0];
    this.advance(end + Math.max(...gaps) + 1, end);
    const out = this.#due;
    this.#due = [];
    return out;
  }
}

/**
 * Light exposure per local day, accumulated from the samples themselves as they stream in (not
 * from window means).
 *
 * Each sample stands for the time until the next one, its epoch; a gap longer than `maxGapMs`
 * is not bridged: the sample before it stands for one nominal period only. So a day with the
 * sensor off is not a dark day: `covered_s` says how much of it was measured, beside every value.
 * An epoch that runs over local midnight is split there, each part counted in its own day. A
 * sample's epoch is known only when the next sample comes (or when `maxGapMs` has passed without
 * one), so the last sample waits, `pending`.
 *
 * Definitions (conventions as the light-dosimetry literature and its tools use them):
 * - light.dose (lx.h): the sum over samples of illuminance x epoch.
 * - light.tat<C> (min): time at or above C lx: the epochs of samples with illuminance >= C (a
 *   sample at exactly C counts); the sum of epochs, not the time from first to last.
 * - light.flit<C>, light.llit<C> (min after local midnight): the local clock time of the first
 *   and last sample at or above C lx. light.mlit<C>: the mean local clock time of the samples at
 *   or above C, each weighted by its epoch (Reid et al., 2014, "Timing and intensity of light
 *   correlate with body weight in adults", PLoS ONE 9(4): e92251, mean timing of light above
 *   threshold). Local clock time reads the clock on the wall: on a daylight-saving day, 03:30
 *   is 210 min even though 150 min have passed since midnight.
 * - light.lan<C> (min): light at night: the epochs of samples above C lx whose local clock time
 *   is in the night (from `nightStartMin` to `nightEndMin` after midnight, across midnight).
 * - light.dose.hl<H> (lx.h): the dose decayed exponentially with half-life H, as it stands at
 *   the report's time: the sum of illuminance x epoch x 2^(-(t_report - t_epoch) / H), carried
 *   across days (it is never reset at midnight).
 */
import { DayLedger, type Boundaries, type DayLedgerState } from './day-ledger.js';
import { LocalDayCache } from './local-days.js';
import type { Accumulator } from '../frames/codec.js';

export interface LightOptions {
  readonly thresholdLx: number;
  readonly nightThresholdLx: number;
  readonly nightStartMin: number;
  readonly nightEndMin: number;
  /** The sensor's nominal sample period: what a sample before a gap stands for. */
  readonly epochMs: number;
  /** Longest interval a sample may stand for; a longer one is a gap. */
  readonly maxGapMs: number;
  /** Half-lives of the decayed doses, in ms. */
  readonly halfLivesMs: readonly number[];
}

/** One day's sums, in ms and lx.ms so that nothing is rounded until it is reported. */
export interface LightDayValues {
  covered: number;
  dose: number;
  tat: number;
  lan: number;
  flit?: number;
  llit?: number;
  mlitSum: number;
  mlitWeight: number;
  /** The decayed doses at the checkpoint (lx.h), one per half-life; set only on checkpoints. */
  decayed?: number[];
}

export interface LightStreamState {
  ledger: DayLedgerState<LightDayValues>;
  /** The last sample, waiting for its epoch: [time, lx]. */
  pending?: [number, number];
  /** The time of the last sample taken; a sample at or before it is a repeat or late. */
  last?: number;
  /** Per half-life: the decayed dose (lx.h) as it stood at time `at`. */
  decay: Array<{ value: number; at: number }>;
}

const emptyDay = (): LightDayValues => ({ covered: 0, dose: 0, tat: 0, lan: 0, mlitSum: 0, mlitWeight: 0 });

export class LightStream {
  readonly #o: LightOptions;
  readonly #b: Boundaries;
  readonly #s: LightStreamState;
  readonly #ledger: DayLedger<LightDayValues>;
  readonly #days: LocalDayCache;

  constructor(o: LightOptions, b: Boundaries, state?: LightStreamState) {
    this.#o = o;
    this.#b = b;
    this.#s = state ?? { ledger: { days: {}, checkpoints: [] }, decay: o.halfLivesMs.map(() => ({ value: 0, at: 0 })) };
    this.#ledger = new DayLedger(b, emptyDay, this.#s.ledger, (at) => ({ decayed: this.#decayedAt(at) }));
    this.#days = new LocalDayCache(b.timeZone);
  }

  state(): LightStreamState {
    return this.#s;
  }

  get ledger(): DayLedger<LightDayValues> {
    return this.#ledger;
  }

  /** Takes one sample; returns false for one at or before the last (a repeat after a restart, or late). */
  push(t: number, lx: number): boolean {
    if (this.#s.last !== undefined && t <= this.#s.last) return false;
    if (this.#s.pending) this.#resolve(t);
    this.#ledger.advanceTo(t);
    this.#s.pending = [t, lx];
    this.#s.last = t;
    return true;
  }

  /**
   * Time has reached `now` (the wall clock, or the latest sample of the subject): a sample still
   * waiting after the gap limit stood for one nominal period, and nothing more will come before
   * `now - maxGapMs`.
   */
  advance(now: number): void {
    const p = this.#s.pending;
    if (p && now - p[0] > this.#o.maxGapMs) {
      this.#resolve(Infinity);
      this.#ledger.advanceTo(p[0] + this.#o.epochMs);
    }
  }

  /** Whether nothing waits: every sample taken is counted. */
  get settled(): boolean {
    return this.#s.pending === undefined;
  }

  /** The pending sample's epoch ends at the next sample (`next`), or one period on across a gap. */
  #resolve(next: number): void {
    const [t, lx] = this.#s.pending!;
    this.#s.pending = undefined;
    const d = next - t;
    const end = d > this.#o.maxGapMs ? t + this.#o.epochMs : next;
    let start = t;
    // Split at local midnights, each part counted in its own day.
    while (start < end) {
      const day = this.#days.of(start);
      const partEnd = Math.min(end, day.endMs);
      this.#add(day.date, start, partEnd - start, lx);
      start = partEnd;
    }
  }

  #add(date: string, start: number, ms: number, lx: number): void {
    const o = this.#o;
    const v = this.#ledger.day(date);
    v.covered += ms;
    v.dose += lx * ms;
    const clock = this.#days.clockMinutes(start);
    if (lx >= o.thresholdLx) {
      v.tat += ms;
      v.flit ??= clock;
      v.llit = clock;
      v.mlitSum += clock * ms;
      v.mlitWeight += ms;
    }
    const night = o.nightStartMin > o.nightEndMin ? clock >= o.nightStartMin || clock < o.nightEndMin : clock >= o.nightStartMin && clock < o.nightEndMin;
    if (lx > o.nightThresholdLx && night) v.lan += ms;
    for (const [i, hl] of o.halfLivesMs.entries()) {
      const d = this.#s.decay[i]!;
      d.value = d.value * 2 ** (-(start - d.at) / hl) + (lx * ms) / 3_600_000;
      d.at = start;
    }
  }

  #decayedAt(at: number): number[] {
    return this.#o.halfLivesMs.map((hl, i) => {
      const d = this.#s.decay[i]!;
      return d.value * 2 ** (-(at - d.at) / hl);
    });
  }

  /** A day's values as reported: codes, values in their units, the covered time. */
  report(v: LightDayValues): Accumulator[] {
    const o = this.#o;
    const c = String(o.thresholdLx);
    const covered_s = v.covered / 1000;
    const out: Accumulator[] = [
      { code: 'light.dose', value: v.dose / 3_600_000, unit: 'lx.h', covered_s },
      { code: `light.tat${c}`, value: v.tat / 60_000, unit: 'min', covered_s },
    ];
    if (v.flit !== undefined) out.push({ code: `light.flit${c}`, value: v.flit, unit: 'min', covered_s });
    if (v.llit !== undefined) out.push({ code: `light.llit${c}`, value: v.llit, unit: 'min', covered_s });
    if (v.mlitWeight > 0) out.push({ code: `light.mlit${c}`, value: v.mlitSum / v.mlitWeight, unit: 'min', covered_s });
    out.push({ code: `light.lan${String(o.nightThresholdLx)}`, value: v.lan / 60_000, unit: 'min', covered_s });
    for (const [i, hl] of o.halfLivesMs.entries()) {
      out.push({ code: `light.dose.hl${halfLifeLabel(hl)}`, value: v.decayed?.[i] ?? 0, unit: 'lx.h', covered_s, half_life_s: hl / 1000 });
    }
    return out;
  }
}

/** 86_400_000 -> '24h', 5_400_000 -> '90min': the half-life as the code names it. */
export function halfLifeLabel(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}min`;
}

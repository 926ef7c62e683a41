import type { Clock } from '../ops/clock.js';
import type { CrossSection, Feature } from '../frames/codec.js';
import type { FrameSource, ProducedFrame } from './frame-source.js';
import { mulberry32 } from '../ops/prng.js';

export interface SimulatedSourceOptions {
  subjects: readonly string[];
  windowMs: number;
  clock: Clock;
  /** Seeded so that tests and demos are repeatable. */
  seed?: number;
}


interface SubjectState { hr: number; rmssd: number; spo2: number; resp: number; enmo: number; light: number; temp: number }

/**
 * Stands in for the device layers: per subject, one cross-section per tumbling window aligned to
 * the wall clock, with features that drift like a resting adult's (HR 55-85 /min, RMSSD 20-60 ms,
 * SpO2 94-99 %, breathing 12-18 /min). The shape of the frames is the real one.
 */
export class SimulatedSource implements FrameSource {
  readonly name = 'simulated';
  readonly #o: SimulatedSourceOptions;
  readonly #rand: () => number;
  readonly #state = new Map<string, SubjectState>();
  #timer: NodeJS.Timeout | undefined;
  #emit: ((frames: readonly ProducedFrame[]) => Promise<void>) | undefined;
  #windowStart = 0;
  #inflight: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: SimulatedSourceOptions) {
    this.#o = options;
    this.#rand = mulberry32(options.seed ?? 1);
    for (const s of options.subjects) {
      this.#state.set(s, { hr: 64, rmssd: 38, spo2: 97, resp: 14, enmo: 12, light: 180, temp: 36.6 });
    }
  }

  start(emit: (frames: readonly ProducedFrame[]) => Promise<void>): void {
    this.#emit = emit;
    const w = this.#o.windowMs;
    this.#windowStart = Math.floor(this.#o.clock.wallMs() / w) * w;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    const end = this.#windowStart + this.#o.windowMs;
    this.#timer = setTimeout(() => this.#closeWindow(end, false), Math.max(0, end - this.#o.clock.wallMs()));
  }

  #closeWindow(end: number, partial: boolean): void {
    const start = this.#windowStart;
    this.#windowStart = end;
    const frames = this.#o.subjects.map((s) => ({ subjectRef: s, payload: { cross_section: this.#window(s, start, end, partial) } }));
    this.#inflight = this.#inflight.then(() => this.#emit!(frames));
    // Do not let a failed append stop the timer; the hub logs append failures.
    this.#inflight = this.#inflight.catch(() => {});
    this.#schedule();
  }

  #walk(v: number, step: number, lo: number, hi: number): number {
    const next = v + (this.#rand() - 0.5) * 2 * step;
    return Math.min(hi, Math.max(lo, next));
  }

  #window(subject: string, start: number, end: number, partial: boolean): CrossSection {
    const st = this.#state.get(subject)!;
    st.hr = this.#walk(st.hr, 1.5, 55, 85);
    st.rmssd = this.#walk(st.rmssd, 2, 20, 60);
    st.spo2 = this.#walk(st.spo2, 0.3, 94, 99);
    st.resp = this.#walk(st.resp, 0.4, 12, 18);
    st.enmo = this.#walk(st.enmo, 3, 0, 80);
    st.light = this.#walk(st.light, 25, 0, 1000);
    st.temp = this.#walk(st.temp, 0.05, 36.1, 37.4);
    const coverage = partial ? Math.max(0, Math.min(1, (this.#o.clock.wallMs() - start) / (end - start))) : 0.98 + this.#rand() * 0.02;
    const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
    const features: Feature[] = [
      { code: 'hr.mean', value: round(st.hr, 1), unit: '/min', standard_code: 'MDC:MDC_ECG_HEART_RATE', coverage, n: Math.round((st.hr * (end - start)) / 60000) },
      { code: 'hrv.rmssd', value: round(st.rmssd, 1), unit: 'ms', coverage },
      { code: 'spo2.mean', value: round(st.spo2, 1), unit: '%', standard_code: 'LOINC:59408-5', coverage },
      { code: 'resp.rate', value: round(st.resp, 1), unit: '/min', standard_code: 'LOINC:9279-1', coverage },
      { code: 'activity.enmo', value: round(st.enmo, 1), unit: 'mg', coverage },
      { code: 'light.mean', value: round(st.light, 0), unit: 'lx', coverage },
      { code: 'temperature.mean', value: round(st.temp, 2), unit: 'Cel', coverage },
    ];
    return {
      window_start_ms: start,
      window_end_ms: end,
      window_start_mono_ms: Math.max(0, Math.round(this.#o.clock.monoMs() - (this.#o.clock.wallMs() - start))),
      partial,
      features,
      sources: [
        { device_id: `sim:${subject}:chest-strap`, profile_id: 'bluetooth-sig/heart-rate', profile_version: 'simulated', channels: ['hr', 'rr'] },
        { device_id: `sim:${subject}:oximeter`, profile_id: 'bluetooth-sig/pulse-oximeter', profile_version: 'simulated', channels: ['spo2', 'pulse_rate'] },
      ],
      quality: [
        { modality: 'cardiac', coverage },
        { modality: 'oximetry', coverage },
      ],
    };
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#emit && this.#o.clock.wallMs() > this.#windowStart) this.#closeWindow(this.#windowStart + this.#o.windowMs, true);
    await this.#inflight;
  }
}

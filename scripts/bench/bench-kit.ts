// What every scripts/bench/*.bench.ts scenario uses: the result row, measuring helpers, a local
// mosquitto, and the raw MQTT baseline (bare mqtt.js QoS 1 publishes).
import mqtt from 'mqtt';
import { MosquittoBroker, type MosquittoOptions } from '../../test/helpers/mosquitto.js';

/** One figure beside its raw baseline, measured in the same run (DESIGN.md, Benchmarks). */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  /** value / baseline: above 1 the hub's path is faster than the baseline (for rates). */
  ratio: number;
}

/** What run.ts gives each scenario's `run(ctx)`. */
export interface BenchContext {
  /** Times each figure is measured; scenarios report the median. */
  readonly repeats: number;
  /**
   * URL of the local mosquitto that run.ts shares between scenarios (persistence on, queue
   * raised). Reading it throws when mosquitto is not installed. A scenario that stops or
   * restarts its broker starts its own with startMosquittoForBench().
   */
  readonly brokerUrl: string;
  /** Whether the row `name` was asked for (`--only`); a scenario may skip measuring the others. */
  wants(name: string): boolean;
}

/** A scripts/bench/<scenario>.bench.ts module. */
export interface Scenario {
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

/** A result row; ratio = value / baseline. */
export function result(name: string, unit: string, value: number, baseline: number): BenchResult {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline <= 0) {
    throw new RangeError(`${name}: value ${value} and baseline ${baseline} must be finite, the baseline positive`);
  }
  return { name, value: round(value), unit, baseline: round(baseline), ratio: Math.round((value / baseline) * 1000) / 1000 };
}

/** Three significant digits or whole units, whichever keeps more: enough for rates that vary by a few %. */
function round(x: number): number {
  return Math.abs(x) >= 100 ? Math.round(x) : Number(x.toPrecision(3));
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface MeasureOptions {
  /** Untimed runs first (JIT, caches, broker warm-up). Default 1. */
  warmup?: number;
  /** Timed runs; the median is kept. Default 3. */
  repeats?: number;
}

/** Runs `sample` (which returns a rate) after a warm-up, `repeats` times; the median and every sample. */
export async function measure(sample: () => number | Promise<number>, options: MeasureOptions = {}): Promise<{ median: number; samples: number[] }> {
  for (let i = 0; i < (options.warmup ?? 1); i++) await sample();
  const samples: number[] = [];
  for (let i = 0; i < (options.repeats ?? 3); i++) samples.push(await sample());
  return { median: median(samples), samples };
}

/**
 * Measures `subject` and `baseline` alternately, `repeats` times each, so that both see the same
 * machine state (a turbo clock that fades, a broker whose database grows); returns the medians.
 * `warmup` rounds of both run first, untimed (default 0: these runs are often long already).
 */
export async function sideBySide(
  repeats: number,
  subject: () => number | Promise<number>,
  baseline: () => number | Promise<number>,
  options: { warmup?: number } = {},
): Promise<{ value: number; baseline: number }> {
  for (let i = 0; i < (options.warmup ?? 0); i++) {
    await baseline();
    await subject();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < repeats; i++) {
    b.push(await baseline());
    a.push(await subject());
  }
  return { value: median(a), baseline: median(b) };
}

/**
 * Calls of a synchronous function per second: warm-up for `warmupMs`, then as many calls as fit
 * in at least `minMs`, timed in blocks so that reading the clock costs little.
 */
export function opsPerSecond(fn: (i: number) => void, options: { warmupMs?: number; minMs?: number } = {}): number {
  const block = 256;
  let i = 0;
  const warmEnd = performance.now() + (options.warmupMs ?? 200);
  while (performance.now() < warmEnd) for (let k = 0; k < block; k++) fn(i++);
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  const minMs = options.minMs ?? 1000;
  while (t - t0 < minMs) {
    for (let k = 0; k < block; k++) fn(n++);
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

/**
 * A local mosquitto for a benchmark: the tests' broker (a free loopback port, persistence on,
 * the per-client queue raised), which the caller closes. Rejects naming the package when
 * mosquitto is not installed.
 */
export function startMosquittoForBench(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  return MosquittoBroker.start(options);
}

export interface BareQos1Options {
  /** Default `twin/v1/bench-bare/bench-subject/cross_section`. */
  topic?: string;
  /** MQTT protocol version; default 4 (3.1.1), as the hub's publisher uses. */
  protocolVersion?: 4 | 5;
}

/**
 * The raw MQTT baseline: one plain mqtt.js client publishes `payloads` in order at QoS 1 with at
 * most `window` unacknowledged, and resolves when every PUBACK has arrived. Returns messages per
 * second, timed from the first publish (the connection is made before) to the last PUBACK.
 */
export async function bareQos1Publish(url: string, payloads: readonly Uint8Array[], window = 512, options: BareQos1Options = {}): Promise<number> {
  if (payloads.length === 0) throw new RangeError('bareQos1Publish: no payloads');
  if (!(window >= 1)) throw new RangeError(`bareQos1Publish: window must be at least 1, got ${window}`);
  const topic = options.topic ?? 'twin/v1/bench-bare/bench-subject/cross_section';
  const client = await mqtt.connectAsync(url, {
    clientId: `bench-bare-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
    clean: true,
    reconnectPeriod: 0,
    protocolVersion: options.protocolVersion ?? 4,
  });
  let acked = 0;
  let failed = false;
  let fail: (e: Error) => void = () => {};
  const onClose = () => { if (acked < payloads.length) fail(new Error(`connection closed after ${acked} of ${payloads.length} PUBACKs`)); };
  const onError = (e: Error) => fail(e);
  client.on('close', onClose);
  client.on('error', onError);
  try {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      let sent = 0;
      fail = (e: Error) => {
        if (failed) return;
        failed = true;
        reject(e);
      };
      const pump = () => {
        while (!failed && sent < payloads.length && sent - acked < window) {
          client.publish(topic, payloads[sent++] as Buffer, { qos: 1 }, (err) => {
            if (err) return fail(err);
            if (++acked === payloads.length) resolve();
            else pump();
          });
        }
      };
      pump();
    });
    return payloads.length / ((performance.now() - t0) / 1000);
  } finally {
    client.off('close', onClose);
    await client.endAsync(failed);
    client.off('error', onError);
  }
}

/**
 * Prometheus metrics, the twinedge way: every stage keeps its own plain counters (a number field,
 * a map by code) at no more cost than an increment, and metrics read them when scraped. Nothing
 * here runs per sample.
 *
 * Two kinds of registry: one per hub (src/hub/hub-metrics.ts), so that two hubs in a process, or
 * the tests, never share a metric; and one for the process (prom-client's default metrics: RSS,
 * CPU, heap, GC, event-loop delay), made once, since there is one process whatever the number of
 * hubs in it.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** The Content-Type of the text exposition format prom-client writes. */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

let processRegistry: Registry | undefined;

/**
 * The process's metrics (prom-client's defaults, standard names without our prefix so that
 * existing Node.js dashboards read them), made on first use. The event-loop delay comes from
 * perf_hooks.monitorEventLoopDelay: `nodejs_eventloop_lag_p99_seconds` and its siblings cover the
 * time since the previous scrape (of any hub in the process) and include the 10 ms sampling
 * resolution; `nodejs_eventloop_lag_seconds` is one setImmediate round trip measured at a scrape
 * and shown at the next one.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** A label set: names to values. */
export type Labels = Readonly<Record<string, string>>;

/**
 * Sets a counter to totals counted elsewhere: at scrape time, in the metric's `collect`. The
 * label sets not given this time go away (a device removed from the config on a reload), so a
 * counter shows exactly the rows given. Totals only grow while the process runs, which is what
 * Prometheus expects of a counter.
 */
export function mirrorCounter(counter: Counter, rows: Iterable<readonly [Labels, number]>): void {
  counter.reset();
  for (const [labels, value] of rows) counter.inc(labels, value);
}

/** As mirrorCounter, for gauges. */
export function mirrorGauge(gauge: Gauge, rows: Iterable<readonly [Labels, number]>): void {
  gauge.reset();
  for (const [labels, value] of rows) gauge.set(labels, value);
}

/** Both text expositions, the hub's then the process's, as one scrape answer. */
export async function exposition(...registries: Registry[]): Promise<string> {
  return Registry.merge(registries).metrics();
}

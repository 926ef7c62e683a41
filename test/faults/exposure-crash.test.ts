// Exposure exactly once: a fixed capture of a light sensor, two hours across a local midnight
// in Europe/Paris, is replayed through the real daemon (`twinedge run`), which is SIGKILLed at
// random moments many times and restarted on the same data folder each time. Every exposure
// report (each five-minute report and the day's final one) reaches the receiver exactly once,
// and its values equal those of an uninterrupted run of the same capture, to the last digit.
// The capture's one-minute cross-section windows, too, arrive once each with the same features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Exposure } from '../../src/frames/codec.js';
import { generateHubKey, writeKeyFiles, type HubKey } from '../../src/frames/keys.js';
import { mulberry32 } from '../../src/ops/prng.js';
import { silentLogger } from '../../src/ops/log.js';
import { Receiver } from '../../src/receiver/receiver.js';
import type { Sink } from '../../src/receiver/sinks/sink.js';
import { TrustStore } from '../../src/receiver/trust.js';
import { startAedes } from '../helpers/aedes.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
// 23:00 CEST on 1 June 2026; the capture runs to 01:00 on 2 June.
const START = Date.UTC(2026, 5, 1, 21);
const SECONDS = 2 * 3600;
const LAST_REPORT = START + SECONDS * 1000 - 5 * 60_000;

/** An evening: a lamp that dims, darkness from 23:40, a bathroom light at 00:20 for three minutes. */
function lux(s: number): number {
  if (s < 40 * 60) return 320 - s * 0.1 + (s % 7) * 1.37;
  if (s >= 80 * 60 && s < 83 * 60) return 412.5 + (s % 3);
  return s % 11 === 0 ? 0.83 : 0;
}

async function writeCapture(file: string): Promise<void> {
  const lines = [JSON.stringify({ format: 'twinedge-capture', version: 1, device: 'serial:/dev/ttyACM0', profile: 'generic/bh1750-light', serial: { path: '/dev/ttyACM0', baud_rate: 9600 }, started_wall_ms: START, started_mono_ms: 0 })];
  for (let s = 0; s < SECONDS; s++) lines.push(`{"t":${s * 1000 + 3},"hex":"${Buffer.from(`Light: ${lux(s).toFixed(2)} lx\r\n`).toString('hex')}"}`);
  await writeFile(file, `${lines.join('\n')}\n`);
}

async function hubConfig(dir: string, hubId: string, url: string, capture: string, key: HubKey): Promise<string> {
  await writeKeyFiles(join(dir, hubId), key);
  const file = join(dir, `${hubId}.yaml`);
  await writeFile(file, [
    'hub:', `  id: ${hubId}`, `  data_dir: ${join(dir, `${hubId}-data`)}`, `  key_file: ${join(dir, `${hubId}.key`)}`,
    'subjects:', '  - ref: s1', '    time_zone: Europe/Paris',
    'broker:', `  url: ${url}`, '  reconnect_min_ms: 50', '  reconnect_max_ms: 200',
    'devices:', '  - profile: generic/bh1750-light', '    replay:', `      file: ${capture}`, '      speed: 1500',
    'exposure:', '  period_s: 300',
    'windows:', '  length_s: 60',
    'embeddings:', '  enabled: off',
    'log:', '  level: warn', '',
  ].join('\n'));
  return file;
}

function startDaemon(config: string): ChildProcess {
  return spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
}

test('exposures replayed through a daemon killed again and again arrive once each, equal to an uninterrupted run', { timeout: 240_000 }, async (t) => {
  const dir = await tempDir(t);
  const capture = join(dir, 'evening.capture.jsonl');
  await writeCapture(capture);
  const broker = await startAedes();
  t.after(() => broker.close());
  const whole = generateHubKey();
  const killed = generateHubKey();
  // hub id -> every accepted exposure frame, by seq.
  const got = new Map<string, Map<number, Exposure>>([['hub-whole', new Map()], ['hub-killed', new Map()]]);
  // hub id -> window start -> how many cross-sections came for it, and the last one's features.
  const windows = new Map<string, Map<number, { copies: number; features: unknown }>>([['hub-whole', new Map()], ['hub-killed', new Map()]]);
  const sink: Sink = {
    write: (f) => {
      if (f.kind === 'exposure') got.get(f.hub_id)!.set(f.seq, f.body.exposure!);
      if (f.kind === 'cross_section') {
        const w = windows.get(f.hub_id)!;
        const start = Number(f.body.cross_section!.window_start_ms);
        w.set(start, { copies: (w.get(start)?.copies ?? 0) + 1, features: f.body.cross_section!.features });
      }
    },
    close: async () => {},
  };
  const receiver = new Receiver({
    brokerUrl: broker.url, mqttVersion: 4, clientId: 'twin-receiver', stateDir: join(dir, 'receiver'), sink, log: silentLogger(),
    trust: new TrustStore([{ hubId: 'hub-whole', publicKey: whole.publicKey, source: 'test' }, { hubId: 'hub-killed', publicKey: killed.publicKey, source: 'test' }]),
  });
  await receiver.start();
  t.after(() => receiver.stop());
  const done = (hubId: string) => [...got.get(hubId)!.values()].some((e) => Number(e.period_end_ms) === LAST_REPORT);

  // The uninterrupted run.
  const first = startDaemon(await hubConfig(dir, 'hub-whole', broker.url, capture, whole));
  await until(() => done('hub-whole'), 'the uninterrupted run to report its last period', 120_000);
  first.kill('SIGTERM');
  await once(first, 'exit');

  // The same capture, killed at random moments: after the hub has started, and at any point of
  // its replay, before or after its reports were stored.
  const config = await hubConfig(dir, 'hub-killed', broker.url, capture, killed);
  // Each restart plays the capture from its start, so a kill at a uniformly random time would
  // mostly land where the reports were already stored. Each round waits for 0 to 2 new reports
  // to arrive, then a random moment more: kills land while reports and their state are being
  // stored, and before, and after.
  const random = mulberry32(20261123);
  let kills = 0;
  let killsWhileReporting = 0;
  while (kills < 10 && !done('hub-killed')) {
    const before = got.get('hub-killed')!.size;
    const daemon = startDaemon(config);
    const wanted = Math.floor(random() * 3);
    await until(() => got.get('hub-killed')!.size >= before + wanted || done('hub-killed'), `round ${kills} to report`, 60_000);
    await new Promise((r) => setTimeout(r, random() * 300));
    daemon.kill('SIGKILL');
    await once(daemon, 'exit');
    kills++;
    if (got.get('hub-killed')!.size > before) killsWhileReporting++;
    t.diagnostic(`round ${kills}: ${got.get('hub-killed')!.size - before} new reports`);
  }
  const last = startDaemon(config);
  await until(() => done('hub-killed'), 'the killed hub to report its last period', 120_000);
  last.kill('SIGTERM');
  await once(last, 'exit');

  const byPeriod = (hubId: string) => {
    const out = new Map<string, Exposure>();
    const twice: string[] = [];
    for (const e of got.get(hubId)!.values()) {
      const k = `${e.local_date} ${new Date(Number(e.period_end_ms)).toISOString()}`;
      if (out.has(k)) twice.push(k);
      out.set(k, e);
    }
    return { out, twice };
  };
  const a = byPeriod('hub-whole');
  const b = byPeriod('hub-killed');
  assert.deepEqual(a.twice, [], 'the uninterrupted run reports each period once');
  assert.deepEqual(b.twice, [], 'the killed hub reports each period once: none counted twice');
  assert.equal(kills, 10, 'the hub was killed ten times before its last run');
  assert.ok(killsWhileReporting >= 3, `${killsWhileReporting} kills came after reports of that run were stored`);
  // From the first boundary after the first sample (23:05) to the last one a sample passed (00:55).
  assert.equal(a.out.size, 23, 'one report every five minutes');
  assert.deepEqual([...b.out.keys()].sort(), [...a.out.keys()].sort(), 'the same reports, none lost');
  for (const [k, e] of a.out) assert.deepEqual(b.out.get(k), e, `report ${k} equals the uninterrupted run's, to the last digit`);
  // Cross-sections: one per window in both runs, with the same features. (Which windows a run
  // had reached when it was last stopped may differ: the windows both have must agree.)
  const twice = (hubId: string) => [...windows.get(hubId)!].filter(([, w]) => w.copies > 1).map(([start]) => new Date(start).toISOString());
  assert.deepEqual(twice('hub-whole'), []);
  assert.deepEqual(twice('hub-killed'), [], 'no window of the replayed capture was sent twice across the restarts');
  const both = [...windows.get('hub-whole')!.keys()].filter((start) => windows.get('hub-killed')!.has(start));
  assert.ok(both.length >= 100, `most of the 120 minutes' windows are in both runs (${both.length})`);
  for (const start of both) assert.deepEqual(windows.get('hub-killed')!.get(start)!.features, windows.get('hub-whole')!.get(start)!.features, new Date(start).toISOString());
  // The day before midnight closed with its final values, and they are not trivial.
  const final = [...a.out.values()].find((e) => e.final)!;
  assert.equal(final.local_date, '2026-06-01');
  const dose = final.accumulators!.find((x) => x.code === 'light.dose')!;
  assert.ok(dose.value > 100 && Math.abs(dose.covered_s! - 3600) < 0.01, `an hour of lamp light: ${dose.value} lx.h over ${dose.covered_s} s`);
});

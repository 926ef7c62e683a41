// Exposures on a live hub: a BH1750 board writes into a real pty read by the real serialport,
// samples are timed by a clock the test moves, and the wall clock (not the samples) moves the
// reports on. Each report is emitted with the subject's state in the same call, a hub started
// again from that state continues the day, and a hub whose clock is not set yet keeps its
// exposures back instead of filling days long gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exposure } from '../../src/frames/codec.js';
import { DeviceSource, type DeviceExposureOptions } from '../../src/hub/device-source.js';
import type { ProducedFrame } from '../../src/hub/frame-source.js';
import { ManualClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import type { StateWrite } from '../../src/outbox/outbox.js';
import { SerialTransport } from '../../src/transports/serial/serial-transport.js';
import type { TransportListener } from '../../src/transports/transport.js';
import { PtyPair } from '../helpers/pty.js';
import { tempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const T0 = Date.UTC(2026, 5, 1, 10);
const exposure: DeviceExposureOptions = {
  periodMs: 60_000, graceMs: 2000, timeZones: new Map([['p-1', 'UTC']]),
  light: { thresholdLx: 250, nightThresholdLx: 10, nightStartMin: 1320, nightEndMin: 360, halfLivesMs: [86_400_000] },
};

interface Emitted { frames: readonly ProducedFrame[]; state: readonly StateWrite[] | undefined }

async function liveSource(devicePath: string, clock: ManualClock, stored: Map<string, Uint8Array>, emitted: Emitted[]): Promise<DeviceSource> {
  const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
  const source = new DeviceSource({
    devices: [{
      subject: 'p-1', profile: profiles.get('generic/bh1750-light')!,
      transport: (l: TransportListener) => new SerialTransport({ path: devicePath, baudRate: 9600 }, clock, l),
    }],
    windowMs: 3_600_000, clock, log: silentLogger(), exposure,
  });
  source.start(async (frames, state) => {
    emitted.push({ frames, state });
    for (const s of state ?? []) if (s.value) stored.set(s.key, s.value);
  }, async (key) => stored.get(key));
  return source;
}

/** Writes one line a second of clock time, each read and timed before the clock moves on. */
async function sendSeconds(pty: PtyPair, source: DeviceSource, clock: ManualClock, seconds: number, lux: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    const before = source.stats()[0]?.samples ?? 0;
    await pty.send(`Light: ${lux.toFixed(2)} lx\r\n`);
    await until(() => (source.stats()[0]?.samples ?? 0) > before, 'the line to be read');
    clock.advance(1000);
  }
}

const reports = (emitted: Emitted[]): Exposure[] => emitted.flatMap((e) => e.frames.map((f) => (f.payload as { exposure?: Exposure }).exposure)).filter((x): x is Exposure => x !== undefined);
const dose = (e: Exposure) => e.accumulators!.find((a) => a.code === 'light.dose')!;

test('a live hub reports by the wall clock, stores its state with each report, and continues from it', { timeout: 120_000, skip: skipUnless('socat') }, async (t) => {
  const dir = await tempDir(t);
  const pty = await PtyPair.start(dir);
  t.after(() => pty.close());
  const clock = new ManualClock(T0 + 30_000);
  const stored = new Map<string, Uint8Array>();
  const emitted: Emitted[] = [];
  let source = await liveSource(pty.devicePath, clock, stored, emitted);
  await until(() => source.stats()[0]?.state === 'open', 'the port to open');
  // 10:00:30 to 10:01:10 at 400 lx: forty samples, the first thirty before 10:01.
  await sendSeconds(pty, source, clock, 40, 400);
  assert.equal(reports(emitted).length, 0, 'the samples passed 10:01, but only the wall clock moves reports on');
  clock.advance(2000);
  await until(() => reports(emitted).length === 1, 'the 10:01 report, from the wall clock, past its grace');
  const first = reports(emitted)[0]!;
  assert.equal(first.period_end_ms, T0 + 60_000);
  assert.equal(dose(first).covered_s, 30);
  assert.equal(dose(first).value, (400 * 30) / 3600);
  const withState = emitted.find((e) => e.frames.length > 0)!;
  assert.deepEqual(withState.state?.map((s) => s.key), ['exposure/p-1'], 'the state goes with the report, in the same append');
  await source.stop();

  // Started again from the stored state: the day goes on from where its last report left it.
  emitted.length = 0;
  source = await liveSource(pty.devicePath, clock, stored, emitted);
  await until(() => source.stats()[0]?.state === 'open', 'the port to open again');
  await sendSeconds(pty, source, clock, 60, 100);
  clock.advance(2000);
  await until(() => reports(emitted).some((e) => e.period_end_ms === T0 + 120_000), 'the 10:02 report');
  const second = reports(emitted).find((e) => e.period_end_ms === T0 + 120_000)!;
  // The stored state was taken at the 10:01 report, after all forty samples: nothing was lost
  // with the stop. 400 lx from 10:00:30 to 10:01:09, that sample standing for the 3 s to the
  // first one after the restart (10:01:12), then 100 lx to 10:02.
  assert.equal(dose(second).covered_s, 39 + 3 + 48);
  assert.ok(Math.abs(dose(second).value - (400 * 42 + 100 * 48) / 3600) < 1e-9, String(dose(second).value));
  await source.stop();
});

test('a live hub whose wall clock is not set keeps its exposures back', { timeout: 60_000, skip: skipUnless('socat') }, async (t) => {
  const dir = await tempDir(t);
  const pty = await PtyPair.start(dir);
  t.after(() => pty.close());
  // A Pi without a real-time clock boots near 1970.
  const clock = new ManualClock(Date.UTC(1970, 0, 1, 0, 0, 30), 'unsynced');
  const emitted: Emitted[] = [];
  const source = await liveSource(pty.devicePath, clock, new Map(), emitted);
  t.after(() => source.stop());
  await until(() => source.stats()[0]?.state === 'open', 'the port to open');
  await sendSeconds(pty, source, clock, 40, 400);
  clock.advance(5000);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(reports(emitted).length, 0);
  assert.deepEqual(source.exposureStats(), [{ subject: 'p-1', late: 0, unsetClockSamples: 40 }]);
});

test('a stored exposure state that parses but does not fit is set aside with an error line; the hub starts', { timeout: 30_000 }, async () => {
  const { Writable } = await import('node:stream');
  const { createLogger } = await import('../../src/ops/log.js');
  const { subjectExposureOptions } = await import('../../src/exposure/exposure-settings.js');
  const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
  const belt = profiles.get('generic/respiration-belt-csv')!;
  const options = subjectExposureOptions(belt.channels, exposure, 'UTC')!;
  // The right settings, a breath counter's state from another rate: the constructor refuses it.
  const damaged = { options: JSON.stringify(options), late: 0, breaths: { ledger: { days: {}, checkpoints: [] }, counter: { ring: [0, 0, 0] } } };
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('info', new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).trim().split('\n')) lines.push(JSON.parse(l)); cb(); } }));
  const clock = new ManualClock(T0);
  const source = new DeviceSource({
    devices: [{ subject: 'p-1', profile: belt, transport: (l: TransportListener) => new SerialTransport({ path: '/nonexistent/ttyACM9', baudRate: 115200 }, clock, l) }],
    windowMs: 3_600_000, clock, log, exposure, reconnectMinMs: 50, reconnectMaxMs: 100,
  });
  source.start(async () => {}, async (key) => (key === 'exposure/p-1' ? Buffer.from(JSON.stringify(damaged)) : undefined));
  await until(() => source.stats()[0]?.state === 'backing-off', 'the device to be tried: the hub started');
  await source.stop();
  assert.ok(lines.some((l) => l.msg === 'stored exposure state does not fit: the subject\'s exposures start again' && l.subject === 'p-1'));
  assert.deepEqual(source.exposureStats(), [{ subject: 'p-1', late: 0, unsetClockSamples: 0 }]);
});

// Per-window provenance and coverage of device samples, worked by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelInfo } from '../../src/profiles/profile.js';
import { CoverageWindows } from '../../src/windows/coverage-windows.js';

const W = 10_000;
const T0 = 1_700_000_000_000; // a multiple of 10 s

const ch = (name: string, modality: ChannelInfo['modality'], rateHz?: number): ChannelInfo => ({ name, unit: '1', modality, rateHz, standardCode: undefined });
const sample = (channel: string, wallMs: number) => ({ channel, value: 1, unit: '1', monoMs: wallMs - T0, wallMs });

test('coverage is samples received over samples expected, per modality, with sources and late samples', () => {
  const w = new CoverageWindows([
    { deviceId: 'serial:a', subject: 's1', profileId: 'p/ox', profileVersion: '1.0.0', channels: [ch('spo2', 'oximetry', 1), ch('pulse_rate', 'oximetry', 1), ch('note', 'device')] },
    { deviceId: 'serial:b', subject: 's2', profileId: 'p/light', profileVersion: '2.1.0', channels: [ch('illuminance', 'light', 2)] },
  ], W, T0 + 1234);
  assert.equal(w.windowStartMs, T0);
  // spo2: 10 of 10 expected; pulse_rate: 5 of 10; illuminance: 20 of 20, one sample past the
  // window and one before it.
  for (let i = 0; i < 10; i++) w.add('serial:a', [sample('spo2', T0 + i * 1000)]);
  for (let i = 0; i < 5; i++) w.add('serial:a', [sample('pulse_rate', T0 + i * 1000)]);
  for (let i = 0; i < 20; i++) w.add('serial:b', [sample('illuminance', T0 + i * 500)]);
  w.add('serial:b', [sample('illuminance', T0 + W + 1)]);
  w.add('serial:b', [sample('illuminance', T0 - 1)]);
  w.gap('serial:a');
  const out = w.close(W, T0 + W, false);
  const s1 = out.get('s1')!;
  assert.equal(s1.window_start_ms, T0);
  assert.equal(s1.window_end_ms, T0 + W);
  assert.equal(s1.partial, false);
  assert.deepEqual(s1.sources, [{ device_id: 'serial:a', profile_id: 'p/ox', profile_version: '1.0.0', channels: ['spo2', 'pulse_rate'] }]);
  assert.deepEqual(s1.quality, [{ modality: 'oximetry', coverage: 0.75, gaps: 1, late_samples: 0 }, { modality: 'device', coverage: 0, gaps: 0, late_samples: 0 }]);
  const s2 = out.get('s2')!;
  assert.deepEqual(s2.quality, [{ modality: 'light', coverage: 1, gaps: 0, late_samples: 1 }]);
  // The sample past the end counts in the next window, which starts where this one ended.
  assert.equal(w.windowStartMs, T0 + W);
  const next = w.close(2 * W, T0 + 2 * W, false);
  assert.equal(next.get('s2')!.quality![0]!.coverage, 1 / 20);
  assert.deepEqual(next.get('s1')!.sources, [], 'a device with no sample is not a source');
});

test('a partial window counts coverage against the part that elapsed', () => {
  const w = new CoverageWindows([{ deviceId: 'd', subject: 's', profileId: 'p', profileVersion: '1.0.0', channels: [ch('x', 'motion', 10)] }], W, T0);
  for (let i = 0; i < 25; i++) w.add('d', [sample('x', T0 + i * 100)]);
  const s = w.close(2500, T0 + 2500, true).get('s')!;
  assert.equal(s.partial, true);
  assert.equal(s.quality![0]!.coverage, 1);
});

test('after a wall clock jump the window starts again where the clock is, not hours of empty windows away', () => {
  const w = new CoverageWindows([{ deviceId: 'd', subject: 's', profileId: 'p', profileVersion: '1.0.0', channels: [ch('x', 'motion', 10)] }], W, T0);
  // In the window, or its grace, or the next: nothing to do.
  assert.equal(w.realign(T0 + 5_000, 2000), 0);
  assert.equal(w.realign(T0 + W + 1500, 2000), 0);
  assert.equal(w.realign(T0 + 2 * W + 1999, 2000), 0);
  // An hour forward: one move to the window holding the new time.
  w.add('d', [sample('x', T0 + 100)]);
  assert.equal(w.realign(T0 + 3_600_000 + 1234, 2000), 3_600_000);
  assert.equal(w.windowStartMs, T0 + 3_600_000);
  assert.equal(w.close(0, T0 + 3_600_000 + W, false).get('s')!.quality![0]!.coverage, 0, 'samples of the old timeline are not counted in the new one');
  // An hour back.
  assert.equal(w.realign(T0 + 5_000, 0), T0 - (T0 + 3_600_000 + W));
  assert.equal(w.windowStartMs, T0);
});

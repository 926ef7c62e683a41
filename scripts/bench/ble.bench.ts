// BLE notifications decoded per second on one core through noble's event path (the simulated
// radio's bindings -> noble -> the central -> the profile's decoder and timer), against decoding
// the same bytes directly with the same profile and timer, in the same run:
// - ble.hr: Heart Rate Measurement notifications (hr and an RR interval each);
// - ble.pmd: Polar H10 PMD ECG frames (73 samples each).
import { BleDevices } from '../../src/hub/ble-devices.js';
import { SystemClock } from '../../src/ops/clock.js';
import { silentLogger } from '../../src/ops/log.js';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import { PacketReader } from '../../src/profiles/packet-reader.js';
import { loadNoble } from '../../src/transports/ble/load-noble.js';
import { heartRateNotification, pmdEcgFrame } from '../../src/transports/simulated/ble-outputs.js';
import { heartRateStrap, polarH10 } from '../../src/transports/simulated/ble-peripherals.js';
import { SimulatedRadio } from '../../src/transports/simulated/ble-radio.js';
import { median, result, type BenchContext, type BenchResult } from './bench-kit.js';

const N = 20_000;
const PMD_DATA = 'fb005c8202e7f3871cad8acd2d8df0c8';
const PMD_SERVICE = 'fb005c8002e7f3871cad8acd2d8df0c8';

async function waitFor(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('ble bench: timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
  const clock = new SystemClock('assume-synced');
  const cases = [
    { name: 'ble.hr', profile: profiles.get('bluetooth-sig/heart-rate')!, char: '2a37', service: undefined, bytes: Array.from({ length: 64 }, (_, i) => heartRateNotification(i * 1000)), make: () => heartRateStrap({ address: 'be:00:00:00:00:01', periodMs: 3_600_000 }) },
    { name: 'ble.pmd', profile: profiles.get('polar/h10')!, char: PMD_DATA, service: PMD_SERVICE, bytes: Array.from({ length: 64 }, (_, i) => pmdEcgFrame(i * 73, 73, Date.now() + i * 561)), make: () => polarH10({ address: 'be:00:00:00:00:02', periodMs: 3_600_000 }) },
  ] as const;
  const rows: BenchResult[] = [];
  for (const c of cases) {
    if (!ctx.wants(c.name)) continue;
    const radio = new SimulatedRadio({ gattLatencyMs: 0 });
    const p = radio.add(c.make());
    let received = 0;
    const ble = new BleDevices({
      devices: [{ subject: 's', profile: c.profile, address: p.address }],
      clock, log: silentLogger(), load: () => loadNoble(radio),
      onSamples: () => { received++; }, onGap: () => {}, onBound: () => {},
    });
    await ble.start();
    await waitFor(() => ble.describe()[0]!.state === 'connected' && p.subscribed(c.char, c.service));
    const viaNoble: number[] = [];
    const direct: number[] = [];
    for (let r = 0; r < ctx.repeats; r++) {
      received = 0;
      const start = performance.now();
      for (let i = 0; i < N; i++) p.notify(c.char, c.bytes[i % c.bytes.length]!, c.service);
      await waitFor(() => received >= N);
      viaNoble.push((N * 1000) / (performance.now() - start));
      const reader = new PacketReader({ profile: c.profile, onSamples: () => {} });
      const source = c.char;
      const t0 = performance.now();
      for (let i = 0; i < N; i++) reader.packet(c.bytes[i % c.bytes.length]!, { monoMs: clock.monoMs(), wallMs: clock.wallMs() }, source);
      direct.push((N * 1000) / (performance.now() - t0));
    }
    await ble.stop();
    radio.close();
    rows.push(result(c.name, 'notifications/s', median(viaNoble), median(direct)));
  }
  return rows;
}

// Decoded samples per second on one core, for the IMU binary profile (length-prefixed frames
// with CRC, 12 samples a frame) and the CSV lines profile (respiration belt, one sample a line):
// - decode.<p>.pty: the hub's DeviceReader (framing, decoding, timing) reading a real pty (socat)
//   fed as fast as the pty takes bytes;
// - decode.<p>.replay: the same reader fed by a capture replay (ReplayTransport as fast as
//   possible) of the same bytes, recorded in 256-byte reads by the CaptureWriter;
// each against a bare serialport read loop that only counts bytes on the same pty, in the same
// run, its bytes/s expressed as samples/s of that stream (bytes/s x samples per byte).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import { DeviceReader } from '../../src/profiles/device-reader.js';
import type { Profile } from '../../src/profiles/profile.js';
import { ManualClock } from '../../src/ops/clock.js';
import { CaptureWriter, readCaptureFile, type CaptureRecording } from '../../src/transports/capture/capture-file.js';
import { ReplayTransport } from '../../src/transports/capture/replay-transport.js';
import { imu6, respirationBelt, type DeviceOutput } from '../../src/transports/simulated/device-outputs.js';
import { PtyPair } from '../../test/helpers/pty.js';
import { makeTempDir } from '../../test/helpers/tmp.js';
import { median, result, type BenchContext, type BenchResult } from './bench-kit.js';

const STREAM_BYTES = Number(process.env.TWINEDGE_BENCH_DECODE_BYTES ?? 1 << 20);
const REPLAY_CHUNK = 256;

function stream(device: DeviceOutput): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  for (let i = 0; size < STREAM_BYTES; i++) {
    const b = Buffer.from(device.next(i * device.periodMs, 1.7e12 + i * device.periodMs));
    parts.push(b);
    size += b.length;
  }
  return Buffer.concat(parts);
}

/** Feeds `file` into the pty's far end as fast as it takes it; resolves with seconds until `done`. */
async function readThroughPty(pty: PtyPair, file: string, bytes: number, onData: (chunk: Buffer) => void): Promise<number> {
  const port = new SerialPort({ path: pty.devicePath, baudRate: 115200, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  let got = 0;
  const done = new Promise<void>((res) => port.on('data', (chunk: Buffer) => {
    onData(chunk);
    got += chunk.length;
    if (got >= bytes) res();
  }));
  const start = process.hrtime.bigint();
  const writer = spawn('sh', ['-c', `cat "${file}" > "${pty.peerPath}"`], { stdio: 'ignore' });
  const exited = once(writer, 'exit');
  await done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await exited;
  await new Promise<void>((res) => port.close(() => res()));
  return seconds;
}

/** The stream as a capture file of 256-byte reads, read back as the replay command reads it. */
async function recordCapture(file: string, data: Buffer): Promise<CaptureRecording> {
  const writer = await CaptureWriter.open(file, { device: 'bench', started_wall_ms: 1.7e12, started_mono_ms: 0 });
  for (let i = 0; i < data.length; i += REPLAY_CHUNK) writer.chunk({ bytes: data.subarray(i, i + REPLAY_CHUNK), monoMs: i / 1000, wallMs: 1.7e12 + i / 1000 });
  await writer.close();
  return readCaptureFile(file);
}

function samplesOf(profile: Profile, data: Buffer): number {
  let n = 0;
  const reader = new DeviceReader({ profile, onSamples: (s) => { n += s.length; } });
  reader.push({ bytes: data, monoMs: 0, wallMs: 1.7e12 });
  reader.end();
  return n;
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);
  const dir = await makeTempDir('twinedge-bench-');
  const rows: BenchResult[] = [];
  const clock = new ManualClock(1.7e12);
  try {
    for (const [name, id, device] of [['imu', 'generic/imu6-lcrc', imu6()], ['csv', 'generic/respiration-belt-csv', respirationBelt()]] as const) {
      if (!ctx.wants(`decode.${name}.pty`) && !ctx.wants(`decode.${name}.replay`)) continue;
      const profile = profiles.get(id)!;
      const data = stream(device);
      const file = join(dir.path, `${name}.bin`);
      await writeFile(file, data);
      const samples = samplesOf(profile, data);
      const capture = await recordCapture(join(dir.path, `${name}.capture`), data);
      const perByte = samples / data.length;
      const bare: number[] = [];
      const viaPty: number[] = [];
      const viaReplay: number[] = [];
      for (let r = 0; r < ctx.repeats; r++) {
        // A fresh pty pair each time: nothing of one run waits in the next one's buffers.
        let pty = await PtyPair.start(await mkdtemp(join(dir.path, 'pty-')));
        let counted = 0;
        const bareSeconds = await readThroughPty(pty, file, data.length, (c) => { counted += c.length; });
        await pty.close();
        bare.push((counted * perByte) / bareSeconds);

        pty = await PtyPair.start(await mkdtemp(join(dir.path, 'pty-')));
        let decoded = 0;
        const reader = new DeviceReader({ profile, onSamples: (s) => { decoded += s.length; } });
        const seconds = await readThroughPty(pty, file, data.length, (bytes) => reader.push({ bytes, monoMs: performance.now(), wallMs: Date.now() }));
        await pty.close();
        if (decoded !== samples) throw new Error(`decode.${name}.pty: ${decoded} samples, expected ${samples}`);
        viaPty.push(decoded / seconds);

        decoded = 0;
        const replayReader = new DeviceReader({ profile, onSamples: (s) => { decoded += s.length; } });
        const replay = new ReplayTransport({ capture, speed: Infinity, atEnd: 'stay-open' }, clock, { data: (c) => replayReader.push(c), disconnected: () => {} });
        const start = process.hrtime.bigint();
        await replay.open();
        await replay.ended;
        replayReader.end();
        const replaySeconds = Number(process.hrtime.bigint() - start) / 1e9;
        await replay.close();
        if (decoded !== samples) throw new Error(`decode.${name}.replay: ${decoded} samples, expected ${samples}`);
        viaReplay.push(decoded / replaySeconds);
      }
      rows.push(result(`decode.${name}.pty`, 'samples/s', median(viaPty), median(bare)));
      rows.push(result(`decode.${name}.replay`, 'samples/s', median(viaReplay), median(bare)));
    }
  } finally {
    await dir.remove();
  }
  return rows;
}

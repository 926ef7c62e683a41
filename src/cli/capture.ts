import { unlink } from 'node:fs/promises';
import { SystemClock } from '../ops/clock.js';
import { TwinedgeError } from '../ops/errors.js';
import type { SerialSetup } from '../profiles/profile.js';
import { CaptureWriter } from '../transports/capture/capture-file.js';
import { SerialTransport, type SerialOptions } from '../transports/serial/serial-transport.js';
import { numberOption, parseCommandArgs, requireOption } from './args.js';
import { findProfile, loadProfiles, profileDirs } from './profile-dirs.js';
import { untilSignal } from './signals.js';

const USAGE = `usage: twinedge capture --port PATH (--baud N | --profile ID) --out FILE [options]

  --port PATH       the serial port, e.g. /dev/ttyUSB0 or /dev/serial/by-id/...
  --baud N          baud rate (overrides the profile's)
  --profile ID      take the port settings from this profile's serial section, and name it in the file
  --profiles DIR    read profiles from DIR (repeatable; default: the shipped ones)
  --out FILE        the capture file to create (JSON lines, mode 0600; never overwritten)
  --duration S      stop after S seconds (default: at SIGINT or SIGTERM)

Records every chunk the port delivers, with its time. If the port goes away it is reopened every
0.5 s until it is back or the capture is stopped; both are recorded as events.
`;

/** A fixed pace rather than a backoff: a capture is attended, and a replug should show at once. */
const REOPEN_EVERY_MS = 500;

function fail(message: string): never {
  throw new TwinedgeError('USAGE_BAD_ARGUMENT', `capture: ${message}`);
}

/**
 * twinedge capture: records what a serial device sends, for `twinedge replay`. Exit 0 when
 * stopped (signal or --duration), 1 when the port cannot be opened at the start or the file cannot
 * be written, 2 for bad usage.
 */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('capture', argv, {
    port: { type: 'string' },
    baud: { type: 'string' },
    profile: { type: 'string' },
    profiles: { type: 'string', multiple: true },
    out: { type: 'string' },
    duration: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = requireOption('capture', values.port, '--port');
  const out = requireOption('capture', values.out, '--out');
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    const s = numberOption('capture', values.duration, '--duration', 0);
    if (s <= 0) fail(`--duration must be a number of seconds above 0, got '${values.duration}'`);
    durationMs = s * 1000;
  }
  let baud: number | undefined;
  if (values.baud !== undefined) {
    baud = Number(values.baud);
    if (!Number.isInteger(baud) || baud <= 0) fail(`--baud must be a positive whole number, got '${values.baud}'`);
  }
  let serial: SerialSetup | undefined;
  if (values.profile !== undefined) {
    const profile = findProfile(await loadProfiles(profileDirs(values.profiles)), values.profile);
    serial = profile.serial;
    if (!serial) fail(`profile ${profile.id} is a ${profile.transport} profile; capture reads serial ports`);
  }
  baud ??= serial?.baudRate;
  if (baud === undefined) fail('give --baud N, or --profile ID whose serial section sets the baud rate');
  const settings: SerialOptions = {
    path: port,
    baudRate: baud,
    dataBits: serial?.dataBits ?? 8,
    parity: serial?.parity ?? 'none',
    stopBits: serial?.stopBits ?? 1,
  };

  const clock = new SystemClock();
  const writer = await openWriter(out, {
    device: `serial:${port}`,
    ...(values.profile !== undefined ? { profile: values.profile } : {}),
    serial: { path: port, baud_rate: settings.baudRate, data_bits: settings.dataBits!, parity: settings.parity!, stop_bits: settings.stopBits! },
    started_wall_ms: clock.wallMs(),
    started_mono_ms: clock.monoMs(),
  });

  const session = new CaptureSession(settings, clock, writer);
  try {
    await session.start();
  } catch (e) {
    // Nothing was recorded: leave no header-only file behind to be mistaken for a capture.
    await writer.close().catch(() => {});
    await unlink(out).catch(() => {});
    throw e;
  }
  const startedMono = clock.monoMs();
  process.stderr.write(`capture: recording ${port} at ${baud} baud to ${out}; stop with Ctrl-C\n`);

  const stop = new AbortController();
  let writeError: Error | undefined;
  void writer.failed.then((e) => {
    writeError = e;
    stop.abort();
  });
  await untilSignal(durationMs, stop.signal);
  await session.stop();
  const seconds = (clock.monoMs() - startedMono) / 1000;
  try {
    await writer.close();
  } catch (e) {
    writeError ??= e as Error;
  }
  if (writeError) throw new TwinedgeError('CAPTURE_WRITE_FAILED', `writing ${out} failed after ${writer.chunks} chunks: ${writeError.message}`, { file: out }, { cause: writeError });
  process.stderr.write(`captured ${writer.chunks} chunks, ${writer.bytes} bytes in ${seconds.toFixed(1)} s to ${out}\n`);
  return 0;
}

async function openWriter(out: string, header: Parameters<typeof CaptureWriter.open>[1]): Promise<CaptureWriter> {
  try {
    return await CaptureWriter.open(out, header);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') fail(`${out} exists already; captures are never overwritten: choose another name or delete it`);
    if (code === 'ENOENT') fail(`the folder of ${out} does not exist`);
    fail(`cannot create ${out}: ${code ?? (e as Error).message}`);
  }
}

/**
 * The port, kept open for the length of the capture: every chunk to the file, and when the port
 * goes away an event, then a reopen every REOPEN_EVERY_MS until it is back (another event).
 */
class CaptureSession {
  readonly #writer: CaptureWriter;
  readonly #clock: SystemClock;
  readonly #transport: SerialTransport;
  readonly #port: string;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #attempt: Promise<void> = Promise.resolve();

  constructor(settings: SerialOptions, clock: SystemClock, writer: CaptureWriter) {
    this.#writer = writer;
    this.#clock = clock;
    this.#port = String(settings.path);
    this.#transport = new SerialTransport(settings, clock, {
      data: (chunk) => writer.chunk(chunk),
      disconnected: (reason) => this.#lost(reason),
    });
  }

  /** Opens the port; rejects with TRANSPORT_OPEN_FAILED when it is not there at the start. */
  start(): Promise<void> {
    return this.#transport.open();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#attempt;
    await this.#transport.close();
  }

  #lost(reason: string): void {
    if (this.#stopped) return;
    this.#writer.event('disconnected', this.#clock.monoMs(), reason);
    process.stderr.write(`capture: ${this.#port} went away (${reason}); reopening every ${REOPEN_EVERY_MS / 1000} s\n`);
    this.#retry();
  }

  #retry(): void {
    this.#timer = setTimeout(() => {
      this.#attempt = this.#reopen();
    }, REOPEN_EVERY_MS);
  }

  async #reopen(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#transport.open();
    } catch {
      if (!this.#stopped) this.#retry();
      return;
    }
    // Stopped while the open was under way: stop() closes it.
    if (this.#stopped) return;
    this.#writer.event('connected', this.#clock.monoMs());
    process.stderr.write(`capture: ${this.#port} is back\n`);
  }
}

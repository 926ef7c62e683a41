import { SystemClock } from '../ops/clock.js';
import { TwinedgeError } from '../ops/errors.js';
import { DeviceReader } from '../profiles/device-reader.js';
import type { TimedSample } from '../profiles/timing.js';
import { CaptureReader } from '../transports/capture/capture-file.js';
import { ReplayTransport } from '../transports/capture/replay-transport.js';
import { parseCommandArgs } from './args.js';
import { findProfile, loadProfiles, profileDirs } from './profile-dirs.js';
import { untilSignal } from './signals.js';

const USAGE = `usage: twinedge replay FILE [--profile ID] [--profiles DIR] [--speed X | --fast] [--json] [--quiet]

  FILE              a capture made by twinedge capture
  --profile ID      decode with this profile (default: the one the capture names)
  --profiles DIR    read profiles from DIR (repeatable; default: the shipped ones)
  --speed X         play X times faster than recorded (1 = real time); default: --fast
  --fast            as fast as possible
  --json            one JSON object a sample: {"channel","value","unit","mono_ms","wall_ms"}
  --quiet           no samples, only the summary

Samples go to stdout; a summary (bytes, packets, samples, rejected, issues by code) to stderr.
Sample times are the captured ones, whatever the speed.
`;

function fail(message: string): never {
  throw new TwinedgeError('USAGE_BAD_ARGUMENT', `replay: ${message}`);
}

/**
 * twinedge replay: a capture through the real decoding (ReplayTransport -> DeviceReader). Exit 0
 * when the capture played, bad frames included (counting them is the point); 2 for bad usage, an
 * unknown profile or a malformed capture.
 */
export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('replay', argv, {
    profile: { type: 'string' },
    profiles: { type: 'string', multiple: true },
    speed: { type: 'string' },
    fast: { type: 'boolean' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) fail(positionals.length === 0 ? 'give the capture FILE' : `give one capture FILE, not ${positionals.length}`);
  const file = positionals[0]!;
  if (values.speed !== undefined && values.fast) fail('give --speed X or --fast, not both');
  let speed = Infinity;
  if (values.speed !== undefined) {
    speed = Number(values.speed);
    if (!(speed > 0)) fail(`--speed must be a number above 0 (1 = real time), got '${values.speed}'`);
  }
  if (values.json && values.quiet) fail('give --json or --quiet, not both');

  const capture = await CaptureReader.open(file);
  let transport: ReplayTransport | undefined;
  try {
    const id = values.profile ?? capture.header.profile;
    if (id === undefined) fail(`${file} names no profile; give --profile ID`);
    const profile = findProfile(await loadProfiles(profileDirs(values.profiles)), id);
    if (!profile.serial) fail(`profile ${profile.id} is a ${profile.transport} profile; captures are serial byte streams`);

    const print = values.quiet ? undefined : values.json ? jsonLines : humanLines;
    const reader = new DeviceReader({ profile, onSamples: print ?? (() => {}) });
    let disconnects = 0;
    transport = new ReplayTransport({ capture, speed, atEnd: 'stay-open' }, new SystemClock(), {
      data: (chunk) => reader.push(chunk),
      disconnected: () => {
        // A recorded unplug: the partial frame is dropped and timing starts over, as live.
        disconnects++;
        reader.gap();
        // Opening a replay again cannot fail but on a bad file, which `ended` reports.
        transport!.open().catch(() => {});
      },
    });
    // `twinedge replay ... | head` closes stdout early: stop playing rather than die on EPIPE.
    const stop = new AbortController();
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      stop.abort();
    });
    await transport.open();
    const outcome = await Promise.race([
      transport.ended.then(() => 'ended' as const, (e: unknown) => ({ error: e })),
      untilSignal(undefined, stop.signal),
    ]);
    stop.abort();
    await transport.close();
    if (outcome === 'ended') reader.end();

    for (const w of capture.warnings) process.stderr.write(`twinedge replay: ${w.file}:${w.line}: warning: ${w.message}\n`);
    const s = reader.stats();
    const issues = Object.entries(s.issues).sort(([a], [b]) => (a < b ? -1 : 1)).map(([code, n]) => `${code} ${n}`).join(', ') || 'none';
    const how = typeof outcome === 'object' ? ' (stopped at a malformed line)'
      : outcome === 'aborted' ? ' (stopped: stdout closed)'
      : outcome !== 'ended' ? ` (stopped: ${outcome})` : '';
    process.stderr.write(`replayed ${file} with ${profile.id}${how}: ${s.bytes} bytes, ${s.packets} packets, ${s.samples} samples, ${s.rejected} rejected, ${disconnects} disconnects; issues: ${issues}\n`);
    if (typeof outcome === 'object') throw outcome.error;
    return 0;
  } finally {
    await transport?.close();
    capture.close();
  }
}

/** Times rounded to the microsecond, as the capture holds them. */
const ms = (t: number) => Math.round(t * 1000) / 1000;

function jsonLines(samples: TimedSample[]): void {
  let out = '';
  for (const s of samples) out += `${JSON.stringify({ channel: s.channel, value: s.value, unit: s.unit, mono_ms: ms(s.monoMs), wall_ms: ms(s.wallMs) })}\n`;
  process.stdout.write(out);
}

function humanLines(samples: TimedSample[]): void {
  let out = '';
  for (const s of samples) out += `${new Date(s.wallMs).toISOString()} ${s.channel} = ${JSON.stringify(s.value)} ${s.unit}\n`;
  process.stdout.write(out);
}

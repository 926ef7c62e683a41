// The capture file reader under hostile files: arbitrary bytes, JSON lines near the format with
// its rules broken one at a time, and real captures cut off at any byte (a capturing process
// killed mid-write). Reading gives the recording or one CAPTURE_FILE_INVALID error naming the file
// and a line of it, never another exception; a cut capture reads as the entries whose lines were
// whole. Captures written by CaptureWriter from arbitrary chunks and events read back as written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { CaptureWriter, readCaptureFile, type CaptureEntry, type CaptureHeader, type CaptureRecording } from '../../src/transports/capture/capture-file.js';
import { tempDir } from '../helpers/tmp.js';
import { assertClearError, FUZZ_TEST, fuzzTarget } from './fuzz.js';

const fuzz = fuzzTarget('capture-file');

let serial = 0;
const nextFile = (dir: string) => join(dir, `capture-${serial++}.jsonl`);

/** Reads a file: the recording, or the clear error checked and returned. */
async function readOrRefuse(file: string, lineCount: number): Promise<CaptureRecording | undefined> {
  try {
    const r = await readCaptureFile(file);
    let last = 0;
    for (const e of r.entries) {
      assert.ok(Number.isFinite(e.t) && e.t >= last, `t ${e.t} after ${last}`);
      last = e.t;
      if (e.kind === 'chunk') assert.ok(e.bytes.length > 0);
    }
    assert.ok(r.warnings.length <= 1, JSON.stringify(r.warnings));
    for (const w of r.warnings) assert.ok(w.file === file && w.line === lineCount, JSON.stringify(w));
    return r;
  } catch (e) {
    assertClearError(e, ['CAPTURE_FILE_INVALID']);
    assert.equal(e.place.file, file);
    if (e.place.line !== undefined) assert.ok(e.place.line >= 1 && e.place.line <= lineCount + 1, `line ${e.place.line} of ${lineCount}`);
    return undefined;
  }
}

const header = fc.record({
  device: fc.oneof(fc.constantFrom('serial:/dev/ttyUSB0', 'ble:c4:7c:8d:6a:12:34'), fc.string({ minLength: 1, maxLength: 12 })),
  profile: fc.option(fc.constantFrom('generic/imu6-lcrc', 'polar/h10'), { nil: undefined }),
  serial: fc.option(fc.record({
    path: fc.string({ maxLength: 12 }), baud_rate: fc.integer({ min: 1, max: 4_000_000 }),
    data_bits: fc.option(fc.constantFrom(5 as const, 6 as const, 7 as const, 8 as const), { nil: undefined }),
    parity: fc.option(fc.constantFrom('none' as const, 'even' as const, 'odd' as const, 'mark' as const, 'space' as const), { nil: undefined }),
    stop_bits: fc.option(fc.constantFrom(1 as const, 1.5 as const, 2 as const), { nil: undefined }),
  }, { requiredKeys: ['path', 'baud_rate'] }), { nil: undefined }),
  started_wall_ms: fc.double({ min: 0, max: 4e12, noNaN: true }),
  started_mono_ms: fc.double({ min: 0, max: 1e9, noNaN: true }),
}, { requiredKeys: ['device', 'started_wall_ms', 'started_mono_ms'] });

type Step = { kind: 'chunk'; dt: number; bytes: Uint8Array } | { kind: 'disconnected'; dt: number; reason: string } | { kind: 'connected'; dt: number };
const steps = fc.array(fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('chunk' as const), dt: fc.double({ min: 0, max: 5000, noNaN: true }), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disconnected' as const), dt: fc.double({ min: 0, max: 5000, noNaN: true }), reason: fc.string({ unit: 'binary', maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('connected' as const), dt: fc.double({ min: 0, max: 5000, noNaN: true }) }) },
), { maxLength: 12 });

/** Writes a capture with the real writer; returns the file and its text. */
async function writeCapture(dir: string, h: typeof header extends fc.Arbitrary<infer H> ? H : never, s: Step[]): Promise<string> {
  const file = nextFile(dir);
  const plain = JSON.parse(JSON.stringify(h)) as Omit<CaptureHeader, 'format' | 'version'>;
  const w = await CaptureWriter.open(file, plain);
  let mono = plain.started_mono_ms;
  for (const x of s) {
    mono += x.dt;
    if (x.kind === 'chunk') w.chunk({ bytes: x.bytes, monoMs: mono, wallMs: 0 });
    else if (x.kind === 'disconnected') w.event('disconnected', mono, x.reason);
    else w.event('connected', mono);
  }
  await w.close();
  return file;
}

test('round trip: a capture written from arbitrary chunks and events reads back as written', FUZZ_TEST, async (t) => {
  const dir = await tempDir(t, 'twinedge-fuzz-capture-');
  await fuzz.check(t, fc.asyncProperty(header, steps, async (h, s) => {
    const file = await writeCapture(dir, h, s);
    const r = await readCaptureFile(file);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.header, { format: 'twinedge-capture', version: 1, ...JSON.parse(JSON.stringify(h)) });
    assert.equal(r.entries.length, s.length);
    let elapsed = 0;
    s.forEach((x, i) => {
      const e = r.entries[i]!;
      elapsed += x.dt;
      assert.equal(e.kind, x.kind);
      // Times are kept to the microsecond: within half of one of the elapsed time, never going back.
      assert.ok(Math.abs(e.t - elapsed) <= 0.0005 + elapsed * 1e-12, `t ${e.t} for ${elapsed}`);
      assert.ok(Math.abs(e.t * 1000 - Math.round(e.t * 1000)) < 1e-6 * Math.max(1, e.t), `t ${e.t} has more than 3 decimals`);
      if (x.kind === 'chunk') assert.deepEqual(Buffer.from((e as Extract<CaptureEntry, { kind: 'chunk' }>).bytes), Buffer.from(x.bytes));
      if (x.kind === 'disconnected') assert.equal((e as Extract<CaptureEntry, { kind: 'disconnected' }>).reason, x.reason);
    });
  }), 100);
});

test('a capture cut at any byte reads as its whole lines, or is refused when the header itself is cut', FUZZ_TEST, async (t) => {
  const dir = await tempDir(t, 'twinedge-fuzz-capture-');
  await fuzz.check(t, fc.asyncProperty(header, steps, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), async (h, s, cutSeeds) => {
    const file = await writeCapture(dir, h, s);
    const full = await readCaptureFile(file);
    const bytes = await readFile(file);
    const headerEnd = bytes.indexOf(0x0a);
    for (const seed of cutSeeds) {
      const cut = seed % (bytes.length + 1);
      const cutFile = nextFile(dir);
      await writeFile(cutFile, bytes.subarray(0, cut));
      const r = await readOrRefuse(cutFile, bytes.subarray(0, cut).toString('utf8').split('\n').length);
      if (cut < headerEnd) {
        assert.equal(r, undefined, `the header cut at ${cut} of ${headerEnd} bytes was read`);
        continue;
      }
      assert.ok(r, `a capture cut at ${cut}, after its header, was refused`);
      // Whole lines end with an LF; what follows the last one, if anything, is one cut line,
      // read if it happens to be whole JSON (cut just before its LF), else skipped with a warning.
      const lastLf = bytes.subarray(0, cut).lastIndexOf(0x0a);
      const wholeEntries = lastLf < 0 ? 0 : bytes.subarray(0, lastLf).toString('utf8').split('\n').length - 1;
      const partial = lastLf < 0 ? 0 : cut - lastLf - 1;
      const partialRead = partial > 0 && r.warnings.length === 0 ? 1 : 0;
      assert.deepEqual(r.entries, full.entries.slice(0, wholeEntries + partialRead), `cut at ${cut}`);
      if (partialRead) assert.equal(bytes[cut], 0x0a, `a cut line read at ${cut}, not just before its LF`);
    }
  }), 100);
});

// ---- Near the format, one rule broken at a time ----

const json = (v: unknown) => JSON.stringify(v);
const headerLine = fc.oneof(
  { weight: 6, arbitrary: header.map((h) => json({ format: 'twinedge-capture', version: 1, ...h })) },
  {
    weight: 3,
    arbitrary: fc.tuple(header, fc.constantFrom('format', 'version', 'device', 'profile', 'serial', 'started_wall_ms', 'started_mono_ms', 'extra', '__proto__'), fc.jsonValue({ maxDepth: 2 }))
      .map(([h, k, v]) => json(Object.defineProperty({ format: 'twinedge-capture', version: 1, ...h } as Record<string, unknown>, k, { value: v, enumerable: true }))),
  },
  { weight: 1, arbitrary: fc.oneof(fc.jsonValue({ maxDepth: 2 }).map(json), fc.string({ maxLength: 30 })) },
);
const entryLine = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.uint8Array({ minLength: 1, maxLength: 12 })).map(([t, b]) => json({ t, hex: Buffer.from(b).toString('hex') })) },
  { weight: 1, arbitrary: fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.string({ maxLength: 10 })).map(([t, reason]) => json({ t, event: 'disconnected', reason })) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }).map((t) => json({ t, event: 'connected' })) },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.record({ t: fc.oneof(fc.double(), fc.jsonValue({ maxDepth: 1 })), hex: fc.oneof(fc.constantFrom('', 'a', 'zz', '0g', 'AbCd', 'ff'.repeat(3)), fc.jsonValue({ maxDepth: 1 })), event: fc.oneof(fc.constantFrom('connected', 'disconnected', 'reset'), fc.jsonValue({ maxDepth: 1 })), reason: fc.jsonValue({ maxDepth: 1 }), format: fc.constant('twinedge-capture'), x: fc.integer() }, { requiredKeys: [] }),
    ).map(([o]) => json(o)),
  },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('', '   ', '{', '[]', 'null', '{"t":1,"hex":"00"', '{"t":1e400,"hex":"00"}'), fc.string({ maxLength: 20 })) },
);
const nearFile = fc.tuple(headerLine, fc.array(entryLine, { maxLength: 10 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([h, entries, eol, lastEol]) => [h, ...entries].join(eol) + (lastEol ? eol : ''));
const anyFile = fc.oneof(
  { weight: 6, arbitrary: nearFile.map((s) => Buffer.from(s, 'utf8')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')) },
);

test('arbitrary files and lines near the format: the recording or one CAPTURE_FILE_INVALID at a line of the file', FUZZ_TEST, async (t) => {
  const dir = await tempDir(t, 'twinedge-fuzz-capture-');
  await fuzz.check(t, fc.asyncProperty(anyFile, async (bytes) => {
    const file = nextFile(dir);
    await writeFile(file, bytes);
    await readOrRefuse(file, bytes.toString('utf8').split('\n').length);
  }), 400);
});

// Capture files (writer, streaming reader, validation) and the ReplayTransport that plays them.
//
// The ReplayTransport does not run test/conformance/transport.suite.ts: that suite needs a live
// device the test can send bytes to, unplug, and fail to open while it is away, and a recording
// has none of those. The clauses of the contract that do apply (order with times, close stops
// data, close twice is harmless, an unplug is reported once and open works after it, opening a
// device that is not there fails with TRANSPORT_OPEN_FAILED) are tested here on the replay's terms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/ops/clock.js';
import { DeviceReader } from '../../src/profiles/device-reader.js';
import { parseProfile } from '../../src/profiles/load.js';
import type { TimedSample } from '../../src/profiles/timing.js';
import {
  CaptureReader, CaptureWriter, readCaptureFile, type CaptureEntry, type CaptureHeader,
} from '../../src/transports/capture/capture-file.js';
import { END_OF_CAPTURE, ReplayTransport, type CaptureSource } from '../../src/transports/capture/replay-transport.js';
import type { TransportChunk, TransportListener } from '../../src/transports/transport.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';
import { LINES_PROFILE } from '../fixtures/profiles.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const WALL0 = Date.UTC(2025, 5, 1, 8, 0, 0);

const HEADER = {
  device: 'serial:/dev/ttyUSB0',
  profile: 'test/lines',
  serial: { path: '/dev/ttyUSB0', baud_rate: 9600, data_bits: 8, parity: 'none', stop_bits: 1 },
  started_wall_ms: WALL0,
  started_mono_ms: 1000.5,
} as const;

const FULL_HEADER: CaptureHeader = { format: 'twinedge-capture', version: 1, ...HEADER };

function recorder() {
  const chunks: TransportChunk[] = [];
  const disconnects: string[] = [];
  const listener: TransportListener = { data: (c) => chunks.push(c), disconnected: (r) => disconnects.push(r) };
  return { chunks, disconnects, listener, text: () => chunks.map((c) => text(c.bytes)).join('') };
}

const chunk = (t: number, s: string): CaptureEntry => ({ kind: 'chunk', t, bytes: bytes(s) });
const source = (entries: CaptureEntry[]): CaptureSource => ({ header: FULL_HEADER, entries });

// ---------------------------------------------------------------- the file

test('what CaptureWriter writes reads back the same: bytes, times (3 decimals), events; mode 0600', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'cap.jsonl');
  const w = await CaptureWriter.open(file, HEADER);
  w.chunk({ bytes: bytes('Light: 12.5 lx\n'), monoMs: 1000.5 + 12.3456789, wallMs: 0 });
  w.chunk({ bytes: new Uint8Array([0x00, 0xff, 0x0a, 0xab]), monoMs: 1000.5 + 40, wallMs: 0 });
  w.event('disconnected', 1000.5 + 50.25, 'Input/output error "EIO"');
  w.event('connected', 1000.5 + 900);
  // A view into a bigger buffer: only the viewed bytes are written.
  const big = bytes('xxLight: 3 lx\nyy');
  w.chunk({ bytes: big.subarray(2, 14), monoMs: 1000.5 + 901, wallMs: 0 });
  assert.equal(w.chunks, 3);
  assert.equal(w.bytes, 15 + 4 + 12);
  await w.close();

  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const lines = (await readFile(file, 'utf8')).split('\n');
  assert.equal(lines.pop(), '', 'every line ends with LF');
  assert.equal(lines.length, 6);
  assert.deepEqual(JSON.parse(lines[0]!), FULL_HEADER);
  assert.match(lines[0]!, /^\{"format":"twinedge-capture","version":1,"device":/, 'the header says what the file is at once');
  assert.equal(lines[2], '{"t":40,"hex":"00ff0aab"}', 'lowercase hex, t from the start of the capture');

  const r = await readCaptureFile(file);
  assert.deepEqual(r.header, FULL_HEADER);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.entries.map((e) => ({ ...e, ...(e.kind === 'chunk' ? { bytes: [...e.bytes] } : {}) })), [
    { kind: 'chunk', t: 12.346, bytes: [...bytes('Light: 12.5 lx\n')] },
    { kind: 'chunk', t: 40, bytes: [0x00, 0xff, 0x0a, 0xab] },
    { kind: 'disconnected', t: 50.25, reason: 'Input/output error "EIO"' },
    { kind: 'connected', t: 900 },
    { kind: 'chunk', t: 901, bytes: [...bytes('Light: 3 lx\n')] },
  ]);
  assert.ok(r.entries.every((e) => e.kind !== 'chunk' || e.bytes.constructor === Uint8Array), 'bytes, not hex, and plain Uint8Array');
});

test('a capture without profile or serial settings is valid, and 20 000 chunks written back to back keep their order', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'many.jsonl');
  const w = await CaptureWriter.open(file, { device: 'serial:/dev/ttyACM0', started_wall_ms: WALL0, started_mono_ms: 0 });
  for (let i = 0; i < 20_000; i++) w.chunk({ bytes: bytes(`${i}\n`), monoMs: i * 0.25, wallMs: 0 });
  await w.close();
  const r = await readCaptureFile(file);
  assert.deepEqual(r.header, { format: 'twinedge-capture', version: 1, device: 'serial:/dev/ttyACM0', started_wall_ms: WALL0, started_mono_ms: 0 });
  assert.equal(r.entries.length, 20_000);
  r.entries.forEach((e, i) => {
    assert.equal(e.t, i * 0.25);
    assert.equal(e.kind === 'chunk' && text(e.bytes), `${i}\n`);
  });
});

test('CaptureWriter never overwrites a file, and never writes a t that goes back', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'cap.jsonl');
  await writeFile(file, 'an earlier capture\n');
  await assert.rejects(CaptureWriter.open(file, HEADER), { code: 'EEXIST' });
  assert.equal(await readFile(file, 'utf8'), 'an earlier capture\n');

  const other = join(dir, 'other.jsonl');
  const w = await CaptureWriter.open(other, { ...HEADER, started_mono_ms: 100 });
  w.chunk({ bytes: bytes('a'), monoMs: 150, wallMs: 0 });
  // A caller's clock earlier than the last line, or than the start: clamped, the file stays readable.
  w.chunk({ bytes: bytes('b'), monoMs: 120, wallMs: 0 });
  w.event('connected', 50);
  await w.close();
  await w.close();
  const r = await readCaptureFile(other);
  assert.deepEqual(r.entries.map((e) => e.t), [50, 50, 50]);
});

/** Writes a capture from its lines; `end` is what follows the last line. */
async function captureText(dir: string, lines: string[], end = '\n'): Promise<string> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.jsonl`);
  await writeFile(file, lines.join('\n') + end);
  return file;
}

const H = JSON.stringify(FULL_HEADER);

test('a malformed capture is CAPTURE_FILE_INVALID at the right file and line, the message naming the key', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<{ name: string; lines: string[]; line: number; message: RegExp }> = [
    { name: 'bad JSON in the middle', lines: [H, '{"t":1,"hex":"0a"}', '{"t":2,"hex":"0a"', '{"t":3,"hex":"0a"}'], line: 3, message: /not JSON/ },
    { name: 't going back', lines: [H, '{"t":1,"hex":"0a"}', '{"t":5,"hex":"0a"}', '{"t":4.5,"hex":"0a"}'], line: 4, message: /"t" goes back from 5 to 4\.5/ },
    { name: 'negative t', lines: [H, '{"t":-1,"hex":"0a"}'], line: 2, message: /"t"/ },
    { name: 't not a number', lines: [H, '{"t":"1","hex":"0a"}'], line: 2, message: /"t"/ },
    { name: 't missing', lines: [H, '{"hex":"0a"}'], line: 2, message: /"t" is missing/ },
    { name: 'odd hex', lines: [H, '{"t":1,"hex":"0a"}', '{"t":2,"hex":"0a0"}'], line: 3, message: /"hex" has 3 digits/ },
    { name: 'not hex', lines: [H, '{"t":1,"hex":"0g"}'], line: 2, message: /"hex" has "g" at digit 2/ },
    { name: 'an unknown key on a chunk', lines: [H, '{"t":1,"hex":"0a","crc":1}'], line: 2, message: /unknown key "crc"/ },
    { name: 'an unknown key in the header', lines: [H.replace('"device"', '"devise":"x","device"'), '{"t":1,"hex":"0a"}'], line: 1, message: /unknown key "devise"/ },
    { name: 'an unknown event', lines: [H, '{"t":1,"event":"rebooted"}'], line: 2, message: /"event" is "rebooted"/ },
    { name: 'a disconnect without its reason', lines: [H, '{"t":1,"event":"disconnected"}'], line: 2, message: /"reason"/ },
    { name: 'missing header', lines: ['{"t":1,"hex":"0a"}', '{"t":2,"hex":"0a"}'], line: 1, message: /"format" is missing/ },
    { name: 'another format', lines: [H.replace('twinedge-capture', 'pcap'), '{"t":1,"hex":"0a"}'], line: 1, message: /"format"/ },
    { name: 'a newer version', lines: [H.replace('"version":1', '"version":2')], line: 1, message: /"version" is 2/ },
    { name: 'a bad baud rate', lines: [H.replace('"baud_rate":9600', '"baud_rate":"fast"')], line: 1, message: /"serial\.baud_rate"/ },
    { name: 'a second header (two captures joined)', lines: [H, '{"t":1,"hex":"0a"}', H], line: 3, message: /"format" may appear on line 1 only/ },
    // The last line, but complete with its LF: not a cut, an error.
    { name: 'bad JSON on the last line, LF-terminated', lines: [H, '{"t":1,"hex":"0a"}', '{"t":2,"hex":"0a'], line: 3, message: /not JSON/ },
  ];
  for (const c of cases) {
    const file = await captureText(dir, c.lines);
    await assert.rejects(readCaptureFile(file), (e: { code: string; place: { file: string; line: number }; message: string }) => {
      assert.equal(e.code, 'CAPTURE_FILE_INVALID', c.name);
      assert.deepEqual({ file: e.place.file, line: e.place.line }, { file, line: c.line }, c.name);
      assert.match(e.message, c.message, c.name);
      return true;
    }, c.name);
  }
  const empty = await captureText(dir, [], '');
  await assert.rejects(readCaptureFile(empty), { code: 'CAPTURE_FILE_INVALID', place: { file: empty, line: 1 } });
  await assert.rejects(readCaptureFile(join(dir, 'none.jsonl')), { code: 'CAPTURE_FILE_INVALID', place: { file: join(dir, 'none.jsonl') } });
});

test('a last line cut short (no LF, not JSON) is skipped with a warning; the entries before it are intact', async (t) => {
  const dir = await tempDir(t);
  const lines = [H, '{"t":1,"hex":"0a"}', '', '{"t":2,"event":"disconnected","reason":"gone"}', '{"t":3,"hex":"0b0c"}', '{"t":4,"hex":"0d0'];
  const r = await readCaptureFile(await captureText(dir, lines, ''));
  assert.deepEqual(r.entries.map((e) => `${e.kind}@${e.t}`), ['chunk@1', 'disconnected@2', 'chunk@3'], 'a blank line is skipped too');
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0]!.line, 6);
  assert.match(r.warnings[0]!.message, /cut short/);
  // A complete last line without its LF is a good line, not a cut one.
  const whole = await readCaptureFile(await captureText(dir, [H, '{"t":1,"hex":"0a"}', '{"t":2,"hex":"0b"}'], ''));
  assert.deepEqual(whole.entries.map((e) => e.t), [1, 2]);
  assert.deepEqual(whole.warnings, []);
});

test('CaptureReader streams: entries before a bad line are yielded before the error, with the header first', async (t) => {
  const dir = await tempDir(t);
  const good = Array.from({ length: 5000 }, (_, i) => `{"t":${i},"hex":"${(i % 256).toString(16).padStart(2, '0')}"}`);
  const file = await captureText(dir, [H, ...good, '{"t":5000,"hex":"zz"}', ...good.slice(0, 10)]);
  const reader = await CaptureReader.open(file);
  assert.deepEqual(reader.header, FULL_HEADER);
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const e of reader.entries) seen.push(e.t);
  }, { code: 'CAPTURE_FILE_INVALID', place: { file, line: 5002 } });
  assert.equal(seen.length, 5000);
  assert.equal(seen[4999], 4999);
});

// ---------------------------------------------------------------- replay

test('replay at full speed: every chunk in order, stamped with the captured times; the end is reported once', async () => {
  const clock = new ManualClock(WALL0 + 86_400_000);
  clock.advance(5000);
  const r = recorder();
  const replay = new ReplayTransport({ capture: source([chunk(0.5, 'one\n'), chunk(250, 'two\n'), chunk(250, 'three\n'), chunk(1999.125, 'four\n')]) }, clock, r.listener);
  assert.equal(replay.manifest.name, 'replay');
  assert.equal(replay.id, 'replay:serial:/dev/ttyUSB0');
  assert.equal(replay.isOpen, false);
  await replay.open();
  assert.equal(replay.isOpen, true);
  await replay.ended;
  await until(() => r.disconnects.length > 0, 'the end to be reported');
  assert.equal(r.text(), 'one\ntwo\nthree\nfour\n');
  // monoMs: the clock at open + t (not the replay's delivery time); wallMs: the capture's own wall time.
  assert.deepEqual(r.chunks.map((c) => c.monoMs), [5000.5, 5250, 5250, 6999.125]);
  assert.deepEqual(r.chunks.map((c) => c.wallMs), [WALL0 + 0.5, WALL0 + 250, WALL0 + 250, WALL0 + 1999.125]);
  await new Promise((res) => setTimeout(res, 20));
  assert.deepEqual(r.disconnects, [END_OF_CAPTURE]);
  assert.equal(replay.isOpen, false);
  await assert.rejects(replay.open(), { code: 'TRANSPORT_OPEN_FAILED' }, 'a capture played to its end does not come back');
});

test('replay: a recorded disconnect reaches the listener once and closes; open() plays on after it', async () => {
  const clock = new ManualClock(WALL0);
  const r = recorder();
  const replay = new ReplayTransport({
    capture: source([
      chunk(1, 'a\n'),
      { kind: 'disconnected', t: 2, reason: 'Input/output error' },
      { kind: 'connected', t: 700 },
      chunk(701, 'b\n'),
    ]),
    atEnd: 'stay-open',
  }, clock, r.listener);
  await replay.open();
  await until(() => r.disconnects.length > 0, 'the recorded disconnect');
  assert.deepEqual(r.disconnects, ['Input/output error']);
  assert.equal(replay.isOpen, false);
  await new Promise((res) => setTimeout(res, 30));
  assert.equal(r.text(), 'a\n', 'nothing after the disconnect until it is opened again');
  await replay.open();
  await replay.ended;
  assert.equal(r.text(), 'a\nb\n', 'the connected event gives no data');
  assert.deepEqual(r.chunks.map((c) => c.monoMs), [1, 701], 'the time away shows in the stamps');
  assert.deepEqual(r.disconnects, ['Input/output error'], "'stay-open': the end is not a disconnect");
  assert.equal(replay.isOpen, true);
  await replay.close();
  assert.equal(replay.isOpen, false);
});

test('replay: a listener may open again from inside disconnected(), as a supervisor does', async () => {
  const r = recorder();
  let replay!: ReplayTransport;
  const listener: TransportListener = {
    data: r.listener.data,
    disconnected: (reason) => {
      r.disconnects.push(reason);
      if (reason !== END_OF_CAPTURE) void replay.open();
    },
  };
  replay = new ReplayTransport({ capture: source([chunk(0, 'a'), { kind: 'disconnected', t: 1, reason: 'x' }, chunk(2, 'b'), { kind: 'disconnected', t: 3, reason: 'y' }, chunk(4, 'c')]) }, new ManualClock(WALL0), listener);
  await replay.open();
  await replay.ended;
  await until(() => r.disconnects.length === 3, 'every disconnect');
  assert.equal(r.text(), 'abc');
  assert.deepEqual(r.disconnects, ['x', 'y', END_OF_CAPTURE]);
});

test('replay: close() stops delivery at once, twice is harmless, is no disconnect, and open() resumes', async () => {
  const r = recorder();
  // At real time, 'two' is due 300 ms after 'one'.
  const replay = new ReplayTransport({ capture: source([chunk(0, 'one\n'), chunk(300, 'two\n'), chunk(310, 'three\n')]), speed: 1 }, new ManualClock(WALL0), r.listener);
  await replay.open();
  await until(() => r.chunks.length === 1, 'the first chunk');
  await replay.close();
  await replay.close();
  assert.equal(replay.isOpen, false);
  await new Promise((res) => setTimeout(res, 450));
  assert.equal(r.text(), 'one\n', 'nothing after close resolved, though two was due');
  assert.deepEqual(r.disconnects, []);
  await replay.open();
  await replay.ended;
  assert.equal(r.text(), 'one\ntwo\nthree\n');
  assert.deepEqual(r.chunks.map((c) => c.monoMs), [0, 300, 310], 'a pause does not shift the stamps');
});

test('replay at 20x is paced by the capture times; the stamps are the same as at full speed', async () => {
  const entries = Array.from({ length: 11 }, (_, i) => chunk(i * 100, `${i}\n`));
  const paced = recorder();
  const started = performance.now();
  const replay = new ReplayTransport({ capture: source(entries), speed: 20 }, new ManualClock(WALL0), paced.listener);
  await replay.open();
  await replay.ended;
  const elapsed = performance.now() - started;
  // 1000 ms of capture at 20x is 50 ms; a lower bound only: a slow machine may take longer.
  assert.ok(elapsed >= 45, `paced: took ${elapsed.toFixed(1)} ms`);

  const fast = recorder();
  const unpaced = new ReplayTransport({ capture: source(entries) }, new ManualClock(WALL0), fast.listener);
  await unpaced.open();
  await unpaced.ended;
  assert.equal(paced.text(), fast.text());
  assert.deepEqual(paced.chunks.map((c) => [c.monoMs, c.wallMs]), fast.chunks.map((c) => [c.monoMs, c.wallMs]));
});

test('replay at full speed delivers everything, yet lets the event loop run in between', async () => {
  const n = 50_000;
  const entries = Array.from({ length: n }, (_, i) => chunk(i, 'x'));
  let delivered = 0;
  let last = -1;
  const replay = new ReplayTransport({ capture: source(entries) }, new ManualClock(WALL0), {
    data: (c) => {
      assert.ok(c.monoMs > last);
      last = c.monoMs;
      delivered++;
    },
    disconnected: () => {},
  });
  let turns = 0;
  let deliveredAtFirstTurn = -1;
  let over = false;
  const tick = () => {
    if (deliveredAtFirstTurn < 0) deliveredAtFirstTurn = delivered;
    turns++;
    if (!over) setImmediate(tick);
  };
  await replay.open();
  setImmediate(tick);
  try {
    await replay.ended;
  } finally {
    over = true;
  }
  assert.equal(delivered, n);
  assert.ok(deliveredAtFirstTurn < n, 'another task ran before the replay was over');
  assert.ok(turns > 10, `the event loop turned ${turns} times during the replay`);
});

test('replay from a file path streams it; a missing file is TRANSPORT_OPEN_FAILED; a bad line part-way rejects ended', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'cap.jsonl');
  const w = await CaptureWriter.open(file, HEADER);
  for (let i = 0; i < 1000; i++) w.chunk({ bytes: bytes(`${i}\n`), monoMs: 1000.5 + i, wallMs: 0 });
  await w.close();
  const r = recorder();
  const replay = new ReplayTransport({ capture: file }, new ManualClock(WALL0), r.listener);
  assert.equal(replay.header, undefined, 'not read before the first open');
  await replay.open();
  assert.deepEqual(replay.header, FULL_HEADER);
  await replay.ended;
  assert.equal(r.chunks.length, 1000);
  assert.equal(r.chunks[999]!.wallMs, WALL0 + 999);

  const absent = new ReplayTransport({ capture: join(dir, 'none.jsonl') }, new ManualClock(WALL0), recorder().listener);
  await assert.rejects(absent.open(), { code: 'TRANSPORT_OPEN_FAILED' });
  assert.equal(absent.isOpen, false);

  const bad = await captureText(dir, [H, '{"t":1,"hex":"61"}', '{"t":2,"hex":"62"}', '{"t":3,"hex":"6"}', '{"t":4,"hex":"64"}']);
  const rb = recorder();
  const broken = new ReplayTransport({ capture: bad }, new ManualClock(WALL0), rb.listener);
  await broken.open();
  await assert.rejects(broken.ended, { code: 'CAPTURE_FILE_INVALID', place: { file: bad, line: 4 } });
  assert.equal(rb.text(), 'ab', 'the good lines before it were played');
  assert.equal(broken.isOpen, false);
  assert.deepEqual(rb.disconnects, [], 'a bad file is not a device going away');
  await assert.rejects(broken.open(), { code: 'CAPTURE_FILE_INVALID' });
});

test('replay refuses a speed that is not above 0', () => {
  for (const speed of [0, -1, Number.NaN]) {
    assert.throws(() => new ReplayTransport({ capture: source([]), speed }, new ManualClock(WALL0), recorder().listener), TypeError);
  }
});

// ---------------------------------------------------------------- replay -> DeviceReader


async function decodeAt(entries: CaptureEntry[], speed: number) {
  const parsed = parseProfile(LINES_PROFILE, 'lines.yaml');
  assert.ok('profile' in parsed, 'the test profile loads');
  const samples: TimedSample[] = [];
  const reader = new DeviceReader({ profile: parsed.profile, onSamples: (s) => samples.push(...s) });
  const replay: ReplayTransport = new ReplayTransport({ capture: source(entries), speed, atEnd: 'stay-open' }, new ManualClock(WALL0), {
    data: (c) => reader.push(c),
    disconnected: () => {
      reader.gap();
      void replay.open();
    },
  });
  await replay.open();
  await replay.ended;
  reader.end();
  return { samples, stats: reader.stats() };
}

test('a capture decodes to the same timed samples at any speed', async () => {
  // One line a second; bursts (two lines in one read, a line split across reads) and a garbage line.
  const entries: CaptureEntry[] = [
    chunk(10, 'Light: 1 lx\n'),
    chunk(1012, 'Light: 2 lx\nLight: 3'),
    chunk(1020, ' lx\n'),
    chunk(2011, '#garbage#\n'),
    chunk(3009, 'Light: 4.5 lx\n'),
    { kind: 'disconnected', t: 3500, reason: 'gone' },
    { kind: 'connected', t: 9000 },
    chunk(9004, 'Light: 5 lx\n'),
  ];
  const fast = await decodeAt(entries, Infinity);
  const paced = await decodeAt(entries, 50);
  assert.deepEqual(fast.samples.map((s) => s.value), [1, 2, 3, 4.5, 5]);
  assert.deepEqual(paced.samples, fast.samples);
  assert.deepEqual(paced.stats, fast.stats);
  assert.deepEqual(fast.stats.issues, { LINE_NO_MATCH: 1 });
  assert.equal(fast.stats.rejected, 1);
  // Sample times are on the capture's timeline: the last one is at its arrival after the gap.
  assert.equal(fast.samples.at(-1)!.wallMs, WALL0 + 9004);
});

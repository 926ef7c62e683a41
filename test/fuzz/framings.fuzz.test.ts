// The serial framings (lines, SLIP, COBS, length-crc) under hostile streams: arbitrary bytes, and
// streams of frames encoded here (each framing's own rules: RFC 1055 escapes, COBS blocks, sync +
// length + CRC) mixed with garbage and damage, pushed in arbitrary chunkings. Per the FrameDecoder
// contract: no throw; the same frames and errors, with the same offsets, for every chunking; the
// bytes held never above the documented bound (maxFrameBytes, plus the CR a line may end with,
// plus a length-crc frame's header and CRC); nothing held after end(); and encoded frames come
// back as they were sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_MAX_FRAME_BYTES, type FrameDecoder, type FrameError, type FrameSink } from '../../src/transports/serial/framing/framing.js';
import { FRAMINGS, type FramingName } from '../../src/transports/serial/framing/registry.js';
import type { CrcKind, CrcRange, LengthCrcOptions, LengthField } from '../../src/transports/serial/framing/length-crc.js';
import { cobs, CRC, lengthCrc, slip } from './encoders.js';
import { assertIssue, chunked, FUZZ_TEST, fuzzTarget } from './fuzz.js';

const fuzz = fuzzTarget('framings');

type Event = { frame: string } | { error: string; at: number; length: number };

interface Setup {
  readonly kind: FramingName;
  readonly options: Record<string, unknown>;
}

/** The most a decoder may hold, from its options, as the framing documents it. */
function bound(s: Setup): number {
  const max = (s.options.maxFrameBytes as number | undefined) ?? DEFAULT_MAX_FRAME_BYTES;
  switch (s.kind) {
    case 'lines': return max + 1; // a line of max bytes may still be followed by its CR
    case 'slip':
    case 'cobs': return max;
    case 'length-crc': {
      const o = s.options as LengthCrcOptions;
      const lengthBytes = (o.length ?? 'u8') === 'u8' ? 1 : 2;
      return (o.sync ?? [0xaa, 0x55]).length + lengthBytes + Math.min(max, lengthBytes === 1 ? 0xff : 0xffff) + ((o.crc ?? 'crc16-ccitt') === 'crc8' ? 1 : 2);
    }
  }
}

function largestFrame(s: Setup): number {
  const max = (s.options.maxFrameBytes as number | undefined) ?? DEFAULT_MAX_FRAME_BYTES;
  if (s.kind !== 'length-crc') return max;
  return Math.min(max, ((s.options as LengthCrcOptions).length ?? 'u8') === 'u8' ? 0xff : 0xffff);
}

/** Pushes the chunks (checking the bound after each), ends the stream, and returns what came out. */
function run(s: Setup, chunks: readonly Uint8Array[]): Event[] {
  const events: Event[] = [];
  let total = 0;
  const sink: FrameSink = {
    frame: (f) => { events.push({ frame: Buffer.from(f).toString('hex') }); },
    error: (e: FrameError) => { events.push({ error: e.code, at: e.byteOffset, length: e.length }); },
  };
  const d: FrameDecoder = FRAMINGS[s.kind](sink, s.options as never);
  const limit = bound(s);
  for (const c of chunks) {
    d.push(c);
    total += c.length;
    assert.ok(d.bufferedBytes >= 0 && d.bufferedBytes <= limit, `${s.kind} holds ${d.bufferedBytes} bytes, over its bound ${limit}`);
  }
  d.end();
  assert.equal(d.bufferedBytes, 0, 'bytes held after end()');
  const largest = largestFrame(s);
  for (const e of events) {
    if ('frame' in e) assert.ok(e.frame.length / 2 <= largest, `a frame of ${e.frame.length / 2} bytes, over ${largest}`);
    else {
      assertIssue({ code: e.error, message: 'x' }, ['FRAME']);
      assert.ok(e.at >= 0 && e.length >= 0 && e.at + e.length <= total, `error ${e.error} at ${e.at}+${e.length} of ${total} bytes`);
    }
  }
  return events;
}

const maxFrameBytes = fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined });
const lengthCrcOptions: fc.Arbitrary<LengthCrcOptions> = fc.record({
  sync: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 4 }),
  length: fc.constantFrom<LengthField>('u8', 'u16le', 'u16be'),
  crc: fc.constantFrom<CrcKind>('crc8', 'crc16-ccitt', 'crc16-modbus'),
  crcByteOrder: fc.constantFrom<'le' | 'be'>('le', 'be'),
  crcOver: fc.constantFrom<CrcRange>('length+payload', 'sync+length+payload', 'payload'),
  maxFrameBytes: fc.integer({ min: 1, max: 300 }),
}, { requiredKeys: [] });
const setup: fc.Arbitrary<Setup> = fc.oneof(
  fc.tuple(fc.constantFrom<FramingName>('lines', 'slip', 'cobs'), maxFrameBytes).map(([kind, max]) => ({ kind, options: max === undefined ? {} : { maxFrameBytes: max } })),
  lengthCrcOptions.map((options) => ({ kind: 'length-crc' as const, options: options as Record<string, unknown> })),
);

const ascii = (s: string) => [...Buffer.from(s, 'ascii')];

test('the encoders here give the catalogue check values and the documented escapes', () => {
  const check = ascii('123456789');
  assert.equal(CRC['crc8'](check), 0xf4);
  assert.equal(CRC['crc16-ccitt'](check), 0x29b1);
  assert.equal(CRC['crc16-modbus'](check), 0x4b37);
  assert.deepEqual(slip(Uint8Array.of(1, 0xc0, 0xdb)), [0xc0, 1, 0xdb, 0xdc, 0xdb, 0xdd, 0xc0]);
  // The example of Cheshire and Baker's paper, as on Wikipedia: 11 22 00 33 -> 03 11 22 02 33.
  assert.deepEqual(cobs(Uint8Array.of(0x11, 0x22, 0x00, 0x33)), [0x03, 0x11, 0x22, 0x02, 0x33, 0x00]);
});

test('arbitrary bytes in arbitrary chunks: same events for every chunking, memory within bounds', FUZZ_TEST, async (t) => {
  const stream = fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    // Bytes each framing treats specially, so that escapes, delimiters and syncs are frequent.
    fc.array(fc.constantFrom(0x00, 0x0a, 0x0d, 0xc0, 0xdb, 0xdc, 0xdd, 0xaa, 0x55, 0x01, 0xff, 0x02), { maxLength: 400 }).map((a) => Uint8Array.from(a)),
  );
  await fuzz.check(t, fc.property(setup, stream, fc.array(fc.nat(), { maxLength: 40 }), (s, bytes, cuts) => {
    const whole = run(s, [bytes]);
    assert.deepEqual(run(s, chunked(bytes, cuts)), whole);
    assert.deepEqual(run(s, Array.from(bytes, (b) => Uint8Array.of(b))), whole, 'one byte at a time');
  }), 800);
});

test('lines round trip: every line up to maxFrameBytes comes back, longer ones are reported, empty ones skipped', FUZZ_TEST, async (t) => {
  const line = fc.uint8Array({ maxLength: 50 }).map((b) => b.filter((x) => x !== 0x0a)).filter((b) => b.length === 0 || b[b.length - 1] !== 0x0d);
  await fuzz.check(t, fc.property(maxFrameBytes, fc.array(fc.tuple(line, fc.boolean()), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 10 }), (max, lines, cuts) => {
    const s: Setup = { kind: 'lines', options: max === undefined ? {} : { maxFrameBytes: max } };
    const limit = max ?? DEFAULT_MAX_FRAME_BYTES;
    const stream = Uint8Array.from(lines.flatMap(([l, crlf]) => [...l, ...(crlf ? [0x0d] : []), 0x0a]));
    const want = lines.filter(([l]) => l.length > 0).map(([l]) => (l.length <= limit ? { frame: Buffer.from(l).toString('hex') } : 'FRAME_TOO_LONG'));
    const got = run(s, chunked(stream, cuts)).map((e) => ('frame' in e ? e : e.error));
    assert.deepEqual(got, want);
  }), 1500);
});

test('SLIP and COBS round trip: every frame comes back whole, or is reported too long', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(fc.boolean(), maxFrameBytes, fc.array(fc.uint8Array({ maxLength: 48 }), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (useSlip, max, frames, cuts) => {
    const s: Setup = { kind: useSlip ? 'slip' : 'cobs', options: max === undefined ? {} : { maxFrameBytes: max } };
    const limit = max ?? DEFAULT_MAX_FRAME_BYTES;
    const stream = Uint8Array.from(frames.flatMap((f) => (useSlip ? slip(f) : cobs(f))));
    // SLIP skips an empty frame (END END); COBS sends one as the block 01 and delivers it.
    const want = frames.filter((f) => !useSlip || f.length > 0).map((f) => (f.length <= limit ? { frame: Buffer.from(f).toString('hex') } : 'FRAME_TOO_LONG'));
    assert.deepEqual(run(s, chunked(stream, cuts)).map((e) => ('frame' in e ? e : e.error)), want);
  }), 1500);
});

test('length-crc round trip: frames behind garbage without a sync byte all come back, each run of garbage reported once', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(lengthCrcOptions, fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 12 })), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }),
    (o, parts, cuts) => {
      const max = Math.min(o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, (o.length ?? 'u8') === 'u8' ? 0xff : 0xffff);
      const syncFirst = (o.sync ?? [0xaa, 0x55])[0]!;
      const stream: number[] = [];
      const want: Array<Event | string> = [];
      for (const [payload, garbage] of parts) {
        const g = [...garbage].filter((b) => b !== syncFirst);
        stream.push(...g);
        if (g.length > 0) want.push('FRAME_GARBAGE');
        const p = payload.subarray(0, max);
        stream.push(...lengthCrc(p, o));
        want.push({ frame: Buffer.from(p).toString('hex') });
      }
      const got = run({ kind: 'length-crc', options: o as Record<string, unknown> }, chunked(Uint8Array.from(stream), cuts));
      assert.deepEqual(got.map((e) => ('frame' in e ? e : e.error)), want);
    }), 1500);
});

test('length-crc resynchronises: after a damaged frame, every good frame is still found', FUZZ_TEST, async (t) => {
  type Part = { payload: Uint8Array; damage: 'none' | 'flip' | 'cut'; where: number };
  const part: fc.Arbitrary<Part> = fc.record({ payload: fc.uint8Array({ minLength: 1, maxLength: 30 }), damage: fc.constantFrom<Part['damage']>('none', 'none', 'flip', 'cut'), where: fc.nat() });
  await fuzz.check(t, fc.property(lengthCrcOptions, fc.array(part, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (o, parts, cuts) => {
    const max = Math.min(o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, (o.length ?? 'u8') === 'u8' ? 0xff : 0xffff);
    const stream: number[] = [];
    const good: string[] = [];
    for (const { payload, damage, where } of parts) {
      const p = payload.subarray(0, max);
      const bytes = lengthCrc(p, o);
      if (damage === 'none') {
        good.push(Buffer.from(p).toString('hex'));
        stream.push(...bytes);
      } else if (damage === 'flip') {
        const bit = where % (bytes.length * 8);
        bytes[bit >> 3]! ^= 1 << (bit & 7);
        stream.push(...bytes);
      } else {
        stream.push(...bytes.slice(0, where % bytes.length));
      }
    }
    const frames = run({ kind: 'length-crc', options: o as Record<string, unknown> }, chunked(Uint8Array.from(stream), cuts))
      .flatMap((e) => ('frame' in e ? [e.frame] : []));
    // Garbage can pass a CRC by chance (1 in 256 for crc8) and make a frame of its own, which may
    // swallow a good one. Unless that happened, the frames are exactly the good ones, in order.
    if (frames.every((f) => good.includes(f))) assert.deepEqual(frames, good);
  }), 1500);
});

test('a line that never ends, fed in large chunks, is held within the bound and reported once', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(maxFrameBytes, fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 3000 }), (max, chunks, size) => {
    const s: Setup = { kind: 'lines', options: max === undefined ? {} : { maxFrameBytes: max } };
    const events = run(s, Array.from({ length: chunks }, () => new Uint8Array(size).fill(0x41)));
    const limit = max ?? DEFAULT_MAX_FRAME_BYTES;
    assert.deepEqual(events.map((e) => ('error' in e ? e.error : 'frame')), [chunks * size > limit ? 'FRAME_TOO_LONG' : 'FRAME_TRUNCATED']);
  }), 300);
});

// Found by the property above (maxFrameBytes 6, seven bytes and no LF): end() called a line of
// maxFrameBytes + 1 bytes truncated rather than too long, since the buffer keeps a byte for a CR.
test('regression: a cut line one byte over maxFrameBytes is FRAME_TOO_LONG; one of maxFrameBytes is FRAME_TRUNCATED', () => {
  const codes = (text: string) => run({ kind: 'lines', options: { maxFrameBytes: 6 } }, [Buffer.from(text, 'ascii')]).map((e) => ('error' in e ? e.error : 'frame'));
  assert.deepEqual(codes('AAAAAAA'), ['FRAME_TOO_LONG']);
  assert.deepEqual(codes('AAAAAA'), ['FRAME_TRUNCATED']);
  assert.deepEqual(run({ kind: 'lines', options: { maxFrameBytes: 6 } }, [Buffer.from('AAAAAA\r\n', 'ascii')]), [{ frame: '414141414141' }]);
});

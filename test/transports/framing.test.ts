import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc16Ccitt, crc16Modbus, crc8 } from '../../src/transports/checksums.js';
import { FRAME_ERRORS, type FrameDecoder, type FrameSink } from '../../src/transports/serial/framing/framing.js';
import type { LengthCrcOptions } from '../../src/transports/serial/framing/length-crc.js';
import { FRAMINGS, type FramingName } from '../../src/transports/serial/framing/registry.js';

// Encoders written from the specifications, independent of the decoders under test.

const bytes = (...parts: (ArrayLike<number> | number)[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : Array.from(p))));
const text = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function encodeSlip(payload: Uint8Array): Uint8Array {
  const out = [0xc0];
  for (const b of payload) {
    if (b === 0xc0) out.push(0xdb, 0xdc);
    else if (b === 0xdb) out.push(0xdb, 0xdd);
    else out.push(b);
  }
  out.push(0xc0);
  return Uint8Array.from(out);
}

function encodeCobs(payload: Uint8Array): Uint8Array {
  const out = [0];
  let codeAt = 0;
  let code = 1;
  const close = () => { out[codeAt] = code; codeAt = out.length; out.push(0); code = 1; };
  for (const b of payload) {
    if (b === 0) close();
    else {
      out.push(b);
      if (++code === 0xff) close();
    }
  }
  out[codeAt] = code;
  out.push(0);
  return Uint8Array.from(out);
}

function encodeLengthCrc(payload: Uint8Array, o: Required<LengthCrcOptions>): Uint8Array {
  const len = o.length === 'u8' ? [payload.length] : o.length === 'u16le' ? [payload.length & 0xff, payload.length >> 8] : [payload.length >> 8, payload.length & 0xff];
  const head = bytes(o.sync, len);
  const covered = o.crcOver === 'payload' ? payload : o.crcOver === 'length+payload' ? bytes(len, payload) : bytes(head, payload);
  const crc = o.crc === 'crc8' ? crc8(covered) : o.crc === 'crc16-ccitt' ? crc16Ccitt(covered) : crc16Modbus(covered);
  const tail = o.crc === 'crc8' ? [crc] : o.crcByteOrder === 'le' ? [crc & 0xff, crc >> 8] : [crc >> 8, crc & 0xff];
  return bytes(head, payload, tail);
}

// What a decoder reports, in order, as comparable strings; a frame is copied as the contract says.

type Event = string;
const frame = (b: Uint8Array) => `frame ${hex(b)}`;
const err = (code: string, byteOffset: number, length: number) => `${code} @${byteOffset}+${length}`;

function run(make: (sink: FrameSink) => FrameDecoder, chunks: Uint8Array[], bound = Infinity): Event[] {
  const events: Event[] = [];
  const decoder = make({ frame: (f) => events.push(frame(f)), error: (e) => events.push(err(e.code, e.byteOffset, e.length)) });
  for (const c of chunks) {
    decoder.push(c);
    assert.ok(decoder.bufferedBytes <= bound, `buffered ${decoder.bufferedBytes} > ${bound}`);
  }
  decoder.end();
  assert.equal(decoder.bufferedBytes, 0, 'end() leaves nothing buffered');
  return events;
}

/** The stream whole, in 1-byte chunks, and cut in two at every point. */
function* chunkings(stream: Uint8Array): Generator<[string, Uint8Array[]]> {
  yield ['whole', [stream]];
  yield ['1-byte chunks', Array.from(stream, (b) => Uint8Array.of(b))];
  for (let cut = 0; cut <= stream.length; cut++) yield [`cut at ${cut}`, [stream.subarray(0, cut), stream.subarray(cut)]];
}

function cutAt(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, stream.length]) {
    out.push(stream.subarray(from, p));
    from = p;
  }
  return out;
}

/** Every chunking of `stream` gives exactly `expected`. */
function checkAllSplits(make: (sink: FrameSink) => FrameDecoder, stream: Uint8Array, expected: Event[]): void {
  for (const [how, chunks] of chunkings(stream)) assert.deepEqual(run(make, chunks), expected, how);
}

interface Case {
  name: FramingName;
  make: (sink: FrameSink) => FrameDecoder;
  encode: (payload: Uint8Array) => Uint8Array;
  max: number;
  examples: Uint8Array[];
  /** Payloads this framing can carry, for the round-trip property. */
  payload: fc.Arbitrary<Uint8Array>;
  /** Bytes that matter to this framing, so random streams hit them often. */
  special: number[];
}

const LC_DEFAULT: Required<LengthCrcOptions> = { sync: [0xaa, 0x55], length: 'u8', crc: 'crc16-ccitt', crcByteOrder: 'be', crcOver: 'length+payload', maxFrameBytes: 32 };
const LC_MODBUS: Required<LengthCrcOptions> = { sync: [0x7e], length: 'u16le', crc: 'crc16-modbus', crcByteOrder: 'le', crcOver: 'sync+length+payload', maxFrameBytes: 300 };
const LC_CRC8: Required<LengthCrcOptions> = { sync: [0xb5, 0x62, 0x01], length: 'u16be', crc: 'crc8', crcByteOrder: 'be', crcOver: 'payload', maxFrameBytes: 40 };

const lineText = fc.string({ unit: fc.constantFrom(...'abc,=.-1234 \t'.split('')), minLength: 1, maxLength: 24 });

const CASES: Case[] = [
  {
    name: 'lines', max: 24,
    make: (sink) => FRAMINGS.lines(sink, { maxFrameBytes: 24 }),
    encode: (p) => bytes(p, 0x0a),
    examples: [text('hr=72,rr=833'), text('spo2=97\r'), text('x'.repeat(24)), text('t=36.6')],
    payload: lineText.map(text),
    special: [0x0a, 0x0d],
  },
  {
    name: 'slip', max: 16,
    make: (sink) => FRAMINGS.slip(sink, { maxFrameBytes: 16 }),
    encode: encodeSlip,
    examples: [bytes(1, 2, 3), bytes(0xc0, 0xdb, 0xdc, 0xdd, 0xc0), bytes(0xdb), Uint8Array.from({ length: 16 }, (_, i) => 0xc0 + i)],
    payload: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    special: [0xc0, 0xdb, 0xdc, 0xdd],
  },
  {
    name: 'cobs', max: 300,
    make: (sink) => FRAMINGS.cobs(sink, { maxFrameBytes: 300 }),
    encode: encodeCobs,
    examples: [bytes(0x11, 0x22, 0x00, 0x33), bytes(0, 0, 0), bytes(0x11, 0x00), Uint8Array.from({ length: 254 }, (_, i) => 1 + (i % 255)), Uint8Array.from({ length: 300 }, (_, i) => i % 256), bytes()],
    payload: fc.uint8Array({ maxLength: 300 }),
    special: [0x00, 0x01, 0x02, 0xff],
  },
  ...[LC_DEFAULT, LC_MODBUS, LC_CRC8].map((o, i): Case => ({
    name: 'length-crc', max: o.maxFrameBytes,
    make: (sink) => FRAMINGS['length-crc'](sink, o),
    encode: (p) => encodeLengthCrc(p, o),
    examples: [bytes(0x01, 0x02, 0x03), bytes(), bytes(o.sync, o.sync, 0x10), Uint8Array.from({ length: o.maxFrameBytes }, (_, k) => (k * 7 + i) & 0xff)],
    payload: fc.uint8Array({ maxLength: o.maxFrameBytes }),
    special: [...o.sync, 0, 1, 2, 3],
  })),
];

for (const c of CASES) {
  const label = c.name === 'length-crc' ? `${c.name} (max ${c.max})` : c.name;

  test(`${label}: example frames come out the same, in order, for every split of the stream`, () => {
    const stream = bytes(...c.examples.map(c.encode));
    const expected = c.examples.map((p) => frame(c.name === 'lines' && p[p.length - 1] === 0x0d ? p.subarray(0, -1) : p));
    assert.equal(expected.length, c.examples.length);
    checkAllSplits(c.make, stream, expected);
  });

  test(`${label}: any payloads in any chunking round-trip with no errors`, () => {
    fc.assert(fc.property(fc.array(c.payload, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (payloads, cuts) => {
      const stream = bytes(...payloads.map(c.encode));
      const got = run(c.make, cutAt(stream, cuts));
      assert.deepEqual(got, payloads.map(frame));
    }), { numRuns: 200 });
  });

  test(`${label}: arbitrary bytes in arbitrary chunks never throw, stay bounded and do not depend on the chunking`, () => {
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...c.special));
    fc.assert(fc.property(fc.array(byte, { maxLength: 2 * c.max + 40 }), fc.array(fc.nat(), { maxLength: 12 }), (arr, cuts) => {
      const stream = Uint8Array.from(arr);
      const whole = run(c.make, [stream], c.max + 8);
      assert.deepEqual(run(c.make, cutAt(stream, cuts), c.max + 8), whole);
      let lastOffset = -1;
      for (const e of whole) {
        const m = /^(FRAME_\w+) @(\d+)\+(\d+)$/.exec(e);
        if (m) {
          const [off, len] = [Number(m[2]), Number(m[3])];
          assert.ok(off > lastOffset && len > 0 && off + len <= stream.length, e);
          lastOffset = off;
        } else {
          assert.ok((e.length - 'frame '.length) / 2 <= c.max, 'no frame is longer than maxFrameBytes');
        }
      }
    }), { numRuns: 300 });
  });

  test(`${label}: reset() drops a partial frame silently and restarts offsets; end() reports it`, () => {
    const good = c.encode(c.examples[0]!);
    const events: Event[] = [];
    const d = c.make({ frame: (f) => events.push(frame(f)), error: (e) => events.push(err(e.code, e.byteOffset, e.length)) });
    d.push(good.subarray(0, good.length - 1));
    assert.ok(d.bufferedBytes > 0, 'a partial frame is held');
    d.reset();
    assert.equal(d.bufferedBytes, 0);
    const after = bytes(good, good.subarray(0, good.length - 1));
    d.push(after);
    d.end();
    const fresh = run(c.make, [after]);
    assert.equal(fresh.at(-1)!.split(' ')[0], FRAME_ERRORS.TRUNCATED, 'end() reports the partial frame');
    assert.deepEqual(events, fresh, 'after reset() only the new bytes count, with offsets from 0');
  });
}

// Corrupt streams: every good frame after the damage is decoded, every bad one reported, for every split.

test('lines: over-long and cut lines are reported, the lines after them decoded', () => {
  const make = (sink: FrameSink) => FRAMINGS.lines(sink, { maxFrameBytes: 8 });
  checkAllSplits(make, text('ok1\n' + 'x'.repeat(20) + '\nok2\r\n\r\n\n' + 'y'.repeat(8) + '\r\n' + 'z'.repeat(9) + '\r\nok3\nabc'), [
    frame(text('ok1')),
    err(FRAME_ERRORS.TOO_LONG, 4, 20),
    frame(text('ok2')),
    frame(text('y'.repeat(8))),
    err(FRAME_ERRORS.TOO_LONG, 43, 10),
    frame(text('ok3')),
    err(FRAME_ERRORS.TRUNCATED, 58, 3),
  ]);
  checkAllSplits(make, text('ok\n' + 'w'.repeat(30)), [frame(text('ok')), err(FRAME_ERRORS.TOO_LONG, 3, 30)]);
});

test('slip: invalid escapes, over-long and cut frames are dropped and the next frames decoded; empty frames skipped', () => {
  const make = (sink: FrameSink) => FRAMINGS.slip(sink, { maxFrameBytes: 8 });
  const p1 = bytes(1, 2, 3);
  const p2 = bytes(0xc0, 4);
  checkAllSplits(make, bytes(0xc0, 0xc0, encodeSlip(p1), 0xc0, 0xc0), [frame(p1)]);
  checkAllSplits(make, bytes(0xc0, 0x01, 0xdb, 0x7f, 0x02, encodeSlip(p1)), [err(FRAME_ERRORS.BAD_ESCAPE, 1, 4), frame(p1)]);
  // A frame cut inside an escape: the END that follows is not a valid escape.
  checkAllSplits(make, bytes(0xc0, 0xdb, encodeSlip(p1)), [err(FRAME_ERRORS.BAD_ESCAPE, 1, 1), frame(p1)]);
  checkAllSplits(make, bytes(0xc0, 0x09, 0xdb, encodeSlip(p2)), [err(FRAME_ERRORS.BAD_ESCAPE, 1, 2), frame(p2)]);
  checkAllSplits(make, bytes(encodeSlip(Uint8Array.from({ length: 9 }, (_, i) => i + 1)), encodeSlip(p1)), [err(FRAME_ERRORS.TOO_LONG, 1, 9), frame(p1)]);
  // Eight escaped bytes are 16 on the wire and still fit: the bound is on the decoded frame.
  const full = new Uint8Array(8).fill(0xdb);
  checkAllSplits(make, encodeSlip(full), [frame(full)]);
  // SLIP has no check: a frame cut short without an escape reaches the next stage as a short frame.
  checkAllSplits(make, bytes(encodeSlip(p1).subarray(0, 2), encodeSlip(p2), 0x05), [frame(bytes(1)), frame(p2), err(FRAME_ERRORS.TRUNCATED, 7, 1)]);
});

test('cobs: malformed code sequences, garbage and over-long frames are dropped and the next frames decoded', () => {
  const make = (sink: FrameSink) => FRAMINGS.cobs(sink, { maxFrameBytes: 8 });
  const p1 = bytes(0x11, 0x00, 0x22);
  const long = bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
  checkAllSplits(make, bytes(0x05, 0x01, 0x02, 0x00, encodeCobs(p1)), [err(FRAME_ERRORS.BAD_COBS, 0, 3), frame(p1)]);
  checkAllSplits(make, bytes(encodeCobs(p1), 0x09, 0x41, 0x00, 0x00, encodeCobs(p1)), [frame(p1), err(FRAME_ERRORS.BAD_COBS, 5, 2), frame(p1)]);
  // The first 4 bytes of a frame whose code byte says 11, then a good frame led by a zero.
  const cut = encodeCobs(long).subarray(0, 4);
  checkAllSplits(make, bytes(cut, 0x00, encodeCobs(p1)), [err(FRAME_ERRORS.BAD_COBS, 0, 4), frame(p1)]);
  // Without the leading zero the cut frame runs on to the next delimiter and takes that frame with it.
  checkAllSplits(make, bytes(cut, encodeCobs(p1), encodeCobs(p1)), [err(FRAME_ERRORS.BAD_COBS, 0, 8), frame(p1)]);
  checkAllSplits(make, bytes(encodeCobs(long), encodeCobs(p1)), [err(FRAME_ERRORS.TOO_LONG, 0, 11), frame(p1)]);
  checkAllSplits(make, bytes(0x00, 0x00, encodeCobs(p1), 0x03, 0x01), [frame(p1), err(FRAME_ERRORS.TRUNCATED, 7, 2)]);
});

test('length-crc: garbage, a flipped bit, a cut frame and an over-long length are reported and every good frame is found', () => {
  const make = (sink: FrameSink) => FRAMINGS['length-crc'](sink, LC_DEFAULT);
  const enc = (p: Uint8Array) => encodeLengthCrc(p, LC_DEFAULT);
  const a = enc(bytes(0x10, 0x20, 0x30)); // 8 bytes
  const b = enc(bytes(0x41, 0x42)); // 7 bytes
  const c = enc(Uint8Array.from({ length: 20 }, (_, i) => i + 1)); // 25 bytes

  // Garbage before and between frames, with a lone first sync byte right before a frame.
  checkAllSplits(make, bytes(0x01, 0x02, 0xaa, 0x03, a, 0x55, 0xaa, b), [err(FRAME_ERRORS.GARBAGE, 0, 4), frame(bytes(0x10, 0x20, 0x30)), err(FRAME_ERRORS.GARBAGE, 12, 2), frame(bytes(0x41, 0x42))]);

  // A flipped bit in the payload: that frame is reported, the next one decoded.
  const flipped = a.slice();
  flipped[4]! ^= 0x08;
  checkAllSplits(make, bytes(flipped, b), [err(FRAME_ERRORS.BAD_CRC, 0, 8), frame(bytes(0x41, 0x42))]);

  // A flipped bit in the CRC itself, and in the length field (it then claims more bytes than it has).
  const badCrc = a.slice();
  badCrc[7]! ^= 0x01;
  const badLength = a.slice();
  badLength[2] = 9;
  checkAllSplits(make, bytes(badCrc, b), [err(FRAME_ERRORS.BAD_CRC, 0, 8), frame(bytes(0x41, 0x42))]);
  checkAllSplits(make, bytes(badLength, b, a), [err(FRAME_ERRORS.BAD_CRC, 0, 14), frame(bytes(0x41, 0x42)), frame(bytes(0x10, 0x20, 0x30))]);

  // A frame cut after 10 bytes claims 25: the frames inside its claimed length are still found.
  checkAllSplits(make, bytes(c.subarray(0, 10), b, a, c), [
    err(FRAME_ERRORS.BAD_CRC, 0, 25), frame(bytes(0x41, 0x42)), frame(bytes(0x10, 0x20, 0x30)), frame(c.subarray(3, 23)),
  ]);
  // ... and when the stream ends before the cut frame's claimed length, end() finds them.
  checkAllSplits(make, bytes(c.subarray(0, 10), b), [err(FRAME_ERRORS.TRUNCATED, 0, 17), frame(bytes(0x41, 0x42))]);

  // A length over maxFrameBytes (0x40 > 32): the header is dropped, the bytes after it are garbage.
  checkAllSplits(make, bytes(0xaa, 0x55, 0x40, 0x01, 0x02, 0x03, a), [err(FRAME_ERRORS.TOO_LONG, 0, 3), err(FRAME_ERRORS.GARBAGE, 3, 3), frame(bytes(0x10, 0x20, 0x30))]);
});

test('length-crc: byte order, length width and CRC range are honoured', () => {
  const payload = bytes(0x01, 0x02);
  // Modbus CRC low byte first, over sync + length + payload, u16 LE length.
  const m = encodeLengthCrc(payload, LC_MODBUS);
  assert.deepEqual([...m.subarray(0, 3)], [0x7e, 0x02, 0x00]);
  assert.equal(m[5]! | (m[6]! << 8), crc16Modbus(m.subarray(0, 5)));
  assert.deepEqual(run((s) => FRAMINGS['length-crc'](s, LC_MODBUS), [m]), [frame(payload)]);
  // The same bytes with the CRC's bytes swapped are refused.
  const swapped = bytes(m.subarray(0, 5), m[6]!, m[5]!);
  assert.deepEqual(run((s) => FRAMINGS['length-crc'](s, LC_MODBUS), [swapped]), [err(FRAME_ERRORS.BAD_CRC, 0, 7)]);
  // A frame whose CRC covers only length + payload is refused by a decoder that expects sync too.
  assert.deepEqual(run((s) => FRAMINGS['length-crc'](s, { ...LC_MODBUS, crcOver: 'length+payload' }), [m]), [err(FRAME_ERRORS.BAD_CRC, 0, 7)]);
  // u16 BE length 0x0102 = 258 over a max of 40.
  assert.deepEqual(run((s) => FRAMINGS['length-crc'](s, LC_CRC8), [bytes(0xb5, 0x62, 0x01, 0x01, 0x02)]), [err(FRAME_ERRORS.TOO_LONG, 0, 5)]);
});

test('bad options are misuse and throw a TypeError', () => {
  const sink: FrameSink = { frame() {}, error() {} };
  assert.throws(() => FRAMINGS.lines(sink, { maxFrameBytes: 0 }), TypeError);
  assert.throws(() => FRAMINGS.slip(sink, { maxFrameBytes: 1.5 }), TypeError);
  assert.throws(() => FRAMINGS['length-crc'](sink, { sync: [] }), TypeError);
  assert.throws(() => FRAMINGS['length-crc'](sink, { sync: [0x100] }), TypeError);
  assert.throws(() => FRAMINGS['length-crc'](sink, { crc: 'crc32' as never }), TypeError);
});

test('the registry names each framing once, and each entry decodes its own kind of stream', () => {
  assert.deepEqual(Object.keys(FRAMINGS).sort(), ['cobs', 'length-crc', 'lines', 'slip']);
  for (const name of Object.keys(FRAMINGS) as FramingName[]) {
    const c = CASES.find((x) => x.name === name)!;
    const events: Event[] = [];
    const d = FRAMINGS[name]({ frame: (f) => events.push(frame(f)), error: (e) => events.push(e.code) });
    d.push(c.encode(c.examples[0]!));
    assert.deepEqual(events, [frame(c.examples[0]!)], name);
  }
});

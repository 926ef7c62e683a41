// Declarative binary layouts: every field kind, the Bluetooth Heart Rate Measurement and an IMU
// frame written as layouts, every option rule, and properties over random bytes and encodings.
//
// Expected values are worked by hand from the bytes (two's complement, byte order) or made by an
// encoder that is deliberately not the decoder's code: Node's Buffer write methods for integers
// and IEEE-754 floats, and arithmetic on exponent and mantissa for IEEE-11073 SFLOAT/FLOAT. So
// one mistake in the decoder cannot hide behind the same mistake in the check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileLayout, describeLayout, LayoutOptionError } from '../../src/profiles/layout/layout.js';
import { DECODE_ERRORS, isRejected, type DecodedPacket, type DecodedValues } from '../../src/profiles/decoded.js';
import { h, rejectedWith } from '../helpers/decoded.js';


/** A packet that decoded without any problem: its values (and rows, checked by the caller). */
function clean(packet: DecodedPacket): DecodedValues {
  assert.deepEqual(packet.errors, [], `expected no errors, got ${JSON.stringify(packet.errors)}`);
  return packet.values;
}


/** One field alone in a layout. */
const single = (field: Record<string, unknown>, layout: Record<string, unknown> = {}) => compileLayout({ ...layout, fields: [{ name: 'x', ...field }] });

// ---- Integers ----

// [type, endian, bytes on the wire, expected, worked out]
const INTEGER_VECTORS: Array<[string, 'little' | 'big', string, number, string]> = [
  ['u8', 'little', 'FF', 255, 'all ones, unsigned'],
  ['u8', 'big', '2A', 42, 'one byte has no order'],
  ['i8', 'little', 'FF', -1, '0xFF - 0x100'],
  ['i8', 'big', '80', -128, '0x80 - 0x100'],
  ['i8', 'little', '7F', 127, 'the largest'],
  ['u16', 'little', '34 12', 0x1234, 'low byte first'],
  ['u16', 'big', '12 34', 0x1234, 'high byte first'],
  ['u16', 'little', 'FF FF', 65535, 'all ones'],
  ['u16', 'big', '80 00', 32768, 'high bit is a value bit'],
  ['i16', 'little', '00 80', -32768, '0x8000 - 0x10000'],
  ['i16', 'big', '80 00', -32768, '0x8000 - 0x10000'],
  ['i16', 'little', 'FE FF', -2, '0xFFFE - 0x10000'],
  ['i16', 'big', 'FF FE', -2, '0xFFFE - 0x10000'],
  ['i16', 'little', 'FF 7F', 32767, '0x7FFF'],
  ['u24', 'little', '56 34 12', 0x123456, '1193046'],
  ['u24', 'big', '12 34 56', 0x123456, '1193046'],
  ['u24', 'big', 'FF FF FF', 16777215, 'all ones'],
  ['i24', 'big', 'FF FF FE', -2, '0xFFFFFE - 0x1000000'],
  ['i24', 'little', 'FE FF FF', -2, '0xFFFFFE - 0x1000000'],
  ['i24', 'little', '00 00 80', -8388608, '0x800000 - 0x1000000, the smallest'],
  ['i24', 'big', '7F FF FF', 8388607, '0x7FFFFF, the largest'],
  ['i24', 'little', '00 00 01', 65536, 'positive: no sign extension'],
  ['u32', 'little', 'FF FF FF FF', 4294967295, 'all ones, not -1'],
  ['u32', 'big', '80 00 00 00', 2147483648, 'high bit is a value bit, not a sign'],
  ['u32', 'little', '78 56 34 12', 0x12345678, '305419896'],
  ['u32', 'big', '12 34 56 78', 0x12345678, '305419896'],
  ['i32', 'little', 'FF FF FF FF', -1, '0xFFFFFFFF - 0x100000000'],
  ['i32', 'big', '80 00 00 00', -2147483648, 'the smallest'],
  ['i32', 'little', 'FF FF FF 7F', 2147483647, 'the largest'],
  ['i32', 'big', 'FF FF FF FE', -2, '0xFFFFFFFE - 0x100000000'],
];

test('every integer type in both byte orders, worked by hand', () => {
  for (const [type, endian, bytes, want, worked] of INTEGER_VECTORS) {
    const what = `${type} ${endian} ${bytes} (${worked})`;
    assert.deepEqual(clean(single({ type, endian })(h(bytes))), { x: want }, what);
    // The layout's default byte order gives the same when the field names none.
    assert.deepEqual(clean(single({ type }, { endian })(h(bytes))), { x: want }, `${what}, layout endian`);
  }
});

test('byte order: little by default; a field overrides the layout; SFLOAT/FLOAT stay little-endian under a big layout', () => {
  assert.deepEqual(clean(single({ type: 'u16' })(h('01 02'))), { x: 0x0201 });
  const big = compileLayout({
    endian: 'big',
    fields: [
      { name: 'a', type: 'u16' },
      { name: 'b', type: 'u16', endian: 'little' },
      { name: 'c', type: 'sfloat' },
      { name: 'd', type: 'float', endian: 'little' },
    ],
  });
  assert.deepEqual(clean(big(h('01 02  01 02  72 F0  6C 01 00 FF'))), { a: 0x0102, b: 0x0201, c: 11.4, d: 36.4 });
});

test('a view is read where it starts and ends, not where its buffer does', () => {
  const whole = h('AA 34 12 BB');
  const decode = single({ type: 'u16' });
  assert.deepEqual(clean(decode(whole.subarray(1, 3))), { x: 0x1234 });
  assert.equal(rejectedWith(decode(whole.subarray(1, 2)), DECODE_ERRORS.SHORT).byteOffset, 0);
  assert.deepEqual(clean(decode(Buffer.from([0x34, 0x12]))), { x: 0x1234 }, 'a Node Buffer is a Uint8Array too');
});

// ---- IEEE-754 floats ----

test('f32 and f64 in both byte orders', () => {
  assert.deepEqual(clean(single({ type: 'f32' })(h('00 00 80 3F'))), { x: 1 });
  assert.deepEqual(clean(single({ type: 'f32', endian: 'big' })(h('3F 80 00 00'))), { x: 1 });
  assert.deepEqual(clean(single({ type: 'f32', endian: 'big' })(h('C0 20 00 00'))), { x: -2.5 }, 'sign 1, exponent 128, mantissa 0.25');
  assert.deepEqual(clean(single({ type: 'f32', endian: 'big' })(h('40 49 0F DB'))), { x: Math.fround(Math.PI) });
  assert.deepEqual(clean(single({ type: 'f64', endian: 'big' })(h('40 09 21 FB 54 44 2D 18'))), { x: Math.PI });
  assert.deepEqual(clean(single({ type: 'f64' })(h('18 2D 44 54 FB 21 09 40'))), { x: Math.PI });
  assert.deepEqual(clean(single({ type: 'f64' })(h('00 00 00 00 00 00 F0 BF'))), { x: -1 });
});

test('an f32/f64 NaN or infinity is dropped with DECODE_SPECIAL_VALUE; the other fields are kept', () => {
  const decode = compileLayout({ endian: 'big', fields: [{ name: 'a', type: 'u8' }, { name: 'x', type: 'f32' }, { name: 'y', type: 'f64' }, { name: 'b', type: 'u8' }] });
  const cases: Array<[string, string, string, number]> = [
    ['7F C0 00 00', '3F F0 00 00 00 00 00 00', 'NaN', 1],
    ['7F 80 00 00', '3F F0 00 00 00 00 00 00', 'Infinity', 1],
    ['FF 80 00 00', '3F F0 00 00 00 00 00 00', '-Infinity', 1],
    ['3F 80 00 00', '7F F8 00 00 00 00 00 00', 'NaN', 5],
    ['3F 80 00 00', 'FF F0 00 00 00 00 00 00', '-Infinity', 5],
  ];
  for (const [f32, f64, name, at] of cases) {
    const packet = decode(h(`01 ${f32} ${f64} 02`));
    const dropped = at === 1 ? 'x' : 'y';
    const kept = at === 1 ? { a: 1, y: 1, b: 2 } : { a: 1, x: 1, b: 2 };
    assert.deepEqual(packet.values, kept, name);
    assert.equal(packet.errors.length, 1);
    const issue = packet.errors[0]!;
    assert.equal(issue.code, DECODE_ERRORS.SPECIAL_VALUE);
    assert.equal(issue.field, dropped);
    assert.equal(issue.byteOffset, at);
    assert.equal(issue.message, `field '${dropped}' at byte ${at} is ${name}`);
  }
});

// ---- IEEE-11073 SFLOAT and FLOAT ----

const SFLOAT_SPECIALS: Array<[string, string]> = [['FF 07', 'NaN'], ['00 08', 'NRes'], ['FE 07', '+INFINITY'], ['02 08', '-INFINITY'], ['01 08', 'RESERVED']];
const FLOAT_SPECIALS: Array<[string, string]> = [
  ['FF FF 7F 00', 'NaN'], ['00 00 80 00', 'NRes'], ['FE FF 7F 00', '+INFINITY'], ['02 00 80 00', '-INFINITY'], ['01 00 80 00', 'RESERVED'],
];

test('SFLOAT and FLOAT values (little-endian, as Bluetooth carries them)', () => {
  // 0xF072: exponent -1, mantissa 114: 11.4. 0xFF00016C: exponent -1, mantissa 364: 36.4.
  const decode = compileLayout({ fields: [{ name: 's', type: 'sfloat' }, { name: 'f', type: 'float' }] });
  assert.deepEqual(clean(decode(h('72 F0  6C 01 00 FF'))), { s: 11.4, f: 36.4 });
  // 0xFF9C: exponent -1, mantissa -100: -10. 0x03000005: exponent 3, mantissa 5: 5000.
  assert.deepEqual(clean(decode(h('9C FF  05 00 00 03'))), { s: -10, f: 5000 });
});

test('each SFLOAT and FLOAT special value drops its field, named as the standard names it; the others are kept', () => {
  const decode = compileLayout({ fields: [{ name: 'a', type: 'u8' }, { name: 'spo2', type: 'sfloat' }, { name: 'temp', type: 'float' }, { name: 'b', type: 'u8' }] });
  for (const [bytes, name] of SFLOAT_SPECIALS) {
    const packet = decode(h(`01 ${bytes} 6C 01 00 FF 02`));
    assert.deepEqual(packet.values, { a: 1, temp: 36.4, b: 2 }, name);
    assert.deepEqual(packet.rows, []);
    assert.equal(packet.errors.length, 1);
    const issue = packet.errors[0]!;
    assert.equal(issue.code, DECODE_ERRORS.SPECIAL_VALUE);
    assert.equal(issue.field, 'spo2');
    assert.equal(issue.byteOffset, 1);
    assert.ok(issue.message.startsWith(`field 'spo2' at byte 1 is ${name} (`), issue.message);
  }
  for (const [bytes, name] of FLOAT_SPECIALS) {
    const packet = decode(h(`01 72 F0 ${bytes} 02`));
    assert.deepEqual(packet.values, { a: 1, spo2: 11.4, b: 2 }, name);
    assert.equal(packet.errors.length, 1);
    const issue = packet.errors[0]!;
    assert.equal(issue.code, DECODE_ERRORS.SPECIAL_VALUE);
    assert.equal(issue.field, 'temp');
    assert.equal(issue.byteOffset, 3);
    assert.ok(issue.message.startsWith(`field 'temp' at byte 3 is ${name} (`), issue.message);
  }
  assert.match(decode(h('01 00 08 6C 01 00 FF 02')).errors[0]!.message, /NRes \(not at this resolution\)/);
});

test('a special element in a repeated SFLOAT drops the whole list, with one error naming the first one', () => {
  const decode = compileLayout({ fields: [{ name: 'n', type: 'u8' }, { name: 't', type: 'sfloat', repeat: 'tail' }] });
  assert.deepEqual(clean(decode(h('03 72 F0 9C FF'))), { n: 3, t: [11.4, -10] });
  const packet = decode(h('03 72 F0 00 08 FF 07'));
  assert.deepEqual(packet.values, { n: 3 });
  assert.equal(packet.errors.length, 1);
  const issue = packet.errors[0]!;
  assert.equal(issue.code, DECODE_ERRORS.SPECIAL_VALUE);
  assert.equal(issue.field, 't');
  assert.equal(issue.byteOffset, 3);
  assert.match(issue.message, /^field 't\[1\]' at byte 3 is NRes \(not at this resolution\); the whole list is dropped$/);
});

// ---- Scale, offset, expect ----

test('scale and offset: value = raw * scale + offset, on integers, floats and SFLOAT', () => {
  const decode = compileLayout({
    fields: [
      { name: 't', type: 'u16', scale: 0.5, offset: -10 },
      { name: 's', type: 'sfloat', scale: 2 },
      { name: 'f', type: 'f32', offset: 1 },
      { name: 'n', type: 'i8', scale: -1 },
    ],
  });
  // 0x012C = 300 -> 140; SFLOAT 11.4 -> 22.8; f32 1 -> 2; i8 -5 -> 5
  assert.deepEqual(clean(decode(h('2C 01  72 F0  00 00 80 3F  FB'))), { t: 140, s: 22.8, f: 2, n: 5 });
});

test('a value that scale pushes past the finite doubles is dropped with DECODE_OUT_OF_RANGE, never returned as Infinity', () => {
  const decode = compileLayout({ fields: [{ name: 'big', type: 'f64', endian: 'big', scale: 1e10 }, { name: 'k', type: 'u8' }] });
  const packet = decode(h('7F E0 00 00 00 00 00 00  07')); // 2^1023
  assert.deepEqual(packet.values, { k: 7 });
  assert.equal(packet.errors.length, 1);
  assert.equal(packet.errors[0]!.code, DECODE_ERRORS.OUT_OF_RANGE);
  assert.equal(packet.errors[0]!.field, 'big');
  assert.equal(packet.errors[0]!.byteOffset, 0);
  assert.match(packet.errors[0]!.message, /^field 'big' at byte 0: .* is not a finite number$/);
});

test('expect: a header byte or sync word that differs rejects the packet, naming field, byte, expected and got in hex', () => {
  const decode = compileLayout({
    fields: [
      { name: 'sync', type: 'u16', endian: 'big', expect: 0xaa55 },
      { name: 'type', type: 'u8', expect: 1 },
      { name: 'v', type: 'u8' },
    ],
  });
  assert.deepEqual(clean(decode(h('AA 55 01 10'))), { sync: 0xaa55, type: 1, v: 16 });
  const wrongType = rejectedWith(decode(h('AA 55 07 10')), DECODE_ERRORS.UNEXPECTED);
  assert.equal(wrongType.message, "field 'type' at byte 2: expected 0x01, got 0x07");
  assert.equal(wrongType.field, 'type');
  assert.equal(wrongType.byteOffset, 2);
  const wrongSync = rejectedWith(decode(h('55 AA 01 10')), DECODE_ERRORS.UNEXPECTED);
  assert.equal(wrongSync.message, "field 'sync' at byte 0: expected 0xaa55, got 0x55aa");
  assert.equal(wrongSync.byteOffset, 0);
  // A negative expectation is shown as its bit pattern, at the field's width.
  const minus = single({ type: 'i8', expect: -1 });
  assert.deepEqual(clean(minus(h('FF'))), { x: -1 });
  assert.equal(rejectedWith(minus(h('7F')), DECODE_ERRORS.UNEXPECTED).message, "field 'x' at byte 0: expected 0xff, got 0x7f");
});

// ---- Conditions ----

test('when: bit set, bit clear and equals; an absent field takes no bytes and gives no value', () => {
  const decode = compileLayout({
    fields: [
      { name: 'kind', type: 'u8' },
      { name: 'a', type: 'u8', when: { field: 'kind', bit: 1 } },
      { name: 'b', type: 'u8', when: { field: 'kind', bit: 1, is: 'clear' } },
      { name: 'c', type: 'u16', when: { field: 'kind', equals: 5 } },
      { name: 'd', type: 'u8', when: { field: 'kind', bit: 7, is: 'set' } },
    ],
  });
  assert.deepEqual(clean(decode(h('02 0A'))), { kind: 2, a: 10 }, 'bit 1 set: a only');
  assert.deepEqual(clean(decode(h('00 0B'))), { kind: 0, b: 11 }, 'bit 1 clear: b only');
  assert.deepEqual(clean(decode(h('05 0B 34 12'))), { kind: 5, b: 11, c: 0x1234 }, 'kind 5: bit 1 clear and equals 5');
  assert.deepEqual(clean(decode(h('86 0A 01'))), { kind: 0x86, a: 10, d: 1 }, 'bits 1 and 7 set');
});

test('when on a field that was itself absent is false; when on a signed field compares the signed value', () => {
  const decode = compileLayout({
    fields: [
      { name: 'flags', type: 'u8' },
      { name: 'mode', type: 'i8', when: { field: 'flags', bit: 0 } },
      { name: 'neg', type: 'u8', when: { field: 'mode', equals: -1 } },
      { name: 'notneg', type: 'u8', when: { field: 'mode', bit: 7, is: 'clear' } },
    ],
  });
  assert.deepEqual(clean(decode(h('01 FF 09'))), { flags: 1, mode: -1, neg: 9 });
  assert.deepEqual(clean(decode(h('01 05 09'))), { flags: 1, mode: 5, notneg: 9 });
  assert.deepEqual(clean(decode(h('00'))), { flags: 0 }, 'mode absent: neither neg (equals) nor notneg (bit clear) is present');
});

test('when on a bits field (a sub-field of a header byte) compares its extracted value', () => {
  const decode = compileLayout({
    fields: [
      { name: 'header', type: 'u8' },
      { name: 'kind', type: 'bits', of: 'header', bits: [4, 7] },
      { name: 'temp', type: 'i16', scale: 0.01, when: { field: 'kind', equals: 2 } },
      { name: 'lux', type: 'u16', when: { field: 'kind', equals: 3 } },
    ],
  });
  assert.deepEqual(clean(decode(h('21 2E 09'))), { header: 0x21, kind: 2, temp: 23.5 }, '0x092E = 2350 -> 23.5');
  assert.deepEqual(clean(decode(h('30 E8 03'))), { header: 0x30, kind: 3, lux: 1000 });
  assert.deepEqual(clean(decode(h('10'))), { header: 0x10, kind: 1 });
});

// ---- Bit fields ----

test('bits: a single bit, a range, as boolean, with scale, across a u32 and of a signed field', () => {
  const decode = compileLayout({
    fields: [
      { name: 'b', type: 'u8' },
      { name: 'low', type: 'bits', of: 'b', bits: 0 },
      { name: 'high_nibble', type: 'bits', of: 'b', bits: [4, 7] },
      { name: 'on', type: 'bits', of: 'b', bits: 5, as: 'boolean' },
      { name: 'off', type: 'bits', of: 'b', bits: [1, 1], as: 'boolean' },
      { name: 'half', type: 'bits', of: 'b', bits: [0, 3], scale: 0.5 },
      { name: 'w', type: 'u32' },
      { name: 'top', type: 'bits', of: 'w', bits: 31 },
      { name: 'all', type: 'bits', of: 'w', bits: [0, 31] },
      { name: 's', type: 'i16' },
      { name: 's_high', type: 'bits', of: 's', bits: [8, 15] },
      { name: 's_low', type: 'bits', of: 's', bits: 0, as: 'uint' },
    ],
  });
  // b = 0xA5 = 1010 0101; w = 0xFFFFFFFF; s = -2 = 0xFFFE
  assert.deepEqual(clean(decode(h('A5  FF FF FF FF  FE FF'))), {
    b: 0xa5, low: 1, high_nibble: 0xa, on: true, off: false, half: 2.5,
    w: 4294967295, top: 1, all: 4294967295,
    s: -2, s_high: 0xff, s_low: 0,
  });
  const zeros = clean(decode(h('00  00 00 00 80  00 01')));
  assert.equal(zeros.top, 1, 'bit 31 of 0x80000000');
  assert.equal(zeros.all, 2147483648);
  assert.equal(zeros.on, false);
  assert.equal(zeros.s_high, 1);
});

test('bits of an absent field are absent too', () => {
  const decode = compileLayout({
    fields: [
      { name: 'flags', type: 'u8' },
      { name: 'status', type: 'u8', when: { field: 'flags', bit: 0 } },
      { name: 'alarm', type: 'bits', of: 'status', bits: 3, as: 'boolean' },
    ],
  });
  assert.deepEqual(clean(decode(h('01 08'))), { flags: 1, status: 8, alarm: true });
  assert.deepEqual(clean(decode(h('00'))), { flags: 0 });
});

// ---- Skips, tails, short and trailing packets ----

test('skip: reserved bytes are read past and give no value; a skip can be conditional', () => {
  const decode = compileLayout({
    fields: [
      { name: 'a', type: 'u8' },
      { type: 'skip', bytes: 2, name: 'reserved' },
      { type: 'skip', bytes: 1, when: { field: 'a', bit: 0 } },
      { name: 'b', type: 'u8' },
    ],
  });
  assert.deepEqual(clean(decode(h('00 EE EE 07'))), { a: 0, b: 7 });
  assert.deepEqual(clean(decode(h('01 EE EE EE 07'))), { a: 1, b: 7 });
  const cut = rejectedWith(decode(h('00 EE')), DECODE_ERRORS.SHORT);
  assert.equal(cut.message, "skip 'reserved' needs 2 bytes at byte 1; the packet has 2 bytes");
  assert.equal(cut.field, 'reserved');
  const unnamed = rejectedWith(decode(h('01 EE EE')), DECODE_ERRORS.SHORT);
  assert.equal(unnamed.message, 'skip fields[2] needs 1 byte at byte 3; the packet has 3 bytes');
  assert.equal(unnamed.field, undefined, 'a skip without a name names no field');
  assert.equal(unnamed.byteOffset, 3);
});

test('a packet too short for a present field is rejected, naming field, type, byte and packet length', () => {
  const decode = compileLayout({ fields: [{ name: 'a', type: 'u8' }, { name: 'hr', type: 'u16' }] });
  const issue = rejectedWith(decode(h('01 48')), DECODE_ERRORS.SHORT);
  assert.equal(issue.message, "field 'hr' (u16) needs 2 bytes at byte 1; the packet has 2 bytes");
  assert.equal(issue.field, 'hr');
  assert.equal(issue.byteOffset, 1);
  const empty = rejectedWith(decode(new Uint8Array(0)), DECODE_ERRORS.SHORT);
  assert.equal(empty.message, "field 'a' (u8) needs 1 byte at byte 0; the packet has 0 bytes");
});

test('trailing bytes reject the packet by default, and are dropped with trailing: ignore', () => {
  const fields = [{ name: 'a', type: 'u16' }, { name: 'b', type: 'u8' }];
  const strict = compileLayout({ fields });
  const lax = compileLayout({ trailing: 'ignore', fields });
  const issue = rejectedWith(strict(h('01 00 02 FF EE')), DECODE_ERRORS.TRAILING);
  assert.equal(issue.message, '2 bytes left after the last field, at byte 3');
  assert.equal(issue.byteOffset, 3);
  assert.equal(rejectedWith(strict(h('01 00 02 FF')), DECODE_ERRORS.TRAILING).message, '1 byte left after the last field, at byte 3');
  assert.deepEqual(clean(lax(h('01 00 02 FF EE'))), { a: 1, b: 2 });
  assert.deepEqual(clean(strict(h('01 00 02'))), { a: 1, b: 2 });
});

test('repeat: a fixed count gives a list; tail reads to the end, zero elements allowed, a part element rejected', () => {
  const counted = compileLayout({ fields: [{ name: 'v', type: 'i16', repeat: 3, scale: 2 }, { name: 'end', type: 'u8' }] });
  assert.deepEqual(clean(counted(h('01 00 FF FF 00 80 09'))), { v: [2, -2, -65536], end: 9 });
  const short = rejectedWith(counted(h('01 00 FF FF 00')), DECODE_ERRORS.SHORT);
  assert.equal(short.message, "field 'v' (i16) x3 needs 6 bytes at byte 0; the packet has 5 bytes");

  const tail = compileLayout({ fields: [{ name: 'n', type: 'u8' }, { name: 'v', type: 'u16', repeat: 'tail' }] });
  assert.deepEqual(clean(tail(h('02 01 00 02 00'))), { n: 2, v: [1, 2] });
  assert.deepEqual(clean(tail(h('00'))), { n: 0, v: [] });
  const part = rejectedWith(tail(h('02 01 00 02')), DECODE_ERRORS.TRAILING);
  assert.equal(part.message, "field 'v' (u16) repeated to the end leaves 1 byte at byte 3 that do not make a whole element of 2 bytes; the packet has 4 bytes");
  assert.equal(part.byteOffset, 3);
  assert.equal(part.field, 'v');
  // trailing: ignore drops a part element like any other trailing bytes.
  const lax = compileLayout({ trailing: 'ignore', fields: [{ name: 'v', type: 'u16', repeat: 'tail' }] });
  assert.deepEqual(clean(lax(h('01 00 02'))), { v: [1] });
});

test('field names that are also Object.prototype keys are plain own values', () => {
  const decode = compileLayout({ fields: [{ name: 'constructor', type: 'u8' }, { name: 'tostring', type: 'u8' }, { name: 'valueof', type: 'u8' }] });
  const values = clean(decode(h('01 02 03')));
  assert.deepEqual(values, { constructor: 1, tostring: 2, valueof: 3 });
  assert.ok(Object.hasOwn(values, 'constructor'));
});

// ---- The Bluetooth Heart Rate Measurement (0x2A37) as a layout ----

// Field layout from the Bluetooth SIG Heart Rate Service and the GATT Specification Supplement,
// Heart Rate Measurement characteristic: a flags byte (bit 0: heart rate is UINT16 rather than
// UINT8; bits 1-2: sensor contact status; bit 3: energy expended present; bit 4: RR-intervals
// present), the heart rate, the energy expended (UINT16, kJ), then RR-intervals (UINT16 each, in
// 1/1024 s) to the end of the notification. All little-endian.
const HRM_LAYOUT = {
  fields: [
    { name: 'flags', type: 'u8' },
    { name: 'hr', type: 'u8', when: { field: 'flags', bit: 0, is: 'clear' } },
    { name: 'hr16', type: 'u16', when: { field: 'flags', bit: 0, is: 'set' } },
    { name: 'contact', type: 'bits', of: 'flags', bits: [1, 2] },
    { name: 'energy', type: 'u16', when: { field: 'flags', bit: 3 } },
    { name: 'rr', type: 'u16', repeat: 'tail', scale: 1000 / 1024, when: { field: 'flags', bit: 4 } },
  ],
};
const hrm = compileLayout(HRM_LAYOUT);

test('HRM: flags 0x00, heart rate as UINT8', () => {
  assert.deepEqual(clean(hrm(h('00 48'))), { flags: 0, hr: 72, contact: 0 });
});

test('HRM: RR-intervals present, 1/1024 s scaled to ms', () => {
  // 0x0400 = 1024/1024 s = 1000 ms; 0x0200 = 512/1024 s = 500 ms
  assert.deepEqual(clean(hrm(h('10 48 00 04 00 02'))), { flags: 0x10, hr: 72, contact: 0, rr: [1000, 500] });
  assert.deepEqual(clean(hrm(h('10 48'))), { flags: 0x10, hr: 72, contact: 0, rr: [] }, 'the flag set but no interval in this notification');
});

test('HRM: UINT16 heart rate, contact detected, energy expended and an RR-interval', () => {
  // flags 0x1F: bit 0 (UINT16 rate), bits 1-2 = 3 (contact detected), bit 3 (energy), bit 4 (RR)
  assert.deepEqual(clean(hrm(h('1F 48 00 E8 03 00 04'))), { flags: 0x1f, hr16: 72, contact: 3, energy: 1000, rr: [1000] });
  assert.deepEqual(clean(hrm(h('19 2C 01 0A 00'))), { flags: 0x19, hr16: 300, contact: 0, energy: 10, rr: [] });
  assert.deepEqual(clean(hrm(h('04 3C'))), { flags: 4, hr: 60, contact: 2 }, 'contact supported but not detected');
});

test('HRM: a cut notification is DECODE_SHORT; an odd byte among the RR-intervals is DECODE_TRAILING', () => {
  const cut = rejectedWith(hrm(h('19 48 00 E8')), DECODE_ERRORS.SHORT);
  assert.equal(cut.message, "field 'energy' (u16) needs 2 bytes at byte 3; the packet has 4 bytes");
  assert.equal(cut.field, 'energy');
  assert.equal(rejectedWith(hrm(h('01 48')), DECODE_ERRORS.SHORT).message, "field 'hr16' (u16) needs 2 bytes at byte 1; the packet has 2 bytes");
  rejectedWith(hrm(new Uint8Array(0)), DECODE_ERRORS.SHORT);
  const odd = rejectedWith(hrm(h('10 48 00 04 00')), DECODE_ERRORS.TRAILING);
  assert.equal(odd.field, 'rr');
  assert.equal(odd.byteOffset, 4);
  assert.match(odd.message, /leaves 1 byte at byte 4/);
  // Without the RR flag, bytes after the rate are trailing bytes.
  assert.equal(rejectedWith(hrm(h('00 48 00')), DECODE_ERRORS.TRAILING).message, '1 byte left after the last field, at byte 2');
});

test('describeLayout lists the HRM values and no rows', () => {
  assert.deepEqual(describeLayout(HRM_LAYOUT), { values: ['flags', 'hr', 'hr16', 'contact', 'energy', 'rr'], rows: [] });
});

// ---- An IMU frame: a header and a group of samples ----

// MPU-6050 register map and datasheet: at the ±4 g range the accelerometer gives 8192 LSB/g,
// at ±500 °/s the gyroscope 65.5 LSB/(°/s); each axis is a signed 16-bit value.
const ACC = 1 / 8192;
const GYR = 1 / 65.5;
const IMU_AXES = [
  { name: 'acc_x', type: 'i16', scale: ACC }, { name: 'acc_y', type: 'i16', scale: ACC }, { name: 'acc_z', type: 'i16', scale: ACC },
  { name: 'gyr_x', type: 'i16', scale: GYR }, { name: 'gyr_y', type: 'i16', scale: GYR }, { name: 'gyr_z', type: 'i16', scale: GYR },
];
const imuLayout = (repeat: number | 'tail', more: Record<string, unknown>[] = [], layout: Record<string, unknown> = {}) => ({
  ...layout,
  fields: [
    { name: 'type', type: 'u8', expect: 1 },
    { name: 'seq', type: 'u8' },
    { type: 'group', name: 'samples', repeat, fields: IMU_AXES },
    ...more,
  ],
});

/** An IMU frame, written with Buffer's own int16 writer. */
function imuFrame(seq: number, rows: number[][], extra: number[] = []): Uint8Array {
  const out = Buffer.alloc(2 + rows.length * 12 + extra.length);
  out.writeUInt8(1, 0);
  out.writeUInt8(seq, 1);
  rows.forEach((row, r) => row.forEach((v, k) => out.writeInt16LE(v, 2 + r * 12 + k * 2)));
  extra.forEach((b, i) => out.writeUInt8(b, 2 + rows.length * 12 + i));
  return new Uint8Array(out);
}

function assertClose(got: unknown, want: number, what: string): void {
  assert.equal(typeof got, 'number', what);
  assert.ok(Math.abs((got as number) - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${what}: ${String(got)} vs ${want}`);
}

test('IMU: a header with expect, then two rows of six axes in g and °/s', () => {
  const decode = compileLayout(imuLayout(2));
  // 8192 -> 1 g, -8192 -> -1 g, 4096 -> 0.5 g; 131 -> 2 °/s, -655 -> -10 °/s, 0 -> 0
  const packet = decode(imuFrame(7, [[8192, -8192, 4096, 131, -655, 0], [0, 16384, -4096, 655, 65, -131]]));
  assert.deepEqual(clean(packet), { type: 1, seq: 7 });
  assert.equal(packet.rows.length, 2);
  const want = [[1, -1, 0.5, 2, -10, 0], [0, 2, -0.5, 10, 65 / 65.5, -2]];
  packet.rows.forEach((row, r) => {
    assert.deepEqual(Object.keys(row), IMU_AXES.map((a) => a.name));
    IMU_AXES.forEach((axis, k) => assertClose(row[axis.name], want[r]![k]!, `rows[${r}].${axis.name}`));
  });
  assert.equal(packet.rows[0]!.acc_x, 1, '8192 / 8192 is exact');
  assert.deepEqual(describeLayout(imuLayout(2)), { values: ['type', 'seq'], rows: IMU_AXES.map((a) => a.name) });
});

test('IMU: wrong packet type, a row cut short and bytes after the rows are rejected', () => {
  const decode = compileLayout(imuLayout(2));
  const frame = imuFrame(7, [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]]);
  frame[0] = 2;
  assert.equal(rejectedWith(decode(frame), DECODE_ERRORS.UNEXPECTED).message, "field 'type' at byte 0: expected 0x01, got 0x02");
  const cut = rejectedWith(decode(imuFrame(7, [[1, 2, 3, 4, 5, 6]], [0, 0, 0, 0, 0])), DECODE_ERRORS.SHORT);
  // Row 1 starts at byte 14: acc_x at 14, acc_y at 16, acc_z at 18 has one byte of its two.
  assert.equal(cut.message, "field 'acc_z' (i16) in rows[1] needs 2 bytes at byte 18; the packet has 19 bytes");
  assert.equal(cut.field, 'acc_z');
  assert.equal(cut.byteOffset, 18);
  assert.equal(rejectedWith(decode(imuFrame(7, [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]], [9])), DECODE_ERRORS.TRAILING).byteOffset, 26);
});

test('IMU: a fixed-count group followed by more top-level fields', () => {
  const decode = compileLayout(imuLayout(1, [{ name: 'battery', type: 'u8' }, { name: 'crc', type: 'u16', endian: 'big' }]));
  const packet = decode(imuFrame(3, [[8192, 0, 0, 0, 0, 131]], [87, 0xbe, 0xef]));
  assert.deepEqual(clean(packet), { type: 1, seq: 3, battery: 87, crc: 0xbeef });
  assert.equal(packet.rows.length, 1);
  assert.equal(packet.rows[0]!.acc_x, 1);
  assertClose(packet.rows[0]!.gyr_z, 2, 'gyr_z');
});

test('IMU: a tail group reads whole rows to the end; zero rows allowed; a part row rejected or, with trailing: ignore, dropped', () => {
  const decode = compileLayout(imuLayout('tail'));
  for (const n of [0, 1, 3, 10]) {
    const rows = Array.from({ length: n }, (_, r) => [r, -3 * r - 1, 2 * r, 3 * r, -4 * r, 8192]);
    const packet = decode(imuFrame(n, rows));
    assert.deepEqual(clean(packet), { type: 1, seq: n });
    assert.equal(packet.rows.length, n);
    packet.rows.forEach((row, r) => assert.equal(row.acc_y, (-3 * r - 1) * ACC));
  }
  const part = rejectedWith(decode(imuFrame(9, [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]], [1, 2, 3, 4, 5])), DECODE_ERRORS.TRAILING);
  assert.equal(part.message, "group 'samples' repeated to the end leaves 5 bytes at byte 26 that do not make a whole row of 12 bytes; the packet has 31 bytes");
  assert.equal(part.byteOffset, 26);
  const lax = compileLayout(imuLayout('tail', [], { trailing: 'ignore' }));
  const packet = lax(imuFrame(9, [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]], [1, 2, 3, 4, 5]));
  assert.equal(clean(packet).seq, 9);
  assert.equal(packet.rows.length, 2);
});

test('group: bits of a group field and of a top-level field, when on either, a special value dropped from its row only', () => {
  const decode = compileLayout({
    fields: [
      { name: 'cfg', type: 'u8' },
      {
        type: 'group', repeat: 'tail',
        fields: [
          { name: 'status', type: 'u8' },
          { name: 'valid', type: 'bits', of: 'status', bits: 0, as: 'boolean' },
          { name: 'range', type: 'bits', of: 'cfg', bits: [0, 1] },
          { name: 'temp', type: 'sfloat' },
          { name: 'extra', type: 'u8', when: { field: 'cfg', bit: 7 } },
        ],
      },
    ],
  });
  // cfg 0x02: range 2, no extra, so rows of 3 bytes: status, then an SFLOAT
  const packet = decode(h('02  01 72 F0  00 00 08  01 9C FF'));
  assert.deepEqual(packet.values, { cfg: 2 });
  assert.deepEqual(packet.rows, [
    { status: 1, valid: true, range: 2, temp: 11.4 },
    { status: 0, valid: false, range: 2 },
    { status: 1, valid: true, range: 2, temp: -10 },
  ]);
  assert.equal(packet.errors.length, 1);
  assert.equal(packet.errors[0]!.code, DECODE_ERRORS.SPECIAL_VALUE);
  assert.equal(packet.errors[0]!.byteOffset, 5);
  assert.match(packet.errors[0]!.message, /^field 'temp' in rows\[1\] at byte 5 is NRes \(not at this resolution\)$/);
  const withExtra = decode(h('82  01 72 F0 05'));
  assert.deepEqual(withExtra.rows, [{ status: 1, valid: true, range: 2, temp: 11.4, extra: 5 }]);
});

test('group rows of varying size (when on a group field) read to the end; a cut row is DECODE_SHORT; no row sees the last one', () => {
  const decode = compileLayout({
    fields: [{
      type: 'group', repeat: 'tail', name: 'events',
      fields: [
        { name: 'kind', type: 'u8' },
        { name: 'value', type: 'u16', when: { field: 'kind', equals: 1 } },
        { name: 'value_hi', type: 'bits', of: 'value', bits: [8, 15] },
        { name: 'code', type: 'u8', when: { field: 'kind', equals: 2 } },
      ],
    }],
  });
  const packet = decode(h('01 34 12  02 07  00  01 FF 00'));
  assert.deepEqual(clean(packet), {});
  assert.deepEqual(packet.rows, [
    { kind: 1, value: 0x1234, value_hi: 0x12 },
    { kind: 2, code: 7 },
    { kind: 0 },
    { kind: 1, value: 0xff, value_hi: 0 },
  ]);
  // A trailing 'ignore' does not make a cut row acceptable: it cannot be told from a cut packet.
  for (const trailing of ['reject', 'ignore']) {
    const lax = compileLayout({ trailing, fields: [{ type: 'group', repeat: 'tail', fields: [{ name: 'k', type: 'u8' }, { name: 'v', type: 'u16', when: { field: 'k', bit: 0 } }] }] });
    const cut = rejectedWith(lax(h('00 01 34')), DECODE_ERRORS.SHORT);
    assert.equal(cut.message, "field 'v' (u16) in rows[1] needs 2 bytes at byte 2; the packet has 3 bytes");
  }
});

// ---- Option errors ----

/** The path as a message shows it, written here independently of the compiler. */
function pathText(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || 'layout';
}

function assertOptionError(options: unknown, path: (string | number)[], message: RegExp): void {
  for (const compile of [compileLayout, describeLayout] as Array<(o: unknown) => unknown>) {
    let caught: unknown;
    try {
      compile(options);
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof LayoutOptionError, `expected a LayoutOptionError for ${JSON.stringify(options)}, got ${String(caught)}`);
    assert.ok(caught instanceof TypeError);
    assert.deepEqual(caught.path, path, caught.message);
    assert.ok(caught.message.startsWith(`${pathText(path)}: `), caught.message);
    assert.match(caught.message, message);
  }
}

const u8 = (name: string, more: Record<string, unknown> = {}) => ({ name, type: 'u8', ...more });

test('option errors: the layout object, its keys and its fields list', () => {
  assertOptionError(null, [], /expected a mapping with fields/);
  assertOptionError([], [], /expected a mapping with fields .*got a list/);
  assertOptionError({ fields: [u8('a')], endain: 'big' }, ['endain'], /unknown key 'endain' .*expected one of endian, trailing, fields/);
  assertOptionError({ endian: 'middle', fields: [u8('a')] }, ['endian'], /expected one of little, big, got "middle"/);
  assertOptionError({ trailing: 'drop', fields: [u8('a')] }, ['trailing'], /expected one of reject, ignore, got "drop"/);
  assertOptionError({}, ['fields'], /expected a non-empty list of fields, got nothing/);
  assertOptionError({ fields: [] }, ['fields'], /expected a non-empty list of fields/);
  assertOptionError({ fields: { a: 'u8' } }, ['fields'], /got a mapping/);
  assertOptionError({ fields: [u8('a'), 'u8'] }, ['fields', 1], /expected a mapping .*got "u8"/);
});

test('option errors: type, unknown keys and names', () => {
  let caught: unknown;
  try { compileLayout({ fields: [u8('a'), u8('b'), { name: 'c', type: 'u17' }] }); } catch (error) { caught = error; }
  assert.ok(caught instanceof LayoutOptionError);
  assert.equal(caught.message, 'fields[2].type: expected one of u8, i8, u16, i16, u24, i24, u32, i32, f32, f64, sfloat, float, skip, bits, group, got "u17"');
  assertOptionError({ fields: [{ name: 'a' }] }, ['fields', 0, 'type'], /expected one of u8, .*, but it is missing/);
  assertOptionError({ fields: [{ name: 'a', type: 16 }] }, ['fields', 0, 'type'], /got 16$/);
  assertOptionError({ fields: [u8('a', { scal: 2 })] }, ['fields', 0, 'scal'], /unknown key 'scal' for a u8 field .*expected one of name, type, endian, scale, offset, when, repeat, expect/);
  assertOptionError({ fields: [{ type: 'u8' }] }, ['fields', 0, 'name'], /expected a name of 1 to 64 characters.*but it is missing/);
  for (const bad of ['HR', '1a', 'a-b', '', '_a', 'x'.repeat(65), 7]) {
    assertOptionError({ fields: [u8(bad as string)] }, ['fields', 0, 'name'], /expected a name of 1 to 64 characters: a lowercase letter/);
  }
  assert.deepEqual(describeLayout({ fields: [u8('x'.repeat(64))] }).values, ['x'.repeat(64)], '64 characters is allowed');
  assertOptionError({ fields: [u8('a'), u8('b'), u8('a')] }, ['fields', 2, 'name'], /'a' is already the name of fields\[0\]/);
  assertOptionError(
    { fields: [u8('a'), { type: 'group', repeat: 2, fields: [u8('b'), u8('a')] }] },
    ['fields', 1, 'fields', 1, 'name'], /'a' is already the name of fields\[0\]/,
  );
  assertOptionError({ fields: [{ type: 'skip', bytes: 1, name: 'pad' }, u8('pad')] }, ['fields', 1, 'name'], /'pad' is already the name of fields\[0\]/);
});

test('option errors: number field options', () => {
  assertOptionError({ fields: [{ name: 's', type: 'sfloat', endian: 'big' }] }, ['fields', 0, 'endian'], /SFLOAT is always little-endian/);
  assertOptionError({ fields: [{ name: 'f', type: 'float', endian: 'big' }] }, ['fields', 0, 'endian'], /FLOAT is always little-endian/);
  assert.deepEqual(describeLayout({ fields: [{ name: 's', type: 'sfloat', endian: 'little' }] }).values, ['s']);
  assertOptionError({ fields: [u8('a', { endian: 'le' })] }, ['fields', 0, 'endian'], /expected one of little, big, got "le"/);
  assertOptionError({ fields: [u8('a', { scale: '2' })] }, ['fields', 0, 'scale'], /expected a finite number, got "2"/);
  assertOptionError({ fields: [u8('a', { scale: Number.POSITIVE_INFINITY })] }, ['fields', 0, 'scale'], /expected a finite number, got Infinity/);
  assertOptionError({ fields: [u8('a', { scale: 0 })] }, ['fields', 0, 'scale'], /other than 0/);
  assertOptionError({ fields: [u8('a', { offset: null })] }, ['fields', 0, 'offset'], /expected a finite number, got null/);
  assertOptionError({ fields: [{ name: 'f', type: 'f32', expect: 1 }] }, ['fields', 0, 'expect'], /only on an integer field/);
  assertOptionError({ fields: [u8('a', { repeat: 2, expect: 1 })] }, ['fields', 0, 'expect'], /not on a repeated field/);
  assertOptionError({ fields: [u8('a', { expect: 256 })] }, ['fields', 0, 'expect'], /expected an integer \(the range of u8\) from 0 to 255, got 256/);
  assertOptionError({ fields: [u8('a', { expect: -1 })] }, ['fields', 0, 'expect'], /from 0 to 255, got -1/);
  assertOptionError({ fields: [{ name: 'a', type: 'i8', expect: 128 }] }, ['fields', 0, 'expect'], /from -128 to 127, got 128/);
  assertOptionError({ fields: [u8('a', { expect: 1.5 })] }, ['fields', 0, 'expect'], /got 1.5/);
  for (const bad of [0, 4097, 1.5, 'all', -1]) {
    assertOptionError({ fields: [u8('a', { repeat: bad })] }, ['fields', 0, 'repeat'], /expected 'tail' or an integer from 1 to 4096/);
  }
});

test('option errors: repeat tail only last, one group, no group in a group, no repeat inside a group', () => {
  assertOptionError({ fields: [u8('a', { repeat: 'tail' }), u8('b')] }, ['fields', 0, 'repeat'], /only on the last item of fields.*fields\[1\]/);
  assertOptionError(
    { fields: [{ type: 'group', repeat: 'tail', fields: [u8('a')] }, u8('b')] },
    ['fields', 0, 'repeat'], /only on the last item of fields/,
  );
  assertOptionError(
    { fields: [{ type: 'group', repeat: 2, fields: [u8('a')] }, u8('b'), { type: 'group', repeat: 2, fields: [u8('c')] }] },
    ['fields', 2, 'type'], /at most one group in a layout; fields\[0\] is one already/,
  );
  assertOptionError(
    { fields: [{ type: 'group', repeat: 2, fields: [{ type: 'group', repeat: 2, fields: [u8('a')] }] }] },
    ['fields', 0, 'fields', 0, 'type'], /a group cannot hold another group/,
  );
  assertOptionError({ fields: [{ type: 'group', repeat: 2, fields: [u8('a', { repeat: 2 })] }] }, ['fields', 0, 'fields', 0, 'repeat'], /no repeat on a field inside a group/);
  assertOptionError({ fields: [{ type: 'group', fields: [u8('a')] }] }, ['fields', 0, 'repeat'], /but it is missing/);
  assertOptionError({ fields: [{ type: 'group', repeat: 0, fields: [u8('a')] }] }, ['fields', 0, 'repeat'], /from 1 to 4096, got 0/);
  assertOptionError({ fields: [{ type: 'group', repeat: 2, fields: [] }] }, ['fields', 0, 'fields'], /non-empty list/);
  assertOptionError({ fields: [{ type: 'group', repeat: 2, fields: [u8('a')], endian: 'big' }] }, ['fields', 0, 'endian'], /unknown key 'endian' for a group/);
  assertOptionError(
    { fields: [u8('a'), { type: 'group', repeat: 'tail', fields: [{ name: 'b', type: 'bits', of: 'a', bits: 0 }] }] },
    ['fields', 1, 'fields'], /at least one field in the group that always takes bytes/,
  );
  assertOptionError(
    { fields: [u8('a'), { type: 'group', repeat: 'tail', fields: [u8('b', { when: { field: 'a', bit: 0 } })] }] },
    ['fields', 1, 'fields'], /always takes bytes/,
  );
});

test('option errors: skip', () => {
  assertOptionError({ fields: [{ type: 'skip' }] }, ['fields', 0, 'bytes'], /from 1 to 4096, but it is missing/);
  assertOptionError({ fields: [{ type: 'skip', bytes: 0 }] }, ['fields', 0, 'bytes'], /from 1 to 4096, got 0/);
  assertOptionError({ fields: [{ type: 'skip', bytes: 4097 }] }, ['fields', 0, 'bytes'], /got 4097/);
  assertOptionError({ fields: [{ type: 'skip', bytes: 2, repeat: 2 }] }, ['fields', 0, 'repeat'], /unknown key 'repeat' for a skip/);
});

test('option errors: bits', () => {
  const bits = (more: Record<string, unknown>, before: Record<string, unknown>[] = [u8('flags')]) => ({ fields: [...before, { name: 'b', type: 'bits', ...more }] });
  assertOptionError(bits({ bits: 0 }), ['fields', 1, 'of'], /the name of an earlier integer field, but it is missing/);
  assertOptionError(bits({ of: 'flag', bits: 0 }), ['fields', 1, 'of'], /got 'flag', which no field has \(earlier ones: flags\)/);
  assertOptionError({ fields: [{ name: 'b', type: 'bits', of: 'later', bits: 0 }, u8('later')] }, ['fields', 0, 'of'], /'later' is fields\[1\], which comes later/);
  assertOptionError(bits({ of: 'b', bits: 0 }), ['fields', 1, 'of'], /'b' is this field itself/);
  assertOptionError(bits({ of: 't', bits: 0 }, [{ name: 't', type: 'sfloat' }]), ['fields', 1, 'of'], /'t' is sfloat, not an integer/);
  assertOptionError(bits({ of: 'r', bits: 0 }, [u8('r', { repeat: 2 })]), ['fields', 1, 'of'], /'r' repeats/);
  assertOptionError(bits({ of: 'pad', bits: 0 }, [{ type: 'skip', bytes: 1, name: 'pad' }]), ['fields', 1, 'of'], /'pad' is a skip, which has no value/);
  assertOptionError(
    bits({ of: 'c', bits: 0 }, [u8('flags'), { name: 'c', type: 'bits', of: 'flags', bits: [0, 3] }]),
    ['fields', 2, 'of'], /'c' is a bits field/,
  );
  assertOptionError(bits({ of: 'flags' }), ['fields', 1, 'bits'], /but it is missing/);
  assertOptionError(bits({ of: 'flags', bits: 8 }), ['fields', 1, 'bits'], /within u8 'flags' \(bits 0 to 7\), got bit 8/);
  assertOptionError(bits({ of: 'flags', bits: [6, 8] }), ['fields', 1, 'bits'], /within u8 'flags'/);
  assertOptionError(bits({ of: 'flags', bits: 32 }), ['fields', 1, 'bits'], /a bit number from 0 to 31, got 32/);
  assertOptionError(bits({ of: 'flags', bits: [3, 1] }), ['fields', 1, 'bits'], /lo <= hi .*got \[3, 1\]/);
  assertOptionError(bits({ of: 'flags', bits: [0, 'x'] }), ['fields', 1, 'bits', 1], /a bit number from 0 to 31, got "x"/);
  assertOptionError(bits({ of: 'flags', bits: [1] }), ['fields', 1, 'bits'], /got a list of 1/);
  assertOptionError(bits({ of: 'flags', bits: '0-3' }), ['fields', 1, 'bits'], /a bit number \(0 to 31\) or a range \[lo, hi\], got "0-3"/);
  assertOptionError(bits({ of: 'flags', bits: [1, 2], as: 'boolean' }), ['fields', 1, 'as'], /only for a single bit/);
  assertOptionError(bits({ of: 'flags', bits: 1, as: 'int' }), ['fields', 1, 'as'], /expected one of uint, boolean, got "int"/);
  assertOptionError(bits({ of: 'flags', bits: 1, as: 'boolean', scale: 2 }), ['fields', 1, 'scale'], /no scale on a boolean/);
  assertOptionError(bits({ of: 'flags', bits: 1, endian: 'big' }), ['fields', 1, 'endian'], /unknown key 'endian' for a bits field/);
});

test('option errors: when', () => {
  const cond = (when: unknown, before: Record<string, unknown>[] = [u8('flags')]) => ({ fields: [...before, u8('v', { when })] });
  assertOptionError(cond('flags'), ['fields', 1, 'when'], /expected a mapping \{ field, bit, is \} or \{ field, equals \}, got "flags"/);
  assertOptionError(cond({ field: 'flags', bits: 0 }), ['fields', 1, 'when', 'bits'], /unknown key 'bits' for a condition/);
  assertOptionError(cond({ bit: 0 }), ['fields', 1, 'when', 'field'], /but it is missing/);
  assertOptionError(cond({ field: 'flags', bit: 0, equals: 1 }), ['fields', 1, 'when'], /exactly one of bit or equals, got both/);
  assertOptionError(cond({ field: 'flags' }), ['fields', 1, 'when'], /exactly one of bit or equals, got neither/);
  assertOptionError(cond({ field: 'flags', equals: 1, is: 'set' }), ['fields', 1, 'when', 'is'], /is only with bit/);
  assertOptionError(cond({ field: 'flags', bit: 0, is: 'on' }), ['fields', 1, 'when', 'is'], /expected one of set, clear, got "on"/);
  assertOptionError(cond({ field: 'flags', bit: 8 }), ['fields', 1, 'when', 'bit'], /a bit number of u8 'flags' from 0 to 7, got 8/);
  assertOptionError(cond({ field: 'flags', equals: 300 }), ['fields', 1, 'when', 'equals'], /the range of u8 'flags'\) from 0 to 255, got 300/);
  assertOptionError(cond({ field: 'flag', bit: 0 }), ['fields', 1, 'when', 'field'], /'flag', which no field has/);
  assertOptionError(cond({ field: 'v', bit: 0 }), ['fields', 1, 'when', 'field'], /'v' is this field itself/);
  assertOptionError({ fields: [u8('v', { when: { field: 'w', bit: 0 } }), u8('w')] }, ['fields', 0, 'when', 'field'], /'w' is fields\[1\], which comes later/);
  assertOptionError(cond({ field: 'f', bit: 0 }, [{ name: 'f', type: 'f32' }]), ['fields', 1, 'when', 'field'], /'f' is f32, not an integer/);
  assertOptionError(cond({ field: 7, bit: 0 }), ['fields', 1, 'when', 'field'], /the name of an earlier integer or bits field, got 7/);
  assertOptionError(
    { fields: [{ type: 'group', repeat: 2, fields: [u8('g')] }, u8('v', { when: { field: 'g', bit: 0 } })] },
    ['fields', 1, 'when', 'field'], /'g' is a field of the group/,
  );
  assertOptionError(
    { fields: [{ type: 'group', name: 'rows', repeat: 2, fields: [u8('g')] }, u8('v', { when: { field: 'rows', bit: 0 } })] },
    ['fields', 1, 'when', 'field'], /'rows' is a group, which has no value/,
  );
  assertOptionError(
    { fields: [u8('a'), { type: 'group', repeat: 2, fields: [u8('g', { when: { field: 'b', bit: 0 } })] }, u8('b')] },
    ['fields', 1, 'fields', 0, 'when', 'field'], /'b' is fields\[2\], which comes later/,
  );
  // A condition on a bits field checks bit and equals against the bits' own width.
  const header = [u8('h'), { name: 'kind', type: 'bits', of: 'h', bits: [4, 6] }];
  assertOptionError(cond({ field: 'kind', equals: 8 }, header), ['fields', 2, 'when', 'equals'], /from 0 to 7, got 8/);
  assertOptionError(cond({ field: 'kind', bit: 3 }, header), ['fields', 2, 'when', 'bit'], /from 0 to 2, got 3/);
});

test('describeLayout names values and rows in order, without skips and the group name', () => {
  assert.deepEqual(describeLayout({
    fields: [
      u8('a'), { type: 'skip', bytes: 2, name: 'pad' }, { name: 'b', type: 'bits', of: 'a', bits: 1 },
      { type: 'group', name: 'samples', repeat: 3, fields: [u8('x'), { type: 'skip', bytes: 1 }, u8('y')] },
      { name: 'crc', type: 'u16', repeat: 2 },
    ],
  }), { values: ['a', 'b', 'crc'], rows: ['x', 'y'] });
});

// ---- Properties ----

/** Every number in a packet, wherever it sits. */
function numbersOf(packet: DecodedPacket): number[] {
  const out: number[] = [];
  for (const values of [packet.values, ...packet.rows]) {
    for (const v of Object.values(values)) {
      if (typeof v === 'number') out.push(v);
      else if (Array.isArray(v)) out.push(...(v as number[]));
      else assert.equal(typeof v, 'boolean', `unexpected value ${JSON.stringify(v)}`);
    }
  }
  return out;
}

const EVERY_TYPE_LAYOUT = {
  endian: 'big',
  fields: [
    { name: 'kind', type: 'u8' },
    { name: 'a', type: 'i8', scale: 0.5 },
    { name: 'b', type: 'u16', endian: 'little' },
    { name: 'c', type: 'i16', when: { field: 'kind', bit: 0 } },
    { name: 'd', type: 'u24', offset: -5 },
    { name: 'e', type: 'i24' },
    { name: 'f', type: 'u32', scale: 1e300 },
    { name: 'g', type: 'i32' },
    { name: 'h', type: 'f32', scale: 1e30 },
    { name: 'i', type: 'f64', scale: 1e10 },
    { name: 'j', type: 'sfloat' },
    { name: 'k', type: 'float', scale: 1e200 },
    { name: 'flag', type: 'bits', of: 'kind', bits: 7, as: 'boolean' },
    { type: 'skip', bytes: 1, when: { field: 'kind', equals: 2 } },
    { name: 'tail', type: 'sfloat', repeat: 'tail' },
  ],
};

const VARIABLE_GROUP_LAYOUT = {
  trailing: 'ignore',
  fields: [
    u8('n'),
    { type: 'group', repeat: 'tail', fields: [u8('k'), { name: 'v', type: 'f32', when: { field: 'k', bit: 0 } }, { name: 'w', type: 'bits', of: 'k', bits: [1, 3] }] },
  ],
};

test('property: any bytes, any of these layouts: never throws; rejected cleanly or every number finite', () => {
  const decoders = [hrm, compileLayout(imuLayout(2)), compileLayout(imuLayout('tail')), compileLayout(EVERY_TYPE_LAYOUT), compileLayout(VARIABLE_GROUP_LAYOUT)];
  const anyPacket = fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ minLength: 40, maxLength: 60 }));
  fc.assert(fc.property(anyPacket, (bytes) => {
    for (const decode of decoders) {
      const packet = decode(bytes);
      if (isRejected(packet)) {
        assert.equal(packet.errors.length, 1);
        assert.ok([DECODE_ERRORS.SHORT, DECODE_ERRORS.TRAILING, DECODE_ERRORS.UNEXPECTED].includes(packet.errors[0]!.code as never));
        continue;
      }
      for (const n of numbersOf(packet)) assert.ok(Number.isFinite(n), `${n} from ${Buffer.from(bytes).toString('hex')}`);
      for (const issue of packet.errors) {
        assert.ok([DECODE_ERRORS.SPECIAL_VALUE, DECODE_ERRORS.OUT_OF_RANGE].includes(issue.code as never), issue.message);
        assert.equal(typeof issue.byteOffset, 'number');
        assert.ok(issue.byteOffset! < bytes.length);
      }
    }
  }), { numRuns: 1500 });
});

// A random field for the round trip: a type, a byte order, a scale and offset, a count.
type Kind = 'u8' | 'i8' | 'u16' | 'i16' | 'u24' | 'i24' | 'u32' | 'i32' | 'f32' | 'f64' | 'sfloat' | 'float';
const WIDTH: Record<Kind, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u24: 3, i24: 3, u32: 4, i32: 4, f32: 4, f64: 8, sfloat: 2, float: 4 };

/** A raw value of the type that is a number (no special), as the test encodes it and the value it stands for. */
function rawValue(kind: Kind): fc.Arbitrary<{ raw: number | [number, number]; value: number }> {
  if (kind === 'f32') return fc.float({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ raw: v, value: v }));
  if (kind === 'f64') return fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ raw: v, value: v }));
  if (kind === 'sfloat' || kind === 'float') {
    const [eBits, mBits] = kind === 'sfloat' ? [4, 12] : [8, 24];
    const half = 2 ** (mBits - 1);
    return fc.tuple(fc.integer({ min: -(2 ** (eBits - 1)), max: 2 ** (eBits - 1) - 1 }), fc.integer({ min: -half, max: half - 1 }))
      // Exponent 0 with a mantissa from 2^(m-1) - 2 up to -2^(m-1) + 2 is a special value, not a number.
      .filter(([e, m]) => !(e === 0 && (m >= half - 2 || m <= -half + 2)))
      .map(([e, m]) => ({ raw: [e, m] as [number, number], value: Number(`${m}e${e}`) }));
  }
  const bits = 8 * WIDTH[kind];
  const [min, max] = kind.startsWith('i') ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
  return fc.integer({ min, max }).map((v) => ({ raw: v, value: v }));
}

/** Writes one raw value with Buffer's own writers (or exponent/mantissa arithmetic for IEEE-11073). */
function encode(kind: Kind, little: boolean, raw: number | [number, number]): Buffer {
  const out = Buffer.alloc(WIDTH[kind]);
  if (Array.isArray(raw)) {
    const [e, m] = raw;
    const [eBits, mBits] = kind === 'sfloat' ? [4, 12] : [8, 24];
    const pattern = ((e + 2 ** eBits) % 2 ** eBits) * 2 ** mBits + ((m + 2 ** mBits) % 2 ** mBits);
    out.writeUIntLE(pattern, 0, WIDTH[kind]);
  } else if (kind === 'f32') {
    if (little) out.writeFloatLE(raw); else out.writeFloatBE(raw);
  } else if (kind === 'f64') {
    if (little) out.writeDoubleLE(raw); else out.writeDoubleBE(raw);
  } else if (kind.startsWith('i')) {
    if (little) out.writeIntLE(raw, 0, WIDTH[kind]); else out.writeIntBE(raw, 0, WIDTH[kind]);
  } else if (little) {
    out.writeUIntLE(raw, 0, WIDTH[kind]);
  } else {
    out.writeUIntBE(raw, 0, WIDTH[kind]);
  }
  return out;
}

const KINDS = Object.keys(WIDTH) as Kind[];
// Scales at most 1 and small offsets: no finite value can be scaled out of the doubles.
const SCALES = [1, 0.5, 0.01, 1 / 65.5, -1];
const OFFSETS = [0, -40, 273.15];

const arbitraryField = fc.record({
  kind: fc.constantFrom(...KINDS),
  little: fc.boolean(),
  scale: fc.constantFrom(...SCALES),
  offset: fc.constantFrom(...OFFSETS),
  count: fc.constantFrom(0, 0, 1, 3), // 0: read once
}).chain((f) => {
  const one = rawValue(f.kind);
  return (f.count === 0 ? one.map((v) => [v]) : fc.array(one, { minLength: f.count, maxLength: f.count })).map((values) => ({ ...f, values }));
});

test('property: random layouts of every type, written by an independent encoder, decode to the values written', () => {
  fc.assert(fc.property(fc.array(arbitraryField, { minLength: 1, maxLength: 8 }), fc.constantFrom<'little' | 'big'>('little', 'big'), (fields, layoutEndian) => {
    const layout = {
      endian: layoutEndian,
      fields: fields.map((f, i) => {
        const ieee = f.kind === 'sfloat' || f.kind === 'float';
        const endian = f.little ? 'little' : 'big';
        return {
          name: `f${i}`, type: f.kind,
          // IEEE-11073 is always little-endian: say so, or leave the layout's order (which it ignores).
          ...(ieee ? (f.little ? { endian } : {}) : endian === layoutEndian ? {} : { endian }),
          ...(f.scale === 1 ? {} : { scale: f.scale }),
          ...(f.offset === 0 ? {} : { offset: f.offset }),
          ...(f.count === 0 ? {} : { repeat: f.count }),
        };
      }),
    };
    const bytes = Buffer.concat(fields.flatMap((f) => f.values.map((v) => encode(f.kind, f.little || f.kind === 'sfloat' || f.kind === 'float', v.raw))));
    const packet = compileLayout(layout)(new Uint8Array(bytes));
    assert.deepEqual(packet.errors, []);
    fields.forEach((f, i) => {
      const want = f.values.map((v) => v.value * f.scale + f.offset);
      const got = packet.values[`f${i}`];
      const list = f.count === 0 ? [got] : (got as number[]);
      assert.equal(list.length, want.length);
      // == on numbers: -0 and +0 are one value here (raw * 1 + 0 turns a -0 into +0).
      list.forEach((g, k) => assert.ok(g === want[k], `f${i} ${f.kind} ${f.little ? 'LE' : 'BE'}: got ${String(g)}, want ${want[k]}`));
    });
  }), { numRuns: 1000 });
});

test('property: IMU frames with any number of rows, written by Buffer.writeInt16LE, decode to the samples written', () => {
  const decode = compileLayout(imuLayout('tail'));
  const sample = fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 6, maxLength: 6 });
  fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.array(sample, { maxLength: 20 }), (seq, rows) => {
    const packet = decode(imuFrame(seq, rows));
    assert.deepEqual(clean(packet), { type: 1, seq });
    assert.equal(packet.rows.length, rows.length);
    rows.forEach((row, r) => IMU_AXES.forEach((axis, k) => assert.equal(packet.rows[r]![axis.name], row[k]! * axis.scale)));
  }), { numRuns: 300 });
});

test('property: an HRM notification built from its parts decodes to those parts', () => {
  const parts = fc.record({
    hr: fc.integer({ min: 0, max: 0xffff }),
    wide: fc.boolean(),
    contact: fc.integer({ min: 0, max: 3 }),
    energy: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
    rr: fc.option(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 9 }), { nil: undefined }),
  });
  fc.assert(fc.property(parts, (p) => {
    const wide = p.wide || p.hr > 0xff;
    const flags = (wide ? 1 : 0) + p.contact * 2 + (p.energy === undefined ? 0 : 8) + (p.rr === undefined ? 0 : 16);
    const chunks = [Buffer.from([flags])];
    const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
    chunks.push(wide ? u16(p.hr) : Buffer.from([p.hr]));
    if (p.energy !== undefined) chunks.push(u16(p.energy));
    for (const rr of p.rr ?? []) chunks.push(u16(rr));
    const want: DecodedValues = { flags, ...(wide ? { hr16: p.hr } : { hr: p.hr }), contact: p.contact };
    if (p.energy !== undefined) want.energy = p.energy;
    if (p.rr !== undefined) want.rr = p.rr.map((v) => (v * 1000) / 1024);
    assert.deepEqual(clean(hrm(new Uint8Array(Buffer.concat(chunks)))), want);
  }), { numRuns: 500 });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc16Ccitt, crc16Modbus, crc8, nmeaXor } from '../../src/transports/checksums.js';

const ascii = (s: string) => new TextEncoder().encode(s);

// Check values ("check" = the CRC of the ASCII bytes "123456789") from the CRC RevEng catalogue
// of parametrised CRC algorithms, entries CRC-8/SMBUS, CRC-16/IBM-3740 and CRC-16/MODBUS.
test('each CRC gives its catalogue check value over "123456789"', () => {
  const check = ascii('123456789');
  assert.equal(crc8(check), 0xf4);
  assert.equal(crc16Ccitt(check), 0x29b1);
  assert.equal(crc16Modbus(check), 0x4b37);
});

test('an empty range gives the initial value', () => {
  const none = new Uint8Array(0);
  assert.equal(crc8(none), 0x00);
  assert.equal(crc16Ccitt(none), 0xffff);
  assert.equal(crc16Modbus(none), 0xffff);
  assert.equal(nmeaXor(none), 0);
});

test('the NMEA checksum of published GGA and RMC sentences matches the hex after "*"', () => {
  // The classic example sentences of NMEA 0183 guides: the checksum covers the text between '$' and '*'.
  for (const [sentence, expected] of [
    ['$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47', 0x47],
    ['$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A', 0x6a],
  ] as const) {
    const bytes = ascii(sentence);
    const star = sentence.indexOf('*');
    assert.equal(parseInt(sentence.slice(star + 1), 16), expected);
    assert.equal(nmeaXor(bytes, 1, star - 1), expected, sentence);
  }
});

test('offset and length select the same bytes as a subarray', () => {
  const data = ascii('xx123456789yyy');
  assert.equal(crc8(data, 2, 9), 0xf4);
  assert.equal(crc16Ccitt(data, 2, 9), 0x29b1);
  assert.equal(crc16Modbus(data, 2, 9), 0x4b37);
  assert.equal(crc16Ccitt(data, 2), crc16Ccitt(data.subarray(2)), 'without a length the range runs to the end');
  assert.throws(() => crc8(data, 10, 5), TypeError, 'a range past the end is misuse');
});

/** Bit-by-bit CRC straight from the catalogue parameters, no table. */
function referenceCrc(data: Uint8Array, width: number, poly: number, init: number, reflected: boolean): number {
  const top = 1 << (width - 1);
  const mask = (1 << width) - 1;
  let crc = init;
  for (const byte of data) {
    for (let bit = 0; bit < 8; bit++) {
      // Reflected algorithms take each byte's least significant bit first.
      const inBit = reflected ? (byte >> bit) & 1 : (byte >> (7 - bit)) & 1;
      const outBit = (crc & top) !== 0 ? 1 : 0;
      crc = (crc << 1) & mask;
      if ((outBit ^ inBit) === 1) crc ^= poly;
    }
  }
  if (!reflected) return crc;
  let out = 0;
  for (let i = 0; i < width; i++) if (crc & (1 << i)) out |= 1 << (width - 1 - i);
  return out;
}

test('the bit-by-bit reference itself gives the catalogue check values', () => {
  const check = ascii('123456789');
  assert.equal(referenceCrc(check, 8, 0x07, 0x00, false), 0xf4);
  assert.equal(referenceCrc(check, 16, 0x1021, 0xffff, false), 0x29b1);
  assert.equal(referenceCrc(check, 16, 0x8005, 0xffff, true), 0x4b37);
});

test('table-driven CRCs equal the bit-by-bit reference on any bytes and any range', () => {
  const input = fc.uint8Array({ maxLength: 300 }).chain((data) =>
    fc.tuple(fc.constant(data), fc.nat({ max: data.length })).chain(([d, offset]) => fc.tuple(fc.constant(d), fc.constant(offset), fc.nat({ max: d.length - offset }))));
  fc.assert(fc.property(input, ([data, offset, length]) => {
    const range = data.subarray(offset, offset + length);
    assert.equal(crc8(data, offset, length), referenceCrc(range, 8, 0x07, 0x00, false));
    assert.equal(crc16Ccitt(data, offset, length), referenceCrc(range, 16, 0x1021, 0xffff, false));
    assert.equal(crc16Modbus(data, offset, length), referenceCrc(range, 16, 0x8005, 0xffff, true));
    let x = 0;
    for (const b of range) x ^= b;
    assert.equal(nmeaXor(data, offset, length), x);
  }), { numRuns: 500 });
});

/**
 * Checksums that serial devices append to their frames. Pure functions over a byte range
 * (`offset`, `length`; the whole array by default). The CRCs are table-driven, one byte per step;
 * each table is built once, when this module loads, so a call allocates nothing.
 *
 * Parameters are those of the CRC RevEng catalogue of parametrised CRC algorithms:
 * - crc8:        CRC-8/SMBUS     width 8,  poly 0x07,   init 0x00,   refin/refout false, xorout 0x00
 * - crc16Ccitt:  CRC-16/IBM-3740 width 16, poly 0x1021, init 0xFFFF, refin/refout false, xorout 0x0000
 *                (often called CRC-16/CCITT-FALSE)
 * - crc16Modbus: CRC-16/MODBUS   width 16, poly 0x8005, init 0xFFFF, refin/refout true,  xorout 0x0000
 */

function rangeEnd(data: Uint8Array, offset: number, length: number | undefined): number {
  const end = length === undefined ? data.length : offset + length;
  if (offset < 0 || end > data.length || end < offset) throw new TypeError(`checksum range ${offset}+${length} outside ${data.length} bytes`);
  return end;
}

/** XOR of the bytes: the NMEA 0183 checksum (the two hex digits after '*'), taken over the text between '$' and '*'. */
export function nmeaXor(data: Uint8Array, offset = 0, length?: number): number {
  const end = rangeEnd(data, offset, length);
  let x = 0;
  for (let i = offset; i < end; i++) x ^= data[i]!;
  return x;
}

const CRC8_TABLE = new Uint8Array(256);
const CCITT_TABLE = new Uint16Array(256);
const MODBUS_TABLE = new Uint16Array(256);
for (let n = 0; n < 256; n++) {
  let c8 = n;
  for (let k = 0; k < 8; k++) c8 = c8 & 0x80 ? ((c8 << 1) ^ 0x07) & 0xff : (c8 << 1) & 0xff;
  CRC8_TABLE[n] = c8;
  let cc = n << 8;
  for (let k = 0; k < 8; k++) cc = cc & 0x8000 ? ((cc << 1) ^ 0x1021) & 0xffff : (cc << 1) & 0xffff;
  CCITT_TABLE[n] = cc;
  // Reflected: the polynomial 0x8005 bit-reversed is 0xA001, and bits shift out to the right.
  let cm = n;
  for (let k = 0; k < 8; k++) cm = cm & 1 ? (cm >>> 1) ^ 0xa001 : cm >>> 1;
  MODBUS_TABLE[n] = cm;
}

/** CRC-8/SMBUS (poly 0x07, init 0x00, not reflected). Check value over ASCII "123456789": 0xF4. */
export function crc8(data: Uint8Array, offset = 0, length?: number): number {
  const end = rangeEnd(data, offset, length);
  let crc = 0;
  for (let i = offset; i < end; i++) crc = CRC8_TABLE[crc ^ data[i]!]!;
  return crc;
}

/** CRC-16/IBM-3740, a.k.a. CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected). Check value: 0x29B1. */
export function crc16Ccitt(data: Uint8Array, offset = 0, length?: number): number {
  const end = rangeEnd(data, offset, length);
  let crc = 0xffff;
  for (let i = offset; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CCITT_TABLE[(crc >>> 8) ^ data[i]!]!;
  return crc;
}

/** CRC-16/MODBUS (poly 0x8005 reflected, init 0xFFFF). Check value: 0x4B37; Modbus RTU sends it low byte first. */
export function crc16Modbus(data: Uint8Array, offset = 0, length?: number): number {
  const end = rangeEnd(data, offset, length);
  let crc = 0xffff;
  for (let i = offset; i < end; i++) crc = (crc >>> 8) ^ MODBUS_TABLE[(crc ^ data[i]!) & 0xff]!;
  return crc;
}

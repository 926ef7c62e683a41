// Encoders for the framings, written from each format's definition, so that a decoder is checked
// against another reading of the same rules: RFC 1055 (SLIP), Cheshire and Baker's COBS, and the
// length-crc frame of framing/length-crc.ts with its CRCs computed bit by bit from their
// catalogue parameters (the decoder uses tables).
import type { CrcKind, LengthCrcOptions } from '../../src/transports/serial/framing/length-crc.js';

const SLIP_END = 0xc0;
const SLIP_ESC = 0xdb;

export function slip(frame: Uint8Array): number[] {
  const out = [SLIP_END];
  for (const b of frame) {
    if (b === SLIP_END) out.push(SLIP_ESC, 0xdc);
    else if (b === SLIP_ESC) out.push(SLIP_ESC, 0xdd);
    else out.push(b);
  }
  out.push(SLIP_END);
  return out;
}

/** COBS: blocks of a code byte then up to 254 non-zero bytes; the code says where the next zero was. */
export function cobs(frame: Uint8Array): number[] {
  const out: number[] = [];
  let block: number[] = [];
  const close = (code: number) => { out.push(code, ...block); block = []; };
  for (const b of frame) {
    if (b === 0) close(block.length + 1);
    else {
      block.push(b);
      if (block.length === 254) close(255);
    }
  }
  close(block.length + 1);
  out.push(0);
  return out;
}

/** The CRCs bit by bit, from their catalogue parameters (the decoder uses tables). */
export const CRC: Record<CrcKind, (data: readonly number[]) => number> = {
  'crc8': (data) => {
    let c = 0;
    for (const b of data) { c ^= b; for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff; }
    return c;
  },
  'crc16-ccitt': (data) => {
    let c = 0xffff;
    for (const b of data) { c ^= b << 8; for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff; }
    return c;
  },
  'crc16-modbus': (data) => {
    let c = 0xffff;
    for (const b of data) { c ^= b; for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1; }
    return c;
  },
};

export function lengthCrc(payload: Uint8Array, o: LengthCrcOptions): number[] {
  const sync = [...(o.sync ?? [0xaa, 0x55])];
  const n = payload.length;
  const length = (o.length ?? 'u8') === 'u8' ? [n] : o.length === 'u16le' ? [n & 0xff, n >> 8] : [n >> 8, n & 0xff];
  const kind = o.crc ?? 'crc16-ccitt';
  const over = o.crcOver ?? 'length+payload';
  const covered = over === 'payload' ? [...payload] : over === 'length+payload' ? [...length, ...payload] : [...sync, ...length, ...payload];
  const c = CRC[kind](covered);
  const little = (o.crcByteOrder ?? (kind === 'crc16-modbus' ? 'le' : 'be')) === 'le';
  const crc = kind === 'crc8' ? [c] : little ? [c & 0xff, c >> 8] : [c >> 8, c & 0xff];
  return [...sync, ...length, ...payload, ...crc];
}

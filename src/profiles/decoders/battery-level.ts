import { DECODE_ERRORS, rejected, type PacketDecoder } from '../decoded.js';
import { checkNoOptionsBut } from './decoder-options.js';
import type { BuiltinDecoder } from './registry.js';

/**
 * Battery Level, characteristic 0x2A19 of the Battery Service: one uint8, the charge in percent.
 * Values 101 to 255 are outside the characteristic's defined range (0 to 100 per the GATT
 * Specification Supplement) and are rejected rather than clipped.
 */
const decode: PacketDecoder = (bytes) => {
  if (bytes.length < 1) return rejected(DECODE_ERRORS.SHORT, "field 'battery' (uint8) needs 1 byte at byte 0; the packet has 0 bytes", { field: 'battery', byteOffset: 0 });
  if (bytes.length > 1) return rejected(DECODE_ERRORS.TRAILING, `${bytes.length - 1} byte(s) left after the battery level, at byte 1`, { byteOffset: 1 });
  const level = bytes[0]!;
  if (level > 100) return rejected(DECODE_ERRORS.OUT_OF_RANGE, `battery level ${level} at byte 0 is outside 0 to 100 %`, { field: 'battery', byteOffset: 0 });
  return { values: { battery: level }, rows: [], errors: [] };
};

export const batteryLevel: BuiltinDecoder = {
  name: 'bluetooth-sig/battery-level',
  summary: 'Battery Level (0x2A19): one byte, 0 to 100 %',
  fields: { values: ['battery'], rows: [] },
  compile(options) {
    checkNoOptionsBut(options, [], this.name);
    return decode;
  },
};

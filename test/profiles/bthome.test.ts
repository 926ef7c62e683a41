// BTHome v2 (built-in decoder 'bthome/v2'): every object of the specification, whole packets,
// encryption, replay-counter rule, and properties over random bytes and contexts.
//
// Sources of the expected values (each named again where it is used):
// - [format] bthome.io/format, "Supported data types": every object's example bytes and result,
//   read from the site's source (github.com/home-assistant/bthome.io, src/format.html, commit
//   0cf388b of 2026-04-30). Several were worked by hand below to check the spec's own numbers.
// - [encryption] bthome.io/encryption (src/encryption.html, same commit): the worked example,
//   key 231d39c1d7cc1ab1aee224cd096db932, MAC 54:48:E6:8F:80:A5, counter 1122867, service data
//   d2fc41e445f3c9962b332211006c7c4519 -> 02ca09 03bf13.
// - [bthome-ble] github.com/Bluetooth-Devices/bthome-ble, tests/test_parser_v2.py and
//   tests/test_v2_encryption.py (commit d55bd3a of 2026-02-27): the Home Assistant receiver's
//   tests, payloads with their keys and MACs. Its names differ from ours where noted
//   (it numbers repeats from _1; we keep the first unnumbered, as the format page does).
// Encrypted packets of our own are made by seal() below, with node:crypto's AES-CCM cipher and
// the nonce written out from the specification, not with the decoder's code; seal() is itself
// checked against the [encryption] example byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { bthomeV2, isFreshCounter, BTHOME_OBJECTS } from '../../src/profiles/decoders/bthome.js';
import { DECODE_ERRORS, isRejected, type DecodeContext, type DecodedPacket, type DecodedValue, type DecodedValues } from '../../src/profiles/decoded.js';
import { h, rejectedWith } from '../helpers/decoded.js';


const decode = bthomeV2.compile({});
const strict = bthomeV2.compile({ require_encryption: true });

/** A packet that decoded without any problem: its values. */
function clean(packet: DecodedPacket): DecodedValues {
  assert.deepEqual(packet.errors, [], `expected no errors, got ${JSON.stringify(packet.errors)}`);
  assert.deepEqual(packet.rows, []);
  return packet.values;
}


// The [encryption] example's secrets, also used by most [bthome-ble] encrypted tests.
const KEY = h('231d39c1d7cc1ab1aee224cd096db932');
const MAC = '54:48:E6:8F:80:A5';
const CTX: DecodeContext = { key: KEY, address: MAC };

/**
 * Encrypts BTHome objects as a device does, from the specification's words: nonce = MAC + D2 FC +
 * device info byte + counter (uint32 little endian); AES-128-CCM with a 4-byte tag, no associated
 * data; the service data is info byte, ciphertext, counter, MIC.
 */
function seal(plain: Uint8Array, o: { key: Uint8Array; mac: string; counter: number; info?: number }): Uint8Array {
  const info = o.info ?? 0x41;
  const mac = Buffer.from(o.mac.replace(/[:-]/g, ''), 'hex');
  const counter = Buffer.alloc(4);
  counter.writeUInt32LE(o.counter);
  const nonce = Buffer.concat([mac, Buffer.from([0xd2, 0xfc, info]), counter]);
  const cipher = createCipheriv('aes-128-ccm', o.key, nonce, { authTagLength: 4 });
  const ciphertext = cipher.update(plain);
  cipher.final();
  return new Uint8Array(Buffer.concat([Buffer.of(info), ciphertext, counter, cipher.getAuthTag()]));
}

// ---- Every object of the specification ----

// [format] each object's "Example" column (object id and value, without the device information
// byte) and its "Result". Sizes and factors are the decoder's; these results are the spec's.
// Hand-worked where a sign, a size or a factor could go wrong.
const SPEC_EXAMPLES: Array<[example: string, name: string, result: DecodedValue, worked?: string]> = [
  // Misc data
  ['0009', 'packet_id', 9],
  // Sensor data
  ['518756', 'acceleration', 22.151, '0x5687 = 22151 x 0.001'],
  ['630057D0FF', 'acceleration', -3.123456, 'sint32 0xFFD05700 = -3123456 x 0.000001'],
  ['0161', 'battery', 97],
  ['6001', 'channel', 1],
  ['12E204', 'co2', 1250, '0x04E2'],
  ['56E803', 'conductivity', 1000, '0x03E8'],
  ['0960', 'count', 96],
  ['3D0960', 'count', 24585, 'uint16 0x6009'],
  ['3E2A2C0960', 'count', 1611213866, 'uint32 0x60092C2A'],
  ['59EA', 'count', -22, 'sint8 0xEA - 0x100'],
  ['5AEAEA', 'count', -5398, 'sint16 0xEAEA - 0x10000'],
  ['5BEA0234EA', 'count', -365690134, 'sint32 0xEA3402EA - 2^32'],
  ['434E34', 'current', 13.39, '0x344E = 13390 x 0.001'],
  ['5D02EA', 'current', -5.63, 'sint16 0xEA02 = -5630 x 0.001'],
  ['08CA06', 'dewpoint', 17.38, '0x06CA = 1738 x 0.01'],
  ['5E9F8C', 'direction', 359.99, '0x8C9F = 35999 x 0.01'],
  ['400C00', 'distance_mm', 12],
  ['414E00', 'distance_m', 7.8, '78 x 0.1'],
  ['424E3400', 'duration', 13.39, 'uint24 0x00344E = 13390 x 0.001 (spec: 13.390)'],
  ['4d12138a14', 'energy', 344593.17, 'uint32 0x148A1312 = 344593170 x 0.001'],
  ['0A138A14', 'energy', 1346.067, 'uint24 0x148A13 = 1346067 x 0.001'],
  ['4B138A14', 'gas', 1346.067],
  ['4C41018A01', 'gas', 25821.505, 'uint32 0x018A0141 = 25821505 x 0.001'],
  ['528756', 'gyroscope', 22.151],
  ['03BF13', 'humidity', 50.55, '0x13BF = 5055 x 0.01'],
  ['2E23', 'humidity', 35, 'uint8, factor 1'],
  ['05138A14', 'illuminance', 13460.67, 'uint24 0x148A13 = 1346067 x 0.01'],
  ['6402', 'light_level', 2, '2 = bright'],
  ['065E1F', 'mass_kg', 80.3, '0x1F5E = 8030 x 0.01'],
  ['073E1D', 'mass_lb', 74.86],
  ['14020C', 'moisture', 30.74, '0x0C02 = 3074 x 0.01'],
  ['2F23', 'moisture', 35],
  ['0D120C', 'pm2_5', 3090],
  ['0E021C', 'pm10', 7170],
  ['0B021B00', 'power', 69.14, 'uint24 0x001B02 = 6914 x 0.01'],
  ['5C02FBFFFF', 'power', -12.78, 'sint32 0xFFFFFB02 = -1278 x 0.01'],
  ['5FA00F', 'precipitation', 400, '0x0FA0 = 4000 x 0.1 (spec: 400.0)'],
  ['04138A01', 'pressure', 1008.83, 'uint24 0x018A13 = 100883 x 0.01'],
  ['540C48656C6C6F20576F726C6421', 'raw', '48656c6c6f20576f726c6421'],
  ['3F020C', 'rotation', 307.4, 'sint16 0x0C02 = 3074 x 0.1'],
  ['61AC0D', 'rotational_speed', 3500],
  ['6503', 'settings_revision', 3],
  ['444E34', 'speed', 133.9],
  ['624099DFFF', 'speed', -2.123456, 'sint32 0xFFDF9940 = -2123456 x 0.000001'],
  ['57EA', 'temperature', -22, 'sint8, factor 1'],
  ['58EA', 'temperature', -7.7, 'sint8 -22 x 0.35'],
  ['451101', 'temperature', 27.3, 'sint16 0x0111 = 273 x 0.1'],
  ['02CA09', 'temperature', 25.06, 'sint16 0x09CA = 2506 x 0.01'],
  ['530C48656C6C6F20576F726C6421', 'text', 'Hello World!'],
  ['505d396164', 'timestamp', 1684093277, 'uint32 0x6461395D, 2023-05-14T19:41:17Z'],
  ['133301', 'tvoc', 307],
  ['0C020C', 'voltage', 3.074, '0x0C02 = 3074 x 0.001'],
  ['4A020C', 'voltage', 307.4, '3074 x 0.1'],
  ['4E87562A01', 'volume', 19551.879, 'uint32 0x012A5687 = 19551879 x 0.001'],
  ['478756', 'volume', 2215.1, '0x5687 = 22151 x 0.1'],
  ['48DC87', 'volume_ml', 34780],
  ['5587562A01', 'volume_storage', 19551.879],
  ['49DC87', 'volume_flow_rate', 34.78],
  ['4632', 'uv_index', 5, '50 x 0.1'],
  ['4F87562A01', 'water', 19551.879],
  // Binary sensor data: "Its value should be 1 for on, and 0 for off."
  ['1501', 'battery_low', true],
  ['1601', 'battery_charging', true],
  ['1700', 'carbon_monoxide', false],
  ['1801', 'cold', true],
  ['1900', 'connectivity', false],
  ['1A00', 'door', false],
  ['1B01', 'garage_door', true],
  ['1C01', 'gas_detected', true],
  ['0F01', 'generic', true],
  ['1D00', 'heat', false],
  ['1E01', 'light', true],
  ['1F01', 'lock', true],
  ['2001', 'moisture_detected', true],
  ['2100', 'motion', false],
  ['2201', 'moving', true],
  ['2301', 'occupancy', true],
  ['1100', 'opening', false],
  ['2400', 'plug', false],
  ['1001', 'power_on', true],
  ['2500', 'presence', false],
  ['2601', 'problem', true],
  ['2701', 'running', true],
  ['2800', 'safety', false],
  ['2901', 'smoke', true],
  ['2A00', 'sound', false],
  ['2B00', 'tamper', false],
  ['2C01', 'vibration', true],
  ['2D01', 'window', true],
  // Events
  ['3A00', 'button', 0, 'None'],
  ['3A01', 'button', 1, 'press'],
  ['3A02', 'button', 2, 'double_press'],
  ['3A03', 'button', 3, 'triple_press'],
  ['3A04', 'button', 4, 'long_press'],
  ['3A05', 'button', 5, 'long_double_press'],
  ['3A06', 'button', 6, 'long_triple_press'],
  ['3A80', 'button', 0x80, 'hold_press'],
  ['3B0000', 'command', 0, 'off, no arguments'],
  ['3B0001', 'command', 1, 'on'],
  ['3B0002', 'command', 2, 'toggle'],
  ['3C0000', 'dimmer', 0, 'None'],
  ['3C0103', 'dimmer', -3, 'rotate left 3 steps'],
  ['3C020A', 'dimmer', 10, 'rotate right 10 steps'],
  // Device information
  ['F00100', 'device_type_id', 1],
  ['F100010204', 'firmware_version', '4.2.1.0'],
  ['F2000106', 'firmware_version', '6.1.0'],
];

test('every example of the format page decodes to its result', () => {
  for (const [example, name, result, worked] of SPEC_EXAMPLES) {
    const values = clean(decode(h(`40${example}`)));
    assert.deepEqual(values, { [name]: result, trigger_based: false }, `40${example}${worked ? ` (${worked})` : ''}`);
  }
});

test('unsigned values keep their top bit; signed ones are two\'s complement', () => {
  // Worked by hand: all ones, read unsigned, times the factor of [format]'s table.
  assert.deepEqual(clean(decode(h('40 01FF 03FFFF 05FFFFFF 3EFFFFFFFF'))), { battery: 255, humidity: 655.35, illuminance: 167772.15, count: 4294967295, trigger_based: false });
  assert.deepEqual(clean(decode(h('40 0AFFFFFF 4DFFFFFFFF'))), { energy: 16777.215, energy_2: 4294967.295, trigger_based: false });
  // sint16 0x7FFF = 32767 and 0x8000 = -32768, x 0.01; sint8 0x80 = -128 x 0.35 = -44.8.
  assert.deepEqual(clean(decode(h('40 02FF7F 020080 5880'))), { temperature: 327.67, temperature_2: -327.68, temperature_3: -44.8, trigger_based: false });
});

test('the command object carries its arguments', () => {
  // [format] "Commands": 3B010305 = argument length 1, opcode 0x03 (step up), argument 5 steps.
  assert.deepEqual(clean(decode(h('40 3B010305'))), { command: 3, command_args: [5], trigger_based: false });
  // The high 3 bits of the length byte are reserved: only the low 5 count. 0xE2 -> 2 arguments.
  assert.deepEqual(clean(decode(h('40 3BE20407 08 2101'))), { command: 4, command_args: [7, 8], motion: true, trigger_based: false });
});

test('every object id the decoder knows is checked against an example of the specification', () => {
  const tested = new Set(SPEC_EXAMPLES.map(([example]) => parseInt(example.slice(0, 2), 16)));
  const known = new Set(BTHOME_OBJECTS.keys());
  assert.deepEqual([...known].filter((id) => !tested.has(id)), [], 'ids without an example');
  assert.deepEqual([...tested].filter((id) => !known.has(id)), [], 'examples of unknown ids');
  // The ids the brief names, one by one.
  for (const id of [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x12, 0x13, 0x14, 0x2e, 0x2f, 0x45, 0x3a, 0x3f]) assert.ok(known.has(id), `0x${id.toString(16)}`);
  for (let id = 0x15; id <= 0x2d; id++) assert.equal(BTHOME_OBJECTS.get(id)!.kind, 'binary', `0x${id.toString(16)}`);
});

test('DESIGN channel names and units for the environmental objects', () => {
  const unit = (id: number) => [BTHOME_OBJECTS.get(id)!.name, BTHOME_OBJECTS.get(id)!.unit];
  assert.deepEqual(unit(0x02), ['temperature', 'Cel']);
  assert.deepEqual(unit(0x03), ['humidity', '%']);
  assert.deepEqual(unit(0x05), ['illuminance', 'lx']);
  assert.deepEqual(unit(0x04), ['pressure', 'hPa']);
  assert.deepEqual(unit(0x01), ['battery', '%']);
});

// ---- Whole packets ----

test('the worked example of the format page', () => {
  // [format] "0A16D2FC4002C40903BF13": service data after the UUID is 40 02C409 03BF13;
  // 0xC409 little endian = 2500 -> 25.00 Cel, 0xBF13 = 5055 -> 50.55 %.
  assert.deepEqual(clean(decode(h('40 02C409 03BF13'))), { temperature: 25, humidity: 50.55, trigger_based: false });
});

test('packets of several objects from the bthome-ble tests', () => {
  // [bthome-ble] test_bthome_packet_id_temperature_humidity_battery: 9, 23.97, 63.27, 93.
  assert.deepEqual(clean(decode(h('40 0009 015d 025d09 03b718'))), { packet_id: 9, battery: 93, temperature: 23.97, humidity: 63.27, trigger_based: false });
  // [bthome-ble] test_bthome_triple_temperature_double_humidity_battery (it says temperature_1..3).
  assert.deepEqual(clean(decode(h('40 02ca09 02cf09 02cf08 03b718 03b717 015d'))), {
    temperature: 25.06,
    temperature_2: 25.11,
    temperature_3: 22.55,
    humidity: 63.27,
    humidity_2: 60.71,
    battery: 93,
    trigger_based: false,
  });
  // [bthome-ble] test_bthome_double_voltage_different_object_id: 0x4A (0.1 V) then 0x0C (0.001 V)
  // are both voltage: 231.7 then 3.305.
  assert.deepEqual(clean(decode(h('40 0001 0b000000 4a0d09 0133 0ce90c'))), { packet_id: 1, power: 0, voltage: 231.7, battery: 51, voltage_2: 3.305, trigger_based: false });
  // [bthome-ble] test_shelly_blu_ht_display_zb: packet id 46, battery 100, light on, humidity 52,
  // temperature 27.8.
  assert.deepEqual(clean(decode(h('40 002e 0164 1e01 2e34 451601'))), { packet_id: 46, battery: 100, light: true, humidity: 52, temperature: 27.8, trigger_based: false });
  // [bthome-ble] test_bthome_pm: PM2.5 3090 and PM10 7170.
  assert.deepEqual(clean(decode(h('40 0d120c 0e021c'))), { pm2_5: 3090, pm10: 7170, trigger_based: false });
  // [bthome-ble] test_bthome_direction_precipitation: 0x753F = 30015 x 0.01; 0xD511 = 54545 x 0.1.
  assert.deepEqual(clean(decode(h('40 5e3f75 5f11d5'))), { direction: 300.15, precipitation: 5454.5, trigger_based: false });
});

test('binary sensors and events in one packet', () => {
  // [bthome-ble] test_bthome_binary_sensor (0F01), _power (1001), _opening (1100), _window (2D01),
  // joined; and test_bthome_event_triple_button_device: none, press, triple press.
  assert.deepEqual(clean(decode(h('40 0F01 1001 1100 2D01'))), { generic: true, power_on: true, opening: false, window: true, trigger_based: false });
  assert.deepEqual(clean(decode(h('40 3a00 3a01 3a03'))), { button: 0, button_2: 1, button_3: 3, trigger_based: false });
  // [bthome-ble] test_bthome_shelly_button: packet id 82, battery 100, press.
  assert.deepEqual(clean(decode(h('40 0052 0164 3a01'))), { packet_id: 82, battery: 100, button: 1, trigger_based: false });
});

test('the trigger based flag is given, not acted on', () => {
  // [bthome-ble] test_sleepy_device: 0x44 = v2, bit 2 set.
  assert.deepEqual(clean(decode(h('44 04138a01'))), { pressure: 1008.83, trigger_based: true });
  // [bthome-ble] test_bthome_shelly_button_no_press: 44 0021 015e 3a01.
  assert.deepEqual(clean(decode(h('44 0021 015e 3a01'))), { packet_id: 33, battery: 94, button: 1, trigger_based: true });
});

test('objects out of numerical order are decoded as they come', () => {
  // [bthome-ble] test_bthome_not_sending_object_ids_in_numerical_order (it only logs a warning).
  assert.deepEqual(clean(decode(h('40 03bf13 02ca09'))), { humidity: 50.55, temperature: 25.06, trigger_based: false });
});

test('a packet with only the device information byte has no objects', () => {
  assert.deepEqual(clean(decode(h('40'))), { trigger_based: false });
});

test('bit 1: the MAC in the payload (bthome-ble), reversed', () => {
  // [bthome-ble] test_bthome_with_mac: 42, MAC b2188d38c1a4 reversed = A4:C1:38:8D:18:B2, then
  // pressure 1008.83.
  assert.deepEqual(clean(decode(h('42 b2188d38c1a4 04138a01'))), { pressure: 1008.83, mac: 'a4:c1:38:8d:18:b2', trigger_based: false });
  const issue = rejectedWith(decode(h('42 b2188d')), DECODE_ERRORS.SHORT);
  assert.match(issue.message, /6-byte MAC/);
});

// ---- What ends or refuses a packet ----

test('an unknown object id ends the packet; what came before is kept', () => {
  // [bthome-ble] test_bthome_battery_wrong_object_id_humidity: battery 93 only, the humidity after
  // the unknown 0xFE is not read.
  const p = decode(h('40 015d fe5d09 03b718'));
  assert.deepEqual(p.values, { battery: 93, trigger_based: false });
  assert.equal(p.errors.length, 1);
  assert.equal(p.errors[0]!.code, DECODE_ERRORS.INVALID);
  assert.equal(p.errors[0]!.byteOffset, 3);
  assert.match(p.errors[0]!.message, /unknown BTHome object id 0xFE at byte 3/);
  assert.ok(!isRejected(p));
  // [bthome-ble] test_bthome_wrong_object_id: nothing before it.
  const q = decode(h('40 feca09'));
  assert.deepEqual(q.values, { trigger_based: false });
  assert.equal(q.errors[0]!.byteOffset, 1);
  // 0x66, after the last id of the sensor table (0x65), is unknown too.
  assert.equal(decode(h('40 0161 6601')).errors[0]!.byteOffset, 3);
});

test('an object cut short rejects the packet', () => {
  // [bthome-ble] test_bthome_invalid_object_payload_data_length: humidity missing its 2nd byte.
  let issue = rejectedWith(decode(h('40 02ca09 03bf')), DECODE_ERRORS.SHORT);
  assert.equal(issue.field, 'humidity');
  assert.equal(issue.byteOffset, 4);
  assert.match(issue.message, /0x03 'humidity' at byte 4 needs 2 byte\(s\)/);
  issue = rejectedWith(decode(h('40 04138a')), DECODE_ERRORS.SHORT);
  assert.equal(issue.field, 'pressure');
  // Text of 5 bytes with 2 present; a command whose opcode is missing; a dimmer without steps.
  assert.equal(rejectedWith(decode(h('40 53054142')), DECODE_ERRORS.SHORT).field, 'text');
  assert.equal(rejectedWith(decode(h('40 3b00')), DECODE_ERRORS.SHORT).field, 'command');
  assert.equal(rejectedWith(decode(h('40 3b020101')), DECODE_ERRORS.SHORT).field, 'command');
  assert.equal(rejectedWith(decode(h('40 3c01')), DECODE_ERRORS.SHORT).field, 'dimmer');
  // Nothing at all.
  assert.equal(rejectedWith(decode(new Uint8Array(0)), DECODE_ERRORS.SHORT).byteOffset, 0);
});

test('BTHome v1 and unknown versions are refused', () => {
  // bthome.io/v1 example: service data of UUID 0x181C is 2302C409 0303BF13; given to this
  // decoder its first byte 0x23 has version bits 001.
  let issue = rejectedWith(decode(h('2302C409 0303BF13')), DECODE_ERRORS.INVALID);
  assert.match(issue.message, /BTHome v1/);
  assert.equal(issue.byteOffset, 0);
  // [bthome-ble] test_has_incorrect_version: 0xE1 = version 7; test_incorrect_bthome_version: 0x00.
  assert.match(rejectedWith(decode(h('e1 0200 0c04 04138a01')), DECODE_ERRORS.INVALID).message, /version 7/);
  assert.match(rejectedWith(decode(h('00')), DECODE_ERRORS.INVALID).message, /version 0/);
});

test('values outside their definition are dropped, and parsing goes on', () => {
  // A binary sensor of 2; the window after it is read.
  let p = decode(h('40 2102 2d01'));
  assert.deepEqual(p.values, { window: true, trigger_based: false });
  assert.equal(p.errors.length, 1);
  assert.equal(p.errors[0]!.code, DECODE_ERRORS.INVALID);
  assert.equal(p.errors[0]!.field, 'motion');
  assert.equal(p.errors[0]!.byteOffset, 1);
  // [bthome-ble] test_bthome_invalid_button_event: 3AFE. The dropped one keeps its number, so the
  // second button stays button_2.
  p = decode(h('40 3afe 3a01'));
  assert.deepEqual(p.values, { button_2: 1, trigger_based: false });
  assert.equal(p.errors[0]!.field, 'button');
  assert.match(p.errors[0]!.message, /unknown button event 0xFE/);
  // A dimmer event 3 does not exist.
  assert.equal(decode(h('40 3c0301')).errors[0]!.field, 'dimmer');
  // [bthome-ble] test_bthome_text_invalid: 0x87 alone is not UTF-8.
  p = decode(h('44 530187'));
  assert.deepEqual(p.values, { trigger_based: true });
  assert.equal(p.errors[0]!.field, 'text');
});

// ---- Encryption ----

test('the encryption page example decrypts to its data', () => {
  // [encryption] service data d2fc41e445f3c9962b332211006c7c4519, after the UUID d2fc.
  const values = clean(decode(h('41 e445f3c9962b 33221100 6c7c4519'), CTX));
  assert.deepEqual(values, { temperature: 25.06, humidity: 50.55, counter: 1122867, trigger_based: false });
});

test('seal() makes the encryption page example byte for byte', () => {
  // Checks the test's own encoder against [encryption], so the round trips below mean something.
  const sealed = seal(h('02ca09 03bf13'), { key: KEY, mac: MAC, counter: 1122867 });
  assert.equal(Buffer.from(sealed).toString('hex'), '41e445f3c9962b332211006c7c4519');
});

test('the bthome-ble encrypted vectors', () => {
  // [bthome-ble] test_v2_encryption.py example 1 (and test_bindkey_correct): counter bytes
  // 00112233 -> 0x33221100 = 857870592.
  assert.deepEqual(clean(decode(h('41 a47266c95f73 00112233 78237214'), CTX)), { temperature: 25.06, humidity: 50.55, counter: 857870592, trigger_based: false });
  // Example 2 (and test_bthome_motion): 2101, motion detected.
  assert.deepEqual(clean(decode(h('41 87b9 00112233 72b0231f'), CTX)), { motion: true, counter: 857870592, trigger_based: false });
  // test_bthome_with_mac_encrypted: 0x43 = encrypted + MAC in the payload (a5808fe64854 reversed);
  // that MAC goes into the nonce, so no address is needed.
  assert.deepEqual(clean(decode(h('43 a5808fe64854 f196c06ffb49 00112233 f08ecbde'), { key: KEY })), {
    temperature: 25.06,
    humidity: 50.55,
    counter: 857870592,
    mac: '54:48:e6:8f:80:a5',
    trigger_based: false,
  });
  // test_encrypted_shelly_blu_button_event: a real Shelly BLU Button, key 90bffd73..., MAC
  // B4:35:22:F5:3D:A4, info 0x45 (encrypted, trigger based). The test only checks that the key
  // verifies; the plaintext is 00 07 01 64 3a 01: packet id 7, battery 100, press; counter 0x1BA.
  assert.deepEqual(clean(decode(h('45 0aeb84467f85 ba010000 3188788c'), { key: h('90bffd73cb6b26ef58a7a8eba9232036'), address: 'B4:35:22:F5:3D:A4' })), {
    packet_id: 7,
    battery: 100,
    button: 1,
    counter: 442,
    trigger_based: true,
  });
});

test('counters of the bthome-ble replay tests, with isFreshCounter', () => {
  // [bthome-ble] test_increasing/same/decreasing_encryption_counter and
  // test_reset_encryption_counter; the counters are theirs (the plaintexts are 02CA09 03BF13,
  // except the reset pair: 02CB09 03BF13, 25.07 Cel).
  const counterOf = (hex: string) => clean(decode(h(hex), CTX)).counter as number;
  const first = counterOf('41 e445f3c9962b 33221100 6c7c4519');
  const next = counterOf('41 3e932cc7175f 34221100 553876af');
  const older = counterOf('41 723d3035fb88 32221100 9e7414c0');
  assert.deepEqual([first, next, older], [1122867, 1122868, 1122866]);
  assert.equal(isFreshCounter(undefined, first), true);
  assert.equal(isFreshCounter(first, next), true);
  assert.equal(isFreshCounter(first, first), false, 'the same packet again');
  assert.equal(isFreshCounter(first, older), false, 'an older packet');
  const last = clean(decode(h('41 ba0db07aeef6 ffffffff 21fd4600'), CTX));
  const wrapped = clean(decode(h('41 de40b50e6766 00000000 d7cb95de'), CTX));
  assert.deepEqual(last, { temperature: 25.07, humidity: 50.55, counter: 4294967295, trigger_based: false });
  assert.equal(wrapped.counter, 0);
  assert.equal(isFreshCounter(last.counter as number, wrapped.counter as number), true, 'wrapped around');
});

test('a wrong key, a wrong MAC or an altered byte fails the MIC check', () => {
  const packet = h('41 e445f3c9962b 33221100 6c7c4519');
  // [bthome-ble] test_bindkey_wrong's key.
  let issue = rejectedWith(decode(packet, { key: h('814aac74c4f17b6c1581e1ab87816b99'), address: MAC }), DECODE_ERRORS.INVALID);
  assert.match(issue.message, /MIC does not match \(counter 1122867\)/);
  assert.equal(issue.byteOffset, 11);
  rejectedWith(decode(packet, { key: KEY, address: '54:48:E6:8F:80:A6' }), DECODE_ERRORS.INVALID);
  // Every single bit flipped anywhere (info byte: only those that keep version 2 and encryption).
  for (let byte = 0; byte < packet.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      const altered = packet.slice();
      altered[byte]! ^= 1 << bit;
      const p = decode(altered, CTX);
      if (byte === 0 && (bit === 0 || bit >= 5 || bit === 1)) continue; // unencrypted, another version, or MAC-included: refused otherwise
      assert.match(rejectedWith(p, DECODE_ERRORS.INVALID).message, /MIC does not match/, `byte ${byte} bit ${bit}`);
    }
  }
  // [bthome-ble] test_bindkey_verified_can_be_unset: the counter's first byte changed 00 -> 01.
  rejectedWith(decode(h('41 a47266c95f73 01112233 78237214'), CTX), DECODE_ERRORS.INVALID);
});

test('an encrypted packet without what it needs is refused', () => {
  const packet = h('41 e445f3c9962b 33221100 6c7c4519');
  let issue = rejectedWith(decode(packet), DECODE_ERRORS.INVALID);
  assert.match(issue.message, /encrypted; needs the device's bind key/);
  issue = rejectedWith(decode(packet, { address: MAC }), DECODE_ERRORS.INVALID);
  assert.match(issue.message, /encrypted; needs the device's bind key/);
  // [bthome-ble] test_incorrect_bindkey_length: 24 bytes.
  issue = rejectedWith(decode(packet, { key: h('231d39c1d7cc1ab1aee224cd096db932231d39c1d7cc1ab1'), address: MAC }), DECODE_ERRORS.INVALID);
  assert.match(issue.message, /must be 16 bytes .* it is 24 bytes/);
  issue = rejectedWith(decode(packet, { key: KEY }), DECODE_ERRORS.INVALID);
  assert.match(issue.message, /needs the device's MAC address/);
  issue = rejectedWith(decode(packet, { key: KEY, address: '/dev/ttyUSB0' }), DECODE_ERRORS.INVALID);
  assert.match(issue.message, /'\/dev\/ttyUSB0' is not one/);
  // [bthome-ble] test_too_short_encryption_advertisement: 7 bytes after the info byte.
  issue = rejectedWith(decode(h('41 ba0db07aeef600'), CTX), DECODE_ERRORS.SHORT);
  assert.match(issue.message, /4-byte counter and a 4-byte MIC; it has 7 byte/);
});

test('the MAC address may be written in any case, with colons, dashes or nothing', () => {
  const packet = h('41 e445f3c9962b 33221100 6c7c4519');
  for (const address of ['54:48:e6:8f:80:a5', '54-48-E6-8F-80-A5', '5448E68F80A5', ' 54:48:E6:8F:80:A5 ']) {
    assert.equal(clean(decode(packet, { key: KEY, address })).temperature, 25.06, address);
  }
});

test('an unencrypted packet is refused when the device has a key', () => {
  // [bthome-ble] test_encryption_downgrade_fails: 40 04138a01 with a bind key set.
  const plain = h('40 04138a01');
  let issue = rejectedWith(strict(plain), DECODE_ERRORS.INVALID);
  assert.match(issue.message, /this device has a key \(the profile requires encryption\); an unencrypted packet is refused/);
  issue = rejectedWith(decode(plain, { key: h('814aac74c4f17b6c1581e1ab87816b99'), address: MAC }), DECODE_ERRORS.INVALID);
  assert.match(issue.message, /this device has a key \(the config gives its key\); an unencrypted packet is refused/);
  // Without a key and without the option, it decodes; with the option, encrypted packets do.
  assert.deepEqual(clean(decode(plain, { address: MAC })), { pressure: 1008.83, trigger_based: false });
  assert.equal(clean(strict(h('41 e445f3c9962b 33221100 6c7c4519'), CTX)).humidity, 50.55);
  // The option also refuses a packet with no key at all in the context.
  rejectedWith(strict(plain, {}), DECODE_ERRORS.INVALID);
});

test('problems inside an encrypted packet name the packet byte', () => {
  // Plaintext 015d fe00 at ciphertext offset 1: the unknown id is plaintext byte 2, packet byte 3.
  const p = decode(seal(h('015d fe00'), { key: KEY, mac: MAC, counter: 7 }), CTX);
  assert.deepEqual(p.values, { battery: 93, counter: 7, trigger_based: false });
  assert.equal(p.errors[0]!.byteOffset, 3);
  // A truncated object inside, authentic or not, rejects the packet.
  assert.equal(rejectedWith(decode(seal(h('02ca'), { key: KEY, mac: MAC, counter: 8 }), CTX), DECODE_ERRORS.SHORT).byteOffset, 1);
  // Nothing encrypted but the counter: authentic, no objects.
  assert.deepEqual(clean(decode(seal(new Uint8Array(0), { key: KEY, mac: MAC, counter: 9 }), CTX)), { counter: 9, trigger_based: false });
});

/** Concatenated spec examples, in any order: packets whose decoding is known. */
const someObjects = fc.array(fc.constantFrom(...SPEC_EXAMPLES.map(([example]) => example)), { minLength: 0, maxLength: 8 }).map((xs) => h(xs.join('')));
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));

test('round trip: what seal() encrypts decrypts to what the plain packet says', () => {
  fc.assert(
    fc.property(someObjects, fc.uint8Array({ minLength: 16, maxLength: 16 }), mac, fc.nat({ max: 0xffffffff }), fc.boolean(), (objects, key, address, counter, trigger) => {
      const info = trigger ? 0x45 : 0x41;
      const plain = decode(Uint8Array.of(info & ~1, ...objects));
      const sealed = decode(seal(objects, { key, mac: address, counter, info }), { key, address: address.toUpperCase() });
      assert.deepEqual(sealed.errors, plain.errors.map((e) => e)); // same issues, same packet offsets
      assert.deepEqual(sealed.values, { ...plain.values, counter });
      // And with another key it never passes.
      const other = Uint8Array.from(key, (b, i) => (i === 0 ? b ^ 0x80 : b));
      assert.ok(isRejected(decode(seal(objects, { key, mac: address, counter, info }), { key: other, address })));
    }),
    { numRuns: 300 },
  );
});

// ---- Properties over anything ----

/** Every number in the values is finite; text only where text is defined. */
function checkValues(values: DecodedValues): void {
  for (const [name, v] of Object.entries(values)) {
    if (typeof v === 'number') assert.ok(Number.isFinite(v), `${name} = ${v}`);
    else if (Array.isArray(v)) for (const x of v) assert.ok(Number.isFinite(x), `${name} holds ${x}`);
    else if (typeof v === 'string') assert.match(name, /^(text|raw|firmware_version|mac)(_\d+)?$/);
    else assert.equal(typeof v, 'boolean', name);
  }
}

/** A field name is listed, or is a repeat past the listed ones. */
function checkListed(values: DecodedValues): void {
  const listed = new Set(bthomeV2.fields.values);
  for (const name of Object.keys(values)) {
    const repeat = /^(.*)_(\d+)$/.exec(name);
    assert.ok(listed.has(name) || (repeat !== null && Number(repeat[2]) > 4 && listed.has(repeat[1]!)), name);
  }
}

const anyContext: fc.Arbitrary<DecodeContext | undefined> = fc.option(
  fc.record(
    {
      key: fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 40 }), fc.constant(KEY)),
      address: fc.oneof(fc.string(), mac, fc.constant(MAC)),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

test('any bytes and any context: never throws, numbers finite, problems well formed', () => {
  const check = (bytes: Uint8Array, context: DecodeContext | undefined, decoder = decode) => {
    const p = decoder(bytes, context);
    assert.deepEqual(p.rows, []);
    checkValues(p.values);
    checkListed(p.values);
    for (const e of p.errors) {
      assert.ok(Object.values(DECODE_ERRORS).includes(e.code as never), e.code);
      assert.ok(e.message.length > 0);
      // A byte of the packet; for a packet cut short, possibly the end where the missing bytes would be.
      const end = e.code === DECODE_ERRORS.SHORT ? bytes.length : bytes.length - 1;
      if (e.byteOffset !== undefined) assert.ok(e.byteOffset >= 0 && e.byteOffset <= end, JSON.stringify(e));
    }
    if (Object.keys(p.values).length === 0) assert.equal(p.errors.length, 1, 'a rejection has one error');
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), anyContext, fc.boolean(), (bytes, context, strictly) => check(bytes, context, strictly ? strict : decode)), { numRuns: 2000 });
  // Version 2 headers, so the object parser and the decryption are reached.
  const v2 = fc.tuple(fc.integer({ min: 0, max: 31 }), fc.uint8Array({ maxLength: 64 })).map(([low, rest]) => Uint8Array.of(0x40 | low, ...rest));
  fc.assert(fc.property(v2, anyContext, (bytes, context) => check(bytes, context)), { numRuns: 3000 });
  // Odd contexts a caller should not pass, but might.
  for (const context of [null, {}, { key: 'not bytes', address: 42 }, { key: null }, { key: new Uint8Array(16), address: undefined }] as unknown as DecodeContext[]) {
    check(h('41 e445f3c9962b 33221100 6c7c4519'), context);
    check(h('40 02ca09'), context);
  }
});

// ---- The registration ----

test('fields list every value name, with up to four of a kind; no rows', () => {
  const { values, rows } = bthomeV2.fields;
  assert.deepEqual(rows, []);
  assert.equal(new Set(values).size, values.length, 'no name twice');
  for (const [example] of SPEC_EXAMPLES) checkListed(clean(decode(h(`40${example}${example}${example}${example}`))));
  for (const name of ['temperature', 'temperature_2', 'temperature_4', 'button_4', 'command_args', 'command_args_2', 'counter', 'trigger_based', 'mac', 'packet_id']) assert.ok(values.includes(name), name);
  assert.ok(!values.includes('temperature_5'));
  assert.equal(bthomeV2.name, 'bthome/v2');
});

test('options: require_encryption only, a boolean', () => {
  assert.throws(() => bthomeV2.compile({ key: 'x' }), (e: unknown) => e instanceof TypeError && /bthome\/v2: unknown option 'key'; known: require_encryption/.test(e.message));
  assert.throws(() => bthomeV2.compile({ require_encryption: 'yes' }), (e: unknown) => e instanceof TypeError && /'require_encryption' is true or false, not 'yes'/.test(e.message));
  assert.equal(typeof bthomeV2.compile({ require_encryption: false }), 'function');
  // false behaves as the default.
  assert.equal(clean(bthomeV2.compile({ require_encryption: false })(h('40 0161'))).battery, 97);
});

// ---- The replay counter rule ----

test('isFreshCounter: strictly newer, modulo 2^32 with a half-range window', () => {
  const H = 2 ** 31;
  const cases: Array<[last: number | undefined, counter: number, fresh: boolean, why: string]> = [
    [undefined, 0, true, 'nothing seen yet'],
    [undefined, 0xffffffff, true, 'nothing seen yet'],
    [100, 101, true, 'next'],
    [100, 100, false, 'the same again'],
    [100, 99, false, 'one back'],
    [100, 100 + H - 1, true, 'the farthest ahead that counts as ahead'],
    [100, 100 + H, false, 'exactly half the range: ambiguous, refused'],
    [100 + H, 100, false, 'back by exactly half'],
    [100 + H + 1, 100, true, 'back by more than half: a wrap'],
    [0xffffffff, 0, true, 'wrapped'],
    [0xfffffff0, 5, true, 'wrapped, a few lost'],
    [5, 0xfffffff0, false, 'an old packet from before the wrap'],
    [0, 0xffffffff, false, 'back by one across zero'],
    [1122867, 1122868, true, 'the bthome-ble increase'],
  ];
  for (const [last, counter, fresh, why] of cases) assert.equal(isFreshCounter(last, counter), fresh, `${last} -> ${counter}: ${why}`);
  for (const bad of [-1, 1.5, 2 ** 32, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.equal(isFreshCounter(undefined, bad), false, `counter ${bad}`);
    assert.equal(isFreshCounter(bad, 5), false, `last ${bad}`);
  }
});

test('isFreshCounter: of two different counters less than half apart, exactly one is newer', () => {
  const u32 = fc.nat({ max: 0xffffffff });
  fc.assert(
    fc.property(u32, u32, (a, b) => {
      const gap = Math.abs(a - b);
      if (a === b || gap === 2 ** 31) {
        assert.equal(isFreshCounter(a, b), false);
        assert.equal(isFreshCounter(b, a), false);
      } else {
        assert.notEqual(isFreshCounter(a, b), isFreshCounter(b, a), `${a} ${b}`);
      }
    }),
  );
  fc.assert(fc.property(u32, fc.integer({ min: 1, max: 2 ** 31 - 1 }), (last, step) => isFreshCounter(last, (last + step) % 2 ** 32)));
});

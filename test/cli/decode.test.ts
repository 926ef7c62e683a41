// twinedge decode and twinedge profiles validate|test, run as the real command line: the JSON
// of decode and the exit codes are a contract (DESIGN.md, Profiles and decoding).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
const TIMEOUT = { timeout: 60_000 };
const twinedge = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('decode --json prints the contract object and exits 0 when the bytes decoded', TIMEOUT, () => {
  // The IMU profile's payload: type 1, seq 7, then two samples; the first lies flat (az = 8192 LSB = 1 g).
  const r = twinedge('decode', '--profile', 'generic/imu6-lcrc', '--hex', '0107 0000 0000 0020 0000 0000 0000 00f0 0020 0020 8300 71fd 2100', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out), ['profile', 'samples', 'errors']);
  assert.equal(out.profile, 'generic/imu6-lcrc');
  assert.equal(out.samples.length, 12);
  assert.deepEqual(out.samples[2], { channel: 'acc_z', value: 1, unit: '[g]' });
  assert.deepEqual(out.samples[6], { channel: 'acc_x', value: -0.5, unit: '[g]' });
  assert.deepEqual(out.samples[10], { channel: 'gyr_y', value: -10, unit: 'deg/s' });
  assert.deepEqual(out.errors, []);
});

test('decode exits 3 with the error when the input is rejected, 0 when only a field was dropped', TIMEOUT, () => {
  const bad = twinedge('decode', '--profile', 'generic/pulse-oximeter-nmea', '--text', '$POXI,96,72,3.4*0F', '--json');
  assert.equal(bad.status, 3, bad.stderr);
  const out = JSON.parse(bad.stdout);
  assert.deepEqual(out.samples, []);
  assert.equal(out.errors[0].code, 'LINE_BAD_CHECKSUM');
  assert.match(out.errors[0].message, /0F/);

  const partial = twinedge('decode', '--profile', 'generic/pulse-oximeter-nmea', '--text', '$POXI,127,255,0.0*0A', '--json');
  assert.equal(partial.status, 0, partial.stderr);
  const p = JSON.parse(partial.stdout);
  assert.deepEqual(p.samples, [{ channel: 'perfusion_index', value: 0, unit: '%' }]);
  assert.deepEqual(p.errors.map((e: { code: string }) => e.code), ['DECODE_NO_READING', 'DECODE_NO_READING']);
});

test('decode refuses bad usage with exit 2 and a message that names what is wrong', TIMEOUT, () => {
  const hex = twinedge('decode', '--profile', 'generic/imu6-lcrc', '--hex', '01 0g', '--json');
  assert.equal(hex.status, 2);
  assert.match(hex.stderr, /'g' at digit 4, which is not a hex digit \[USAGE_BAD_ARGUMENT\]/);
  const unknown = twinedge('decode', '--profile', 'generic/nope', '--text', 'x', '--json');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /no profile 'generic\/nope'; known: .*generic\/bh1750-light.*\[PROFILE_UNKNOWN\]/);
  const both = twinedge('decode', '--profile', 'generic/imu6-lcrc', '--hex', '01', '--text', 'x');
  assert.equal(both.status, 2);
  const source = twinedge('decode', '--profile', 'generic/imu6-lcrc', '--source', '2a37', '--hex', '01', '--json');
  assert.equal(source.status, 3);
  assert.equal(JSON.parse(source.stdout).errors[0].code, 'DECODE_UNKNOWN_SOURCE');
});

test('profiles validate and test: exit 0 on the shipped profiles, 1 on a failing example, 2 on a refused file', TIMEOUT, async (t) => {
  const shipped = twinedge('profiles', 'test');
  assert.equal(shipped.status, 0, shipped.stdout + shipped.stderr);
  assert.match(shipped.stdout, /\d+ example\(s\) in \d+ profile\(s\): \d+ passed, 0 failed/);

  const dir = await tempDir(t);
  const profile = (id: string, value: number) => `id: ${id}
version: 1.0.0
title: t
transport: serial
serial: { framing: { kind: lines } }
channels: [{ name: x, unit: '1', modality: device }]
decode: { lines: { kind: csv, columns: [x] } }
examples: [{ name: five, text: '5', samples: [{ channel: x, value: ${value} }] }]
`;
  await writeFile(join(dir, 'a.yaml'), profile('t/a', 6));
  const failing = twinedge('profiles', 'test', dir);
  assert.equal(failing.status, 1);
  assert.match(failing.stdout, /FAIL t\/a: five\n.*sample 1: expected x = 6, got x = 5/);

  await writeFile(join(dir, 'a.yaml'), profile('t/a', 5));
  await writeFile(join(dir, 'b.yaml'), profile('t/b', 5).replace("unit: '1'", 'unit: 1'));
  const validate = twinedge('profiles', 'validate', dir);
  assert.equal(validate.status, 2);
  assert.match(validate.stdout, /^ok {3}t\/a 1\.0\.0/m);
  assert.match(validate.stderr, /b\.yaml:6 channels\[0\]\.unit: expected a string, got 1 \[PROFILE_INVALID\]/);
});

test('decode --address --key decrypts a BTHome packet (the bthome.io/encryption example)', TIMEOUT, () => {
  // bthome.io/encryption: key 231d39c1d7cc1ab1aee224cd096db932, MAC 54:48:E6:8F:80:A5, counter
  // 0x00112233, plaintext 02ca09 03bf13: temperature 0x09ca = 2506 x 0.01 = 25.06 Cel, humidity 50.55 %.
  const args = ['decode', '--profile', 'bthome/v2', '--source', 'advert', '--hex', '41 e445f3c9962b 33221100 6c7c4519', '--json'];
  const without = twinedge(...args);
  assert.equal(without.status, 3);
  const r = twinedge(...args, '--address', '54:48:E6:8F:80:A5', '--key', '231d39c1d7cc1ab1aee224cd096db932');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).samples, [{ channel: 'temperature', value: 25.06, unit: 'Cel' }, { channel: 'humidity', value: 50.55, unit: '%' }]);
  const wrong = twinedge(...args, '--address', '54:48:E6:8F:80:A5', '--key', '00'.repeat(16));
  assert.equal(wrong.status, 3);
});

// The daemon with a serial device in its config, end to end: a simulated pulse oximeter writes
// into a socat pty, `twinedge run` reads it with the shipped profile, and the frames that reach
// the broker (aedes) are verified with the hub's public key: the status lists the device and
// its profile, and each window's cross-section names the device, the profile version and the
// oximetry coverage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { decodeBody, decodeSigned, type DecodedBody } from '../../src/frames/codec.js';
import { generateHubKey, writeKeyFiles } from '../../src/frames/keys.js';
import { verifyBody } from '../../src/frames/sign.js';
import { startAedesFor } from '../helpers/aedes.js';
import { PtyPair } from '../helpers/pty.js';
import { tempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const CLI = fileURLToPath(new URL('../../scripts/twinedge.js', import.meta.url));
const SIMULATOR = fileURLToPath(new URL('../../scripts/simulate-serial.ts', import.meta.url));

function runCli(args: string[]): { child: ChildProcess; out: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TWINEDGE_BROKER_URL: '' } });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => { out.stdout += d; });
  child.stderr!.on('data', (d) => { out.stderr += d; });
  return { child, out };
}

test('twinedge run streams a serial device into signed cross-section frames', { timeout: 60_000, skip: skipUnless('socat') }, async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const pty = await PtyPair.start(dir);
  t.after(() => pty.close());
  const key = generateHubKey();
  await writeKeyFiles(join(dir, 'hub'), key);
  await writeFile(join(dir, 'c.yaml'), `hub: { id: h1, key_file: hub.key, data_dir: data, clock_sync: assume-synced }
subjects: [{ ref: p-1 }]
broker: { url: '${broker.url}' }
windows: { length_s: 1, grace_s: 0.2 }
devices:
  - profile: generic/pulse-oximeter-nmea
    serial: { path: '${pty.devicePath}' }
`);
  const frames: DecodedBody[] = [];
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  t.after(() => client.endAsync());
  client.on('message', (_topic, payload) => {
    const signed = decodeSigned(payload);
    assert.ok(verifyBody(signed.body, signed.signature, key.publicKey), 'every frame verifies with the hub key');
    frames.push(decodeBody(signed.body));
  });
  await client.subscribeAsync('twin/v1/h1/#', { qos: 1 });

  const hub = runCli(['run', '--config', join(dir, 'c.yaml')]);
  t.after(() => { if (hub.child.exitCode === null) hub.child.kill('SIGKILL'); });
  const sim = spawn(process.execPath, ['--import', 'tsx', SIMULATOR, '--profile', 'generic/pulse-oximeter-nmea', '--port', pty.peerPath, '--speed', '10'], { stdio: 'ignore' });
  t.after(() => { if (sim.exitCode === null) sim.kill('SIGKILL'); });

  const sections = () => frames.filter((f) => f.kind === 'cross_section' && (f.cross_section!.sources ?? []).length > 0);
  await until(() => sections().length >= 2, 'two windows with the device in them', 30_000);
  const status = frames.find((f) => f.kind === 'status' && f.status!.devices?.length);
  assert.ok(status, `a status frame listing the device (stderr: ${hub.out.stderr})`);
  assert.deepEqual(status.status!.devices!.map((d) => [d.device_id, d.profile_id, d.subject_ref, d.state]), [[`serial:${pty.devicePath}`, 'generic/pulse-oximeter-nmea', 'p-1', 'connected']]);
  assert.deepEqual(status.status!.profiles, [{ id: 'generic/pulse-oximeter-nmea', version: '1.0.0' }]);
  assert.deepEqual(status.status!.encoders!.map((e) => [e.modality, e.name]).sort(), [
    ['cardiac', 'twinedge-cardiac-spectral'], ['motion', 'twinedge-motion-spectral'], ['respiration', 'twinedge-respiration-spectral'],
  ], 'the status lists the loaded encoders');
  assert.ok(status.status!.encoders!.every((e) => /^[0-9a-f]{64}$/.test(e.sha256)));
  const section = sections()[1]!;
  assert.equal(section.subject_ref, 'p-1');
  assert.deepEqual(section.cross_section!.sources, [{ device_id: `serial:${pty.devicePath}`, profile_id: 'generic/pulse-oximeter-nmea', profile_version: '1.0.0', channels: ['spo2', 'pulse_rate', 'perfusion_index'] }]);
  const oximetry = section.cross_section!.quality!.find((q) => q.modality === 'oximetry')!;
  assert.ok(oximetry.coverage > 0.5, `coverage ${oximetry.coverage}`);
  assert.equal(section.cross_section!.window_end_ms - section.cross_section!.window_start_ms, 1000);
  // The simulated oximeter reads 96 to 98 % and 62 to 70 /min.
  const spo2 = section.cross_section!.features!.find((f) => f.code === 'spo2.mean');
  assert.ok(spo2 && spo2.value >= 96 && spo2.value <= 98, JSON.stringify(section.cross_section!.features));
  assert.equal(spo2.unit, '%');
  assert.equal(spo2.standard_code, 'LOINC:59408-5');
  assert.ok(spo2.n! >= 5);

  hub.child.kill('SIGTERM');
  const [code] = await once(hub.child, 'exit');
  assert.equal(code, 0, hub.out.stderr);
});

test('twinedge run refuses a device whose profile does not exist, naming the key, before starting', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  await writeKeyFiles(join(dir, 'hub'), generateHubKey());
  await writeFile(join(dir, 'c.yaml'), 'hub: { id: h1, key_file: hub.key, data_dir: data }\ndevices:\n  - profile: generic/no-such-device\n    serial: { path: /dev/ttyUSB0 }\n  - profile: generic/bh1750-light\n    subject: nobody\n');
  const bad = runCli(['run', '--config', join(dir, 'c.yaml')]);
  const [code] = await once(bad.child, 'exit');
  assert.equal(code, 2);
  assert.match(bad.out.stderr, /devices\[1\]\.subject: 'nobody' is not a ref in subjects \(subject-1\) \[CONFIG_VALUE_INVALID\]/);

  await writeFile(join(dir, 'c.yaml'), 'hub: { id: h1, key_file: hub.key, data_dir: data }\ndevices:\n  - profile: generic/no-such-device\n    serial: { path: /dev/ttyUSB0 }\n');
  const unknown = runCli(['run', '--config', join(dir, 'c.yaml')]);
  const [code2] = await once(unknown.child, 'exit');
  assert.equal(code2, 2);
  assert.match(unknown.out.stderr, /devices\[0\]\.profile: no profile 'generic\/no-such-device' \[CONFIG_VALUE_INVALID\]/);
  assert.equal(unknown.out.stdout.includes('hub starting'), false, 'nothing started');
});

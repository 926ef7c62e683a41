// twinedge capture and twinedge replay, as child processes: capture reads a real pty (socat) with
// the real serialport library, replay decodes the file with a profile written here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCaptureFile } from '../../src/transports/capture/capture-file.js';
import { PtyPair } from '../helpers/pty.js';
import { tempDir } from '../helpers/tmp.js';
import { skipUnless } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';
import { LINES_PROFILE } from '../fixtures/profiles.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;
const TIMEOUT = { timeout: 60_000 };

interface Run {
  readonly child: ReturnType<typeof spawn>;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

function start(...args: string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = {
    child, stdout: '', stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (d: Buffer) => (run.stdout += d));
  child.stderr!.on('data', (d: Buffer) => (run.stderr += d));
  return run;
}

async function twinedge(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = start(...args);
  const status = await r.exited;
  // 'exit' can come before the pipes are drained.
  await new Promise((res) => setImmediate(res));
  return { status, stdout: r.stdout, stderr: r.stderr };
}


async function profilesDir(dir: string): Promise<string> {
  const p = join(dir, 'profiles');
  await mkdir(p);
  await writeFile(join(p, 'lines.yaml'), LINES_PROFILE);
  return p;
}

/** The bytes a capture file holds so far, read as the test goes (the writer may be mid-line). */
function capturedText(file: string): string {
  if (!existsSync(file)) return '';
  let out = '';
  for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
    const m = /"hex":"([0-9a-f]*)"\}$/.exec(line);
    if (m) out += Buffer.from(m[1]!, 'hex').toString('latin1');
  }
  return out;
}

interface JsonSample { channel: string; value: number; unit: string; mono_ms: number; wall_ms: number }
const samplesOf = (stdout: string): JsonSample[] => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonSample);

test('capture records a pty, unplug and replug included; replay decodes it to the values sent, bad lines counted', { ...TIMEOUT, skip: skipUnless('socat') }, async (t) => {
  const dir = await tempDir(t);
  const profiles = await profilesDir(dir);
  await mkdir(join(dir, 'pty'));
  const pty = await PtyPair.start(join(dir, 'pty'));
  t.after(() => pty.close());
  const file = join(dir, 'light.jsonl');

  const cap = start('capture', '--port', pty.devicePath, '--profile', 'test/lines', '--profiles', profiles, '--out', file);
  t.after(() => { cap.child.kill('SIGKILL'); });
  await until(() => cap.stderr.includes('capture: recording'), `the capture to start (${cap.stderr})`);

  const before = 'Light: 12.5 lx\nLight: 13.25 lx\n@@ not a reading @@\nLight: 14 lx\n';
  for (const line of before.split(/(?<=\n)/)) await pty.send(line);
  await until(() => capturedText(file) === before, 'the first lines in the file');

  await pty.unplug();
  await until(() => cap.stderr.includes('went away'), 'the capture to notice the unplug');
  await pty.plug();
  await until(() => cap.stderr.includes('is back'), 'the capture to reopen the port');
  const after = 'Light: 15 lx\ngarbage 2\nLight: 16.5 lx\n';
  await pty.send(after);
  await until(() => capturedText(file) === before + after, 'the lines after the replug in the file');

  cap.child.kill('SIGINT');
  assert.equal(await cap.exited, 0, cap.stderr);
  const summary = /captured (\d+) chunks, (\d+) bytes in [\d.]+ s to (.+)\n/.exec(cap.stderr);
  assert.ok(summary, cap.stderr);
  assert.equal(Number(summary[2]), (before + after).length);
  assert.equal(summary[3], file);

  assert.equal((await stat(file)).mode & 0o777, 0o600, 'a capture holds health data');
  const rec = await readCaptureFile(file);
  assert.equal(rec.header.device, `serial:${pty.devicePath}`);
  assert.equal(rec.header.profile, 'test/lines');
  assert.deepEqual(rec.header.serial, { path: pty.devicePath, baud_rate: 9600, data_bits: 8, parity: 'none', stop_bits: 1 }, 'settings from the profile');
  assert.equal(Number(summary[1]), rec.entries.filter((e) => e.kind === 'chunk').length);
  // The unplug is in the file, between the bytes sent before it and those sent after.
  const kinds = rec.entries.map((e) => e.kind);
  assert.deepEqual(kinds.filter((k) => k !== 'chunk'), ['disconnected', 'connected']);
  const textUpTo = (i: number) => rec.entries.slice(0, i).map((e) => (e.kind === 'chunk' ? Buffer.from(e.bytes).toString('latin1') : '')).join('');
  assert.equal(textUpTo(kinds.indexOf('disconnected')), before);
  assert.equal(textUpTo(kinds.indexOf('connected')), before);
  const away = rec.entries.filter((e) => e.kind !== 'chunk');
  assert.ok(away[1]!.t > away[0]!.t);

  // Replay: the profile comes from the header.
  const json = await twinedge('replay', file, '--profiles', profiles, '--json');
  assert.equal(json.status, 0, json.stderr);
  const samples = samplesOf(json.stdout);
  assert.deepEqual(samples.map((s) => s.value), [12.5, 13.25, 14, 15, 16.5], 'the good lines after a bad one still decode');
  for (const s of samples) {
    assert.equal(s.channel, 'illuminance');
    assert.equal(s.unit, 'lx');
    assert.ok(s.wall_ms >= rec.header.started_wall_ms && s.wall_ms <= rec.header.started_wall_ms + 60_000, 'captured wall times');
  }
  assert.match(json.stderr, /\b5 samples\b/);
  assert.match(json.stderr, /\b2 rejected\b/);
  assert.match(json.stderr, /\b1 disconnects\b/);
  assert.match(json.stderr, /issues: LINE_NO_MATCH 2\n/);
  assert.match(json.stderr, new RegExp(`\\b${(before + after).length} bytes\\b`));

  // At another speed: the same samples at the same wall times.
  const slower = await twinedge('replay', file, '--profiles', profiles, '--json', '--speed', '10');
  assert.equal(slower.status, 0, slower.stderr);
  assert.deepEqual(samplesOf(slower.stdout).map((s) => [s.value, s.wall_ms]), samples.map((s) => [s.value, s.wall_ms]));

  const human = await twinedge('replay', file, '--profiles', profiles);
  assert.equal(human.status, 0, human.stderr);
  const lines = human.stdout.trim().split('\n');
  assert.equal(lines.length, 5);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z illuminance = 12\.5 lx$/);
  assert.equal(lines[0]!.slice(0, 24), new Date(samples[0]!.wall_ms).toISOString());

  const quiet = await twinedge('replay', file, '--profiles', profiles, '--quiet');
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.equal(quiet.stdout, '');
  assert.match(quiet.stderr, /issues: LINE_NO_MATCH 2\n/);
});

test('capture stops by itself after --duration; a capture made without a profile needs --profile to replay', { ...TIMEOUT, skip: skipUnless('socat') }, async (t) => {
  const dir = await tempDir(t);
  const profiles = await profilesDir(dir);
  await mkdir(join(dir, 'pty'));
  const pty = await PtyPair.start(join(dir, 'pty'));
  t.after(() => pty.close());
  const file = join(dir, 'short.jsonl');
  const cap = start('capture', '--port', pty.devicePath, '--baud', '115200', '--out', file, '--duration', '1.5');
  t.after(() => { cap.child.kill('SIGKILL'); });
  await until(() => cap.stderr.includes('capture: recording'), `the capture to start (${cap.stderr})`);
  await pty.send('Light: 3 lx\n');
  assert.equal(await cap.exited, 0, cap.stderr);
  assert.match(cap.stderr, /captured 1 chunks, 12 bytes in 1\.\d s to /);
  const rec = await readCaptureFile(file);
  assert.equal(rec.header.profile, undefined);
  assert.equal(rec.header.serial?.baud_rate, 115200);

  const none = await twinedge('replay', file, '--profiles', profiles);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--profile/);
  assert.match(none.stderr, /\[USAGE_BAD_ARGUMENT\]/);
  const given = await twinedge('replay', file, '--profiles', profiles, '--profile', 'test/lines', '--json');
  assert.equal(given.status, 0, given.stderr);
  assert.deepEqual(samplesOf(given.stdout).map((s) => s.value), [3]);
});

test('replay of a hand-made capture: a recorded unplug drops the partial line, the end reports a cut frame, a cut last line warns', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  const profiles = await profilesDir(dir);
  const wall = Date.UTC(2025, 0, 2, 3, 4, 5);
  const hex = (s: string) => Buffer.from(s).toString('hex');
  const file = join(dir, 'hand.jsonl');
  await writeFile(file, [
    JSON.stringify({ format: 'twinedge-capture', version: 1, device: 'serial:/dev/ttyUSB0', profile: 'test/lines', started_wall_ms: wall, started_mono_ms: 0 }),
    `{"t":0,"hex":"${hex('Light: 7 lx\n')}"}`,
    `{"t":1000,"hex":"${hex('Light: 8')}"}`,
    '{"t":1001,"event":"disconnected","reason":"EIO"}',
    '{"t":3000,"event":"connected"}',
    // Without the gap this would read "Light: 80 lx".
    `{"t":3001,"hex":"${hex('0 lx\nLight: 9 lx\n')}"}`,
    `{"t":4000,"hex":"${hex('Light: 10')}"}`,
    '{"t":4001,"hex":"30',
  ].join('\n'));
  const r = await twinedge('replay', file, '--profiles', profiles, '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(samplesOf(r.stdout).map((s) => [s.value, s.wall_ms]), [[7, wall], [9, wall + 3001]]);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:8: warning: .*cut short`));
  assert.match(r.stderr, /issues: FRAME_TRUNCATED 1, LINE_NO_MATCH 1\n/);
  assert.match(r.stderr, /\b1 disconnects\b/);
});

test('capture and replay refuse bad usage with exit 2, an absent port with exit 1, a malformed capture with exit 2', TIMEOUT, async (t) => {
  const dir = await tempDir(t);
  const profiles = await profilesDir(dir);
  const existing = join(dir, 'existing.jsonl');
  await writeFile(existing, 'keep me\n');
  const bad = join(dir, 'bad.jsonl');
  await writeFile(bad, [
    JSON.stringify({ format: 'twinedge-capture', version: 1, device: 'serial:/dev/x', profile: 'test/lines', started_wall_ms: 1, started_mono_ms: 0 }),
    '{"t":1,"hex":"0a"}',
    '{"t":2,"hex":"0a0"}',
  ].join('\n') + '\n');
  const out = join(dir, 'new.jsonl');
  const absentOut = join(dir, 'absent.jsonl');
  const usage = [
    ['capture', '--port', '/dev/null', '--baud', '9600'],
    ['capture', '--out', out, '--baud', '9600'],
    ['capture', '--port', '/dev/null', '--out', out],
    ['capture', '--port', '/dev/null', '--baud', 'fast', '--out', out],
    ['capture', '--port', '/dev/null', '--baud', '9600', '--out', out, '--duration', '0'],
    ['capture', '--port', '/dev/null', '--baud', '9600', '--out', out, '--frobnicate'],
    ['capture', '--port', '/dev/null', '--baud', '9600', '--out', existing],
    ['replay'],
    ['replay', bad, bad],
    ['replay', bad, '--profiles', profiles, '--speed', '0'],
    ['replay', bad, '--profiles', profiles, '--speed', 'fast'],
    ['replay', bad, '--profiles', profiles, '--speed', '2', '--fast'],
  ];
  const [absent, unknownProfile, unknownReplayProfile, malformed, missing, ...usageRuns] = await Promise.all([
    twinedge('capture', '--port', join(dir, 'no-such-tty'), '--baud', '9600', '--out', absentOut),
    twinedge('capture', '--port', '/dev/null', '--profile', 'test/nope', '--profiles', profiles, '--out', out),
    twinedge('replay', bad, '--profile', 'test/nope', '--profiles', profiles),
    twinedge('replay', bad, '--profiles', profiles),
    twinedge('replay', join(dir, 'none.jsonl'), '--profiles', profiles),
    ...usage.map((args) => twinedge(...args)),
  ]);
  usageRuns.forEach((r, i) => {
    assert.equal(r.status, 2, `${usage[i]!.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /\[USAGE_BAD_ARGUMENT\]/, usage[i]!.join(' '));
  });
  assert.equal(await readFile(existing, 'utf8'), 'keep me\n', 'an existing file is never overwritten');
  assert.equal(existsSync(out), false, 'nothing is created on bad usage');

  assert.equal(absent.status, 1, absent.stderr);
  assert.match(absent.stderr, /\[TRANSPORT_OPEN_FAILED\]/);
  assert.equal(existsSync(absentOut), false, 'no header-only file is left when the port never opened');
  assert.equal(unknownProfile.status, 2);
  assert.match(unknownProfile.stderr, /\[PROFILE_UNKNOWN\]/);
  assert.equal(unknownReplayProfile.status, 2);
  assert.match(unknownReplayProfile.stderr, /\[PROFILE_UNKNOWN\]/);
  assert.equal(malformed.status, 2);
  assert.match(malformed.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:3: .*"hex".*\\[CAPTURE_FILE_INVALID\\]`));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /\[CAPTURE_FILE_INVALID\]/);
});

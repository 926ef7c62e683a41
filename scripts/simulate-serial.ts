// A simulated serial device: writes what a shipped profile's device sends, at its real rate,
// into a port (one end of a pseudo-terminal pair made with socat), until killed.
//
//   node --import tsx scripts/simulate-serial.ts --profile generic/imu6-lcrc --port /tmp/pty-a \
//        [--garbage-every N] [--speed X]
//
// --garbage-every N writes 17 bytes of noise and a cut frame after every N good writes, for
// resynchronisation tests; --speed makes it faster than real time. On stdout, one line when it
// starts, and on SIGTERM the count of good writes and of garbage bursts (JSON).
import { openSync, writeSync, closeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEVICE_OUTPUTS } from '../src/transports/simulated/device-outputs.js';

const { values } = parseArgs({ options: { profile: { type: 'string' }, port: { type: 'string' }, 'garbage-every': { type: 'string' }, speed: { type: 'string' } } });
const make = DEVICE_OUTPUTS[values.profile ?? ''];
if (!make || !values.port) {
  console.error(`usage: simulate-serial --profile ${Object.keys(DEVICE_OUTPUTS).join('|')} --port PATH [--garbage-every N] [--speed X]`);
  process.exit(2);
}
const device = make();
const speed = Number(values.speed ?? 1);
const garbageEvery = Number(values['garbage-every'] ?? 0);
const fd = openSync(values.port, 'w');
const started = Date.now();
let good = 0;
let garbage = 0;
let seed = 7;
const noise = () => {
  const out = Buffer.alloc(17);
  for (let i = 0; i < out.length; i++) out[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  return out;
};

function tick(): void {
  const elapsed = good * device.periodMs;
  const bytes = device.next(elapsed, started + elapsed);
  writeSync(fd, bytes);
  good++;
  if (garbageEvery > 0 && good % garbageEvery === 0) {
    // Noise, then the first half of a real frame: the reader must resynchronise on the next one.
    writeSync(fd, Buffer.concat([noise(), device.next(elapsed, started + elapsed).subarray(0, Math.max(1, bytes.length >> 1)), Buffer.from('\n')]));
    garbage++;
  }
  const due = started + (good * device.periodMs) / speed;
  setTimeout(tick, Math.max(0, due - Date.now()));
}

process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ good, garbage })}\n`);
  closeSync(fd);
  process.exit(0);
});
process.stdout.write(`simulating ${device.profile} on ${values.port}\n`);
tick();

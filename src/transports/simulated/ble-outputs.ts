/**
 * What the shipped BLE devices send, byte for byte, for the demo, the tests and the benchmarks:
 * Heart Rate Measurement notifications with RR intervals, PLX Continuous notifications, BTHome
 * light-sensor advertisements, and Polar H10 PMD ECG and accelerometer frames. Deterministic
 * functions of time, as the serial device outputs are.
 */


/** A resting heart: about 62 /min with breathing-driven variability. */
export function heartRateNotification(elapsedMs: number): Buffer {
  const t = elapsedMs / 1000;
  const rrMs = 970 + 60 * Math.sin((2 * Math.PI * t) / 4) + 20 * Math.sin(t / 7);
  const hr = Math.round(60000 / rrMs);
  // Flags 0x16: 8-bit rate, contact supported and detected, RR intervals present.
  const out = Buffer.alloc(4);
  out[0] = 0x16;
  out[1] = hr;
  out.writeUInt16LE(Math.round((rrMs * 1024) / 1000), 2);
  return out;
}

/** SFLOAT with exponent 0: integers up to 2047. */
function sfloatInt(v: number): number {
  return Math.round(v) & 0x0fff;
}

/** PLX Continuous Measurement: SpO2 96-98 %, pulse 60-70 /min, no optional field. */
export function plxContinuousNotification(elapsedMs: number): Buffer {
  const t = elapsedMs / 1000;
  const out = Buffer.alloc(5);
  out[0] = 0x00;
  out.writeUInt16LE(sfloatInt(97 + Math.sin(t / 40)), 1);
  out.writeUInt16LE(sfloatInt(65 + 4 * Math.sin(t / 23)), 3);
  return out;
}

/** BTHome v2 service data (after 0xFCD2): packet id, battery, illuminance following the day. */
export function bthomeLightAdvert(packetId: number, wallMs: number): Buffer {
  const d = new Date(wallMs);
  const hour = d.getHours() + d.getMinutes() / 60;
  const lux = hour < 6.5 || hour >= 23 ? 0 : hour < 18 ? 400 + 300 * Math.sin(((hour - 6.5) / 11.5) * Math.PI) : 120;
  const out = Buffer.alloc(1 + 2 + 2 + 4);
  out[0] = 0x40; // BTHome v2, not encrypted
  out[1] = 0x00; out[2] = packetId & 0xff; // packet id
  out[3] = 0x01; out[4] = 95; // battery %
  out[5] = 0x05; out.writeUIntLE(Math.round(lux * 100), 6, 3); // illuminance, 0.01 lx
  return out;
}

/** ns since 2000-01-01T00:00:00Z, as PMD frames count. */
const PMD_EPOCH_MS = 946_684_800_000;

function pmdHeader(type: number, frameType: number, lastSampleWallMs: number): Buffer {
  const out = Buffer.alloc(10);
  out[0] = type;
  out.writeBigUInt64LE(BigInt(Math.round((lastSampleWallMs - PMD_EPOCH_MS) * 1e6)), 1);
  out[9] = frameType;
  return out;
}

/** A PMD ECG frame (type 0): `n` samples at 130 Hz ending at `lastWallMs`, a crude QRS each beat, in uV. */
export function pmdEcgFrame(firstIndex: number, n: number, lastWallMs: number): Buffer {
  const body = Buffer.alloc(n * 3);
  for (let i = 0; i < n; i++) {
    const s = (firstIndex + i) / 130;
    const phase = (s * 1.05) % 1;
    const uv = phase < 0.03 ? 1200 : phase < 0.06 ? -300 : Math.round(50 * Math.sin(2 * Math.PI * phase));
    body.writeIntLE(uv, i * 3, 3);
  }
  return Buffer.concat([pmdHeader(0x00, 0x00, lastWallMs), body]);
}

/** A PMD accelerometer frame (raw type 1): `n` samples at 200 Hz, mg, at rest on the chest. */
export function pmdAccFrame(firstIndex: number, n: number, lastWallMs: number): Buffer {
  const body = Buffer.alloc(n * 6);
  for (let i = 0; i < n; i++) {
    const s = (firstIndex + i) / 200;
    body.writeInt16LE(Math.round(20 * Math.sin(s)), i * 6);
    body.writeInt16LE(Math.round(-980 + 10 * Math.sin(2 * Math.PI * 0.25 * s)), i * 6 + 2);
    body.writeInt16LE(Math.round(150 + 5 * Math.cos(s)), i * 6 + 4);
  }
  return Buffer.concat([pmdHeader(0x02, 0x01, lastWallMs), body]);
}

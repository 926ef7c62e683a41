/**
 * What the shipped serial devices send, byte for byte, generated at their real rates: for the
 * serial tests (written into a pseudo-terminal by scripts/simulate-serial.ts), the benchmarks and
 * demonstrations. Each generator is a pure function of time and its own seeded state, so a run is
 * repeatable. Formats are those documented in the matching device-profiles/generic/*.yaml.
 */
import { crc16Ccitt, crc16Modbus, nmeaXor } from '../checksums.js';

export interface DeviceOutput {
  /** The profile that decodes it. */
  readonly profile: string;
  /** Time between writes. */
  readonly periodMs: number;
  /** What the device writes at `elapsedMs` after it started (one line or frame). */
  next(elapsedMs: number, wallMs: number): Uint8Array;
}

const ascii = (s: string) => Buffer.from(s, 'latin1');

/** Daylight by the local hour: dark night, morning light, an evening lamp. */
function daylightLux(wallMs: number): number {
  const hour = (new Date(wallMs).getHours() + new Date(wallMs).getMinutes() / 60);
  if (hour < 6.5 || hour >= 23) return 0;
  if (hour < 8) return 40 + (hour - 6.5) * 300;
  if (hour < 18) return 400 + 300 * Math.sin(((hour - 8) / 10) * Math.PI);
  return 120;
}

export function bh1750Light(): DeviceOutput {
  return {
    profile: 'generic/bh1750-light',
    periodMs: 1000,
    next: (_elapsed, wall) => ascii(`Light: ${daylightLux(wall).toFixed(2)} lx\r\n`),
  };
}

export function pulseOximeter(): DeviceOutput {
  return {
    profile: 'generic/pulse-oximeter-nmea',
    periodMs: 1000,
    next: (elapsed) => {
      const t = elapsed / 1000;
      const spo2 = Math.round(97 + Math.sin(t / 40));
      const pr = Math.round(66 + 4 * Math.sin(t / 23));
      const body = `POXI,${spo2},${pr},${(2.5 + Math.sin(t / 7)).toFixed(1)}`;
      return ascii(`$${body}*${nmeaXor(ascii(body)).toString(16).toUpperCase().padStart(2, '0')}\r\n`);
    },
  };
}

/** 15 breaths a minute, as a 10-bit reading around mid-scale. */
export function respirationBelt(): DeviceOutput {
  return {
    profile: 'generic/respiration-belt-csv',
    periodMs: 40,
    next: (elapsed) => {
      const adc = Math.round(512 + 200 * Math.sin((2 * Math.PI * elapsed) / 4000));
      return ascii(`${Math.round(elapsed)},${adc}\r\n`);
    },
  };
}

/** Length-prefixed frames with CRC, two 100 Hz samples each, as generic/imu6-lcrc documents. */
export function imu6(): DeviceOutput {
  let seq = 0;
  return {
    profile: 'generic/imu6-lcrc',
    periodMs: 20,
    next: (elapsed) => {
      const payload = Buffer.alloc(2 + 2 * 12);
      payload[0] = 1;
      payload[1] = seq++ & 0xff;
      for (let r = 0; r < 2; r++) {
        const t = (elapsed + r * 10) / 1000;
        const values = [0.05 * Math.sin(t), 0.02 * Math.cos(t), 1 + 0.01 * Math.sin(7 * t)].map((g) => Math.round(g * 8192))
          .concat([2 * Math.sin(t / 3), -1, 0.5].map((dps) => Math.round(dps * 65.5)));
        values.forEach((v, k) => payload.writeInt16LE(v, 2 + r * 12 + k * 2));
      }
      const frame = Buffer.alloc(2 + 1 + payload.length + 2);
      frame[0] = 0xaa;
      frame[1] = 0x55;
      frame[2] = payload.length;
      payload.copy(frame, 3);
      frame.writeUInt16BE(crc16Ccitt(frame, 2, 1 + payload.length), 3 + payload.length);
      return frame;
    },
  };
}

/** The CSV template's sensor: a header first, then temperature and humidity every 2 s. */
export function csvTemplate(): DeviceOutput {
  let first = true;
  const line = (text: string) => ascii(`${text}*${crc16Modbus(ascii(text)).toString(16).toUpperCase().padStart(4, '0')}\r\n`);
  return {
    profile: 'generic/csv-template',
    periodMs: 2000,
    next: (elapsed) => {
      if (first) {
        first = false;
        return line('ms,temp_c,rh_pct,status');
      }
      const t = elapsed / 1000;
      return line(`${Math.round(elapsed)},${(21.5 + 0.3 * Math.sin(t / 60)).toFixed(2)},${(45 + 3 * Math.sin(t / 90)).toFixed(1)},OK`);
    },
  };
}

/**
 * generic/button-box: button 1 ("medication taken") pressed 3 s after the start and then every
 * 10 minutes, its contact bouncing into a second "BTN 1" line 50 ms later; nothing between.
 */
export function buttonBox(): DeviceOutput {
  return {
    profile: 'generic/button-box',
    periodMs: 50,
    next: (elapsed) => {
      const t = (elapsed - 3000) % 600_000;
      return elapsed >= 3000 && (t === 0 || t === 50) ? ascii('BTN 1\r\n') : new Uint8Array(0);
    },
  };
}

export const DEVICE_OUTPUTS: Readonly<Record<string, () => DeviceOutput>> = {
  'generic/bh1750-light': bh1750Light,
  'generic/button-box': buttonBox,
  'generic/pulse-oximeter-nmea': pulseOximeter,
  'generic/respiration-belt-csv': respirationBelt,
  'generic/imu6-lcrc': imu6,
  'generic/csv-template': csvTemplate,
};

/**
 * A day of light as a BH1750 board by a patient's bed would print it (generic/bh1750-light, one
 * "Light: <lux> lx" line a second), as a capture to replay: dark night with a short bathroom
 * light, dawn through the window, a walk outside in the morning and at noon, indoor daylight
 * fading through the afternoon, an evening lamp, then dark again. The demo replays it fast, so
 * that a whole day of exposure reports goes by in minutes.
 */
import type { CaptureEntry, CaptureHeader } from '../capture/capture-file.js';
import type { CaptureSource } from '../capture/replay-transport.js';

const HOUR_S = 3600;

/** Illuminance (lx) at `s` seconds after local midnight; small ripples keep it from looking drawn. */
export function lightOfDay(s: number): number {
  const h = s / HOUR_S;
  const ripple = 1 + 0.05 * Math.sin(s / 37) + 0.03 * Math.sin(s / 11);
  if (h >= 3.2 && h < 3.3) return 150 * ripple; // the bathroom, six minutes
  if (h < 6.5 || h >= 23) return 0;
  if (h < 7) return 300 * (h - 6.5) * 2 * ripple; // dawn through the window
  if (h < 8) return 900 * ripple;
  if (h < 8.5) return 10_000 * ripple; // a walk outside
  if (h < 12) return 450 * ripple;
  if (h < 13) return 20_000 * ripple; // lunch outside
  if (h < 18) return (400 - (h - 13) * 40) * ripple; // indoor daylight fading
  if (h < 21) return 150 * ripple; // the evening lamp
  return 60 * ripple; // television
}

/**
 * The capture of one local day from `midnightMs` (the day's local midnight) to `endMs` (the
 * next one: 23, 24 or 25 hours on), plus one dark line after it so that the day closes.
 */
export function lightDayCapture(midnightMs: number, endMs: number): CaptureSource {
  const header: CaptureHeader = {
    format: 'twinedge-capture', version: 1, device: 'serial:demo-bh1750', profile: 'generic/bh1750-light',
    serial: { path: 'demo-bh1750', baud_rate: 9600 }, started_wall_ms: midnightMs, started_mono_ms: 0,
  };
  const seconds = Math.round((endMs - midnightMs) / 1000);
  function* entries(): Generator<CaptureEntry> {
    // Seconds since midnight stand for the clock: on a daylight-saving day the light is an hour off.
    for (let s = 0; s <= seconds; s++) yield { kind: 'chunk', t: s * 1000 + 5, bytes: Buffer.from(`Light: ${lightOfDay(s % 86_400).toFixed(2)} lx\r\n`) };
  }
  return { header, entries: entries() };
}

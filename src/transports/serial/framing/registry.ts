import { CobsDecoder, type CobsOptions } from './cobs.js';
import type { FrameDecoder, FrameSink } from './framing.js';
import { LengthCrcDecoder, type LengthCrcOptions } from './length-crc.js';
import { LinesDecoder, type LinesOptions } from './lines.js';
import { SlipDecoder, type SlipOptions } from './slip.js';

/** Framing name (as a profile's serial setup says it) -> decoder factory. Adding one: its file, one line here, its tests. */
export const FRAMINGS = {
  'lines': (sink: FrameSink, options?: LinesOptions): FrameDecoder => new LinesDecoder(sink, options),
  'slip': (sink: FrameSink, options?: SlipOptions): FrameDecoder => new SlipDecoder(sink, options),
  'cobs': (sink: FrameSink, options?: CobsOptions): FrameDecoder => new CobsDecoder(sink, options),
  'length-crc': (sink: FrameSink, options?: LengthCrcOptions): FrameDecoder => new LengthCrcDecoder(sink, options),
} as const;

export type FramingName = keyof typeof FRAMINGS;

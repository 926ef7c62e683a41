import { batteryLevel } from './battery-level.js';
import { SIG_DECODERS } from './bluetooth-sig.js';
import { bthomeV2 } from './bthome.js';
import { polarPmd } from './polar-pmd.js';
import type { BuiltinDecoder } from './registry.js';

/** Every built-in decoder; the registry registers them when it loads. One line per decoder. */
export const BUILTIN_DECODERS: readonly BuiltinDecoder[] = [batteryLevel, ...SIG_DECODERS, bthomeV2, polarPmd];

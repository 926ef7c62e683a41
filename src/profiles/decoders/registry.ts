import type { PacketDecoder } from '../decoded.js';
import { BUILTIN_DECODERS } from './builtins.js';

/**
 * Built-in decoders, registered by name, for formats a declarative layout cannot say well
 * (state across packets, variable structures, compression, encryption). A profile names one in
 * `decode.builtin.name`; the Bluetooth SIG, BTHome and Polar ones register here beside the
 * generic ones. Adding one: its module under decoders/, one line in builtins.ts, its tests.
 */
export interface BuiltinDecoder {
  /** Registered name: '<namespace>/<format>', lowercase. */
  readonly name: string;
  /** One line for `twinedge profiles validate` and the profile reference. */
  readonly summary: string;
  /** The fields its packets can hold: per packet (`values`) and per sample of a packet (`rows`). */
  readonly fields: { readonly values: readonly string[]; readonly rows: readonly string[] };
  /** Compiles the decoder from the profile's `options`; a bad option throws a TypeError saying what was expected. */
  compile(options: Readonly<Record<string, unknown>>): PacketDecoder;
}

const REGISTRY = new Map<string, BuiltinDecoder>();

const NAME = /^[a-z0-9][a-z0-9.-]*\/[a-z0-9][a-z0-9.-]*$/;

export function registerDecoder(decoder: BuiltinDecoder): void {
  if (!NAME.test(decoder.name)) throw new TypeError(`a built-in decoder name is '<namespace>/<format>' in lowercase, not '${decoder.name}'`);
  if (REGISTRY.has(decoder.name)) throw new TypeError(`a built-in decoder named '${decoder.name}' is already registered`);
  REGISTRY.set(decoder.name, decoder);
}

export function builtinDecoder(name: string): BuiltinDecoder | undefined {
  return REGISTRY.get(name);
}

export function builtinDecoderNames(): string[] {
  return [...REGISTRY.keys()].sort();
}

for (const decoder of BUILTIN_DECODERS) registerDecoder(decoder);

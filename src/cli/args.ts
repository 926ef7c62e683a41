import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TwinedgeError } from '../ops/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, with its errors turned into USAGE_BAD_ARGUMENT (exit 2). */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O, positionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${command}: ${(e as Error).message}`);
  }
}

export function requireOption(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${command}: ${flag} is required`);
  return value;
}

export function numberOption(command: string, value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${command}: ${flag} must be a non-negative number, got '${value}'`);
  return n;
}

/** A TCP port, 0 to 65535 (0: the system picks one); undefined when the flag is absent. */
export function portOption(command: string, value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${command}: ${flag} must be a port, 0 to 65535, got '${value}'`);
  return n;
}

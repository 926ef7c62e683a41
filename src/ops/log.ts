import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The daemon's logger: pino JSON lines on stdout. Child loggers are made once per device or
 * stage at set-up, never per sample.
 */
export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

/** A logger that writes nothing, for libraries embedded without a logger and for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

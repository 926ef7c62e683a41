import { readFile } from 'node:fs/promises';
import { TwinedgeError } from '../ops/errors.js';
import type { ReceiverTls } from '../receiver/subscription.js';

/** The flags `receive` and `command` take for a broker that wants TLS with client certificates. */
export const TLS_FLAGS = {
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

export const TLS_USAGE = '  [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]   the broker\'s CA, and a client certificate for mutual TLS';

async function read(command: string, flag: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${command}: cannot read ${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** TLS options from the flags; undefined when none is given. A certificate needs its key, and TLS an mqtts:// or wss:// broker. */
export async function tlsFromFlags(command: string, brokerUrl: string, v: { 'tls-ca'?: string | undefined; 'tls-cert'?: string | undefined; 'tls-key'?: string | undefined }): Promise<ReceiverTls | undefined> {
  if (v['tls-ca'] === undefined && v['tls-cert'] === undefined && v['tls-key'] === undefined) return undefined;
  if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined)) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${command}: a client certificate needs both --tls-cert and --tls-key`);
  const scheme = new URL(brokerUrl).protocol;
  if (scheme !== 'mqtts:' && scheme !== 'wss:') throw new TwinedgeError('USAGE_BAD_ARGUMENT', `${command}: TLS flags need an mqtts:// or wss:// --broker (it is ${scheme}//)`);
  return {
    ...(v['tls-ca'] !== undefined ? { ca: await read(command, '--tls-ca', v['tls-ca']) } : {}),
    ...(v['tls-cert'] !== undefined ? { cert: await read(command, '--tls-cert', v['tls-cert']), key: await read(command, '--tls-key', v['tls-key']!) } : {}),
  };
}

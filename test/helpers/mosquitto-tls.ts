// A real mosquitto with the mutual-TLS listener and ACL that we ship for operators
// (scripts/mosquitto/), so that a test of the security rules also keeps those files true.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { freePort, MosquittoBroker, type MosquittoOptions } from './mosquitto.js';
import type { AfterHook } from './tmp.js';

export const SHIPPED_CONF = fileURLToPath(new URL('../../scripts/mosquitto/twinedge-mtls.conf', import.meta.url));
export const SHIPPED_ACL = fileURLToPath(new URL('../../scripts/mosquitto/twinedge.acl', import.meta.url));

export interface TlsListenerFiles {
  /** The CA whose certificates the broker accepts from clients. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Default: the shipped ACL. */
  aclFile?: string;
}

// The operator's paths and port in the shipped file, each replaced by the test's.
const REPLACED = ['listener', 'cafile', 'certfile', 'keyfile', 'acl_file'] as const;

/**
 * The shipped config's lines with the test's files, and its listener on `port` of 127.0.0.1
 * only. Throws if the shipped file lost one of the lines that make it a mutual-TLS listener
 * with an ACL, so that the test cannot pass on a weakened file.
 */
export async function shippedTlsConfig(files: TlsListenerFiles, port: number): Promise<string[]> {
  const text = await readFile(SHIPPED_CONF, 'utf8');
  const values: Record<(typeof REPLACED)[number], string> = {
    listener: `${port} 127.0.0.1`, cafile: files.caFile, certfile: files.certFile, keyfile: files.keyFile, acl_file: files.aclFile ?? SHIPPED_ACL,
  };
  const seen = new Set<string>();
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((line) => {
    const key = line.split(/\s+/, 1)[0]!;
    if (!(REPLACED as readonly string[]).includes(key)) return line;
    seen.add(key);
    return `${key} ${values[key as (typeof REPLACED)[number]]}`;
  });
  const required = [...REPLACED, 'require_certificate', 'use_identity_as_username'];
  const missing = required.filter((k) => !seen.has(k) && !lines.some((l) => l.startsWith(`${k} `)));
  if (missing.length > 0) throw new Error(`${SHIPPED_CONF} lacks ${missing.join(', ')}`);
  if (!lines.includes('require_certificate true') || !lines.includes('use_identity_as_username true')) {
    throw new Error(`${SHIPPED_CONF} must say require_certificate true and use_identity_as_username true`);
  }
  return lines;
}

export interface TlsMosquitto {
  readonly broker: MosquittoBroker;
  /** mqtts://127.0.0.1:<port> of the mutual-TLS listener. */
  readonly url: string;
  readonly port: number;
}

/**
 * mosquitto with its usual test listener (plain, on broker.port, which the shipped
 * `allow_anonymous false` and ACL also cover) and the shipped mutual-TLS listener on a second
 * free port. Closed when the test ends.
 */
export async function startTlsMosquitto(t: AfterHook, files: TlsListenerFiles, options: MosquittoOptions = {}): Promise<TlsMosquitto> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const broker = await MosquittoBroker.start({ ...options, extraConfig: [...await shippedTlsConfig(files, port), ...(options.extraConfig ?? [])] });
      t.after(() => broker.close());
      return { broker, url: `mqtts://127.0.0.1:${port}`, port };
    } catch (e) {
      // Another process may take the free port before mosquitto binds it: pick another.
      if (attempt >= 3 || !/Address already in use/i.test(String(e))) throw e;
    }
  }
}

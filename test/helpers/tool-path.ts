// Where the Debian tools that tests and benchmarks use are, and which package brings each.
// Kept apart from tools.ts so that benchmarks can use it without loading node:test.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The Debian package that brings each tool the tests use. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  mosquitto: 'mosquitto',
  mosquitto_passwd: 'mosquitto',
  mosquitto_pub: 'mosquitto-clients',
  mosquitto_sub: 'mosquitto-clients',
  socat: 'socat',
  openssl: 'openssl',
  protoc: 'protobuf-compiler',
};

// Debian puts mosquitto in /usr/sbin, which is not on a normal user's PATH.
const SEARCH = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
const found = new Map<string, string | undefined>();

/** The absolute path of an executable, searched on PATH and the sbin folders; undefined if absent. */
export function toolPath(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  let hit: string | undefined;
  for (const dir of SEARCH) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) {
        hit = p;
        break;
      }
    } catch {
      // not in this folder
    }
  }
  found.set(name, hit);
  return hit;
}

/** "mosquitto (apt-get install mosquitto)": what to install to get a tool. */
export function installHint(name: string): string {
  return `${name} (apt-get install ${TOOL_PACKAGES[name] ?? name})`;
}

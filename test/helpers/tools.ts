import { spawnSync } from 'node:child_process';

/** The Debian package that brings each tool the tests use. */
const PACKAGES: Record<string, string> = {
  mosquitto: 'mosquitto',
  mosquitto_pub: 'mosquitto-clients',
  socat: 'socat',
  openssl: 'openssl',
  protoc: 'protobuf-compiler',
};

const PATHS = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/sbin']);

export function toolPath(name: string): string | undefined {
  for (const dir of PATHS) {
    const p = `${dir}/${name}`;
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return undefined;
}

/**
 * For node:test's `skip` option: undefined when the tool is here, else a reason naming the
 * package to install. With TWINEDGE_REQUIRE_ALL=1 (CI) a missing tool throws instead, so the
 * suite fails rather than skipping silently.
 */
export function skipUnless(...tools: string[]): string | undefined {
  const missing = tools.filter((t) => toolPath(t) === undefined);
  if (missing.length === 0) return undefined;
  const reason = `needs ${missing.map((t) => `${t} (apt-get install ${PACKAGES[t] ?? t})`).join(', ')}`;
  if (process.env.TWINEDGE_REQUIRE_ALL === '1') throw new Error(`TWINEDGE_REQUIRE_ALL=1 and this suite ${reason}`);
  return reason;
}

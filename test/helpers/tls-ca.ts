// A throwaway certificate authority made with the openssl command line, for tests that run a
// broker with mutual TLS: the broker's certificate, and client certificates whose CN is the MQTT
// identity (mosquitto's use_identity_as_username takes the CN as the user name for its ACL).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installHint, toolPath } from './tool-path.js';

const run = promisify(execFile);

/** PEM files of one certificate and its key. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/** The same, read into memory, as mqtt.js and node:tls take them. */
export interface CertPem {
  readonly cert: Buffer;
  readonly key: Buffer;
}

// Our own config, so that the host's openssl.cnf (whose default sections differ between
// distributions and versions) adds nothing. The empty [dn] is filled by -subj. Certificates are
// signed with the long-standing `x509 -req`, not OpenSSL 3's `req -CA`, which older openssl lacks.
const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/**
 * A CA in a folder the caller owns (and removes), with EC P-256 keys: generating them takes
 * milliseconds, where RSA keys would slow every test that makes a CA.
 */
export class TestCa {
  readonly dir: string;
  readonly name: string;
  readonly #cnf: string;

  private constructor(dir: string, name: string) {
    this.dir = dir;
    this.name = name;
    this.#cnf = join(dir, `${name}-openssl.cnf`);
  }

  /** Makes the CA's key and self-signed certificate, `<name>-ca.crt`, in `dir`. */
  static async create(dir: string, name = 'test'): Promise<TestCa> {
    if (!toolPath('openssl')) throw new Error(`needs ${installHint('openssl')}`);
    const ca = new TestCa(dir, name);
    await writeFile(ca.#cnf, OPENSSL_CNF);
    const key = await ca.#newKey(`${name}-ca`);
    await ca.#openssl(['req', '-new', '-x509', '-config', ca.#cnf, '-extensions', 'ca_ext', '-key', key, '-subj', `/O=twinedge tests/CN=${name} CA`, '-days', '2', '-sha256', '-out', ca.certFile]);
    return ca;
  }

  get certFile(): string {
    return join(this.dir, `${this.name}-ca.crt`);
  }

  get keyFile(): string {
    return join(this.dir, `${this.name}-ca.key`);
  }

  /** The broker's certificate: CN localhost, subjectAltName IP 127.0.0.1 and DNS localhost. */
  server(name = 'broker'): Promise<CertFiles> {
    return this.#issue(name, 'localhost', 'server_ext');
  }

  /** A client certificate whose CN is `cn`: with use_identity_as_username, the MQTT user name. */
  client(cn: string): Promise<CertFiles> {
    return this.#issue(`client-${cn}`, cn, 'client_ext');
  }

  async #issue(file: string, cn: string, ext: 'server_ext' | 'client_ext'): Promise<CertFiles> {
    const base = `${this.name}-${file}`;
    const key = await this.#newKey(base);
    const csr = join(this.dir, `${base}.csr`);
    const cert = join(this.dir, `${base}.crt`);
    await this.#openssl(['req', '-new', '-config', this.#cnf, '-key', key, '-subj', `/O=twinedge tests/CN=${cn}`, '-out', csr]);
    // A serial given here: without one, older openssl wants a serial file beside the CA
    // (-CAcreateserial), one more file that concurrent issues would share.
    await this.#openssl(['x509', '-req', '-in', csr, '-CA', this.certFile, '-CAkey', this.keyFile, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-days', '2', '-sha256', '-extfile', this.#cnf, '-extensions', ext, '-out', cert]);
    return { cert, key };
  }

  async #newKey(base: string): Promise<string> {
    const key = join(this.dir, `${base}.key`);
    await this.#openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    return key;
  }

  async #openssl(args: string[]): Promise<void> {
    try {
      // The openssl command loads the default config file at start-up whatever the command;
      // OPENSSL_CONF keeps the host's out of genpkey and x509, which take no -config.
      await run(toolPath('openssl')!, args, { env: { ...process.env, OPENSSL_CONF: this.#cnf } });
    } catch (e) {
      const err = e as Error & { stderr?: string };
      throw new Error(`openssl ${args[0]} failed: ${(err.stderr ?? err.message).trim()}`);
    }
  }
}

/** Reads a certificate and its key for mqtt.js or node:tls. */
export async function readCert(files: CertFiles): Promise<CertPem> {
  const [cert, key] = await Promise.all([readFile(files.cert), readFile(files.key)]);
  return { cert, key };
}

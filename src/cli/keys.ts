import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { parseCommandArgs, requireOption } from './args.js';
import { loadConfig } from '../config/load.js';
import { generateHubKey, loadHubKey, writeKeyFiles } from '../frames/keys.js';
import { generateSealKey } from '../frames/seal.js';
import { TwinedgeError } from '../ops/errors.js';

/**
 * twinedge keys generate [--x25519] --out PREFIX: writes PREFIX.key (0600) and PREFIX.pub, prints
 * the key_id. Ed25519 (a hub's signing key) by default; --x25519 makes the twin server's sealing
 * pair (the hub gets PREFIX.pub as hub.seal_to, the receiver PREFIX.key as --open-key).
 *
 * twinedge keys rotate --config FILE [--out PREFIX]: a new signing key beside the current one,
 * set as hub.next_key_file in the config; the hub announces and uses it at its next start.
 */
export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'generate') return generate(rest);
  if (sub === 'rotate') return rotate(rest);
  throw new TwinedgeError('USAGE_BAD_ARGUMENT', `keys: expected 'generate' or 'rotate', got '${sub ?? ''}'`);
}

async function generate(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('keys generate', argv, { out: { type: 'string' }, x25519: { type: 'boolean' } });
  const prefix = requireOption('keys generate', values.out, '--out');
  const key = values.x25519 ? generateSealKey() : generateHubKey();
  const files = await writeKeyFiles(prefix, key);
  process.stdout.write(`${key.keyId}\n`);
  process.stderr.write(`wrote ${files.keyFile} (private, mode 0600) and ${files.pubFile}\n`);
  return 0;
}

async function rotate(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('keys rotate', argv, { config: { type: 'string' }, out: { type: 'string' } });
  const configFile = requireOption('keys rotate', values.config, '--config');
  const config = await loadConfig(configFile);
  if (config.hub.next_key_file !== undefined) {
    // Its rotation may have happened or not; only the hub's own record knows (key-rotation.ts).
    throw new TwinedgeError('USAGE_BAD_ARGUMENT', `keys rotate: hub.next_key_file is already set (${config.hub.next_key_file}); restart the hub so that it rotates to that key, then set hub.key_file to it and remove hub.next_key_file before rotating again`, { file: configFile, keyPath: 'hub.next_key_file' });
  }
  const current = await loadHubKey(config.hub.key_file);
  const key = generateHubKey();
  const files = await writeKeyFiles(values.out ?? join(dirname(config.hub.key_file), `${config.hub.id}-${key.keyId}`), key);
  await setNextKeyFile(configFile, files.keyFile);
  // The edited file must still be a config the hub takes.
  await loadConfig(configFile);
  process.stdout.write(`${key.keyId}\n`);
  process.stderr.write([
    `wrote ${files.keyFile} (private, mode 0600) and ${files.pubFile}; set hub.next_key_file in ${configFile}`,
    `next: restart the hub (systemctl restart twinedge). It announces key ${key.keyId} in a frame signed by key ${current.keyId},`,
    'then signs with the new key. Receivers that trust the old key follow; add the new .pub to their trust too.',
    '',
  ].join('\n'));
  return 0;
}

/** Sets hub.next_key_file in the YAML text, keeping its comments, and replaces the file whole. */
async function setNextKeyFile(configFile: string, keyFile: string): Promise<void> {
  const doc = parseDocument(await readFile(configFile, 'utf8'));
  doc.setIn(['hub', 'next_key_file'], keyFile);
  const mode = (await stat(configFile)).mode & 0o777;
  const tmp = `${configFile}.rotate-tmp`;
  await writeFile(tmp, doc.toString(), { mode });
  await chmod(tmp, mode);
  await rename(tmp, configFile);
}

import { parseCommandArgs, requireOption } from './args.js';
import { generateHubKey, writeKeyFiles } from '../frames/keys.js';
import { TwinedgeError } from '../ops/errors.js';

/** twinedge keys generate --out PREFIX: writes PREFIX.key (0600) and PREFIX.pub, prints the key_id. */
export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'generate') throw new TwinedgeError('USAGE_BAD_ARGUMENT', `keys: expected 'generate', got '${sub ?? ''}'`);
  const { values } = parseCommandArgs('keys generate', rest, { out: { type: 'string' } });
  const prefix = requireOption('keys generate', values.out, '--out');
  const key = generateHubKey();
  const files = await writeKeyFiles(prefix, key);
  process.stdout.write(`${key.keyId}\n`);
  process.stderr.write(`wrote ${files.keyFile} (private, mode 0600) and ${files.pubFile}\n`);
  return 0;
}

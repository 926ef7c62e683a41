import { TwinedgeError } from '../ops/errors.js';
import { parseCommandArgs, requireOption } from './args.js';
import { findProfile, loadProfiles, profileDirs } from './profile-dirs.js';

/**
 * twinedge decode --profile ID [--source S] (--hex BYTES | --text LINE) [--json] [--profiles DIR]
 *                 [--address MAC --key HEX]   (a device's address and key, for encrypted BTHome)
 *
 * The contract hardware engineers and checks rely on (DESIGN.md): with --json, one JSON object
 * {"profile", "samples": [{"channel", "value", "unit"}], "errors": [{"code", "message"}]}. Exit 0
 * when something decoded (errors may still list a dropped field), 3 when the input was rejected:
 * no sample and at least one error.
 */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('decode', argv, {
    profile: { type: 'string' },
    source: { type: 'string' },
    hex: { type: 'string' },
    text: { type: 'string' },
    json: { type: 'boolean' },
    profiles: { type: 'string', multiple: true },
    address: { type: 'string' },
    key: { type: 'string' },
  });
  const id = requireOption('decode', values.profile, '--profile');
  if ((values.hex === undefined) === (values.text === undefined)) throw new TwinedgeError('USAGE_BAD_ARGUMENT', 'decode: give exactly one of --hex or --text');
  let bytes: Uint8Array;
  if (values.hex !== undefined) {
    const digits = values.hex.replace(/[\s:]/g, '').replace(/^0x/i, '');
    const bad = digits.search(/[^0-9a-fA-F]/);
    if (bad >= 0) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `decode: --hex has '${digits[bad]}' at digit ${bad + 1}, which is not a hex digit`);
    if (digits.length % 2 !== 0) throw new TwinedgeError('USAGE_BAD_ARGUMENT', `decode: --hex has ${digits.length} digits; bytes need an even number`);
    bytes = Buffer.from(digits, 'hex');
  } else {
    bytes = Buffer.from(values.text!, 'utf8');
  }
  const loaded = await loadProfiles(profileDirs(values.profiles));
  const profile = findProfile(loaded, id);
  const source = values.source?.toLowerCase();
  // What a decoder may need of the device: its address and key (an encrypted BTHome packet).
  if (values.key !== undefined && !/^[0-9a-fA-F]{32}$/.test(values.key)) throw new TwinedgeError('USAGE_BAD_ARGUMENT', 'decode: --key must be 16 bytes as 32 hex digits');
  if (values.address !== undefined && !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(values.address)) throw new TwinedgeError('USAGE_BAD_ARGUMENT', "decode: --address must be a Bluetooth address such as 'a4:c1:38:01:02:03'");
  const context = {
    ...(values.address !== undefined ? { address: values.address.toLowerCase() } : {}),
    ...(values.key !== undefined ? { key: Buffer.from(values.key, 'hex') } : {}),
  };
  const out = profile.decode(bytes, source, context);
  const result = {
    profile: profile.id,
    samples: out.samples.map((s) => ({ channel: s.channel, value: s.value, unit: s.unit })),
    errors: out.errors.map((e) => ({ code: e.code, message: e.message })),
  };
  const rejectedInput = out.samples.length === 0 && out.errors.length > 0;
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const s of result.samples) process.stdout.write(`${s.channel} = ${JSON.stringify(s.value)} ${s.unit}\n`);
    if (out.skipped) process.stdout.write('(a header line, skipped)\n');
    for (const e of result.errors) process.stdout.write(`error ${e.code}: ${e.message}\n`);
  }
  return rejectedInput ? 3 : 0;
}

import type { KeyObject } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { keyIdOf, parsePublicKey } from '../frames/keys.js';
import { TwinedgeError, type ErrorPlace } from '../ops/errors.js';
import { ID_PATTERN } from '../publish/topics.js';

/**
 * Which Ed25519 public keys the receiver trusts, and for which hubs. A frame is only accepted
 * when its key_id names a key here that is bound to the hub in the frame's topic.
 *
 * On disk, `--trust` is either
 * - a directory of SPKI PEM files named `<hub_id>.pub`, or `<hub_id>.<label>.pub` when a hub has
 *   several keys (a rotation in progress). The hub id ends at the first dot, so hub ids with dots
 *   need the YAML form. Files not ending in `.pub` are ignored, so that a README can sit there.
 * - a YAML file mapping each hub id to a list of entries (or one entry), each the path of an
 *   SPKI PEM file, relative to the trust file, or the PEM text itself:
 *
 *       hub-a:
 *         - keys/hub-a.pub
 *         - |
 *           -----BEGIN PUBLIC KEY-----
 *           MCowBQYDK2VwAyEA...
 *           -----END PUBLIC KEY-----
 *       hub-b: keys/hub-b.pub
 *
 * Every malformed entry is collected; loading then fails once, with TRUST_INVALID naming each.
 * A key listed for several hubs is trusted for each of them (the operator's choice: each of
 * those hubs can then speak for the others).
 */

export interface TrustedKey {
  /** Lowercase hex of the first 8 bytes of SHA-256 over the raw public key (DESIGN.md). */
  readonly keyId: string;
  /** Parsed once: verifying with a KeyObject is ~15x faster than with PEM text. */
  readonly publicKey: KeyObject;
  readonly hubIds: ReadonlySet<string>;
}

/** One binding of a hub to a key, and where it was read (for messages). */
export interface TrustEntry {
  readonly hubId: string;
  readonly publicKey: KeyObject;
  readonly source: string;
}

/** Keys indexed by key_id. Immutable once built. */
export class TrustStore {
  readonly #byKeyId = new Map<string, { keyId: string; publicKey: KeyObject; hubIds: Set<string> }>();

  constructor(entries: Iterable<TrustEntry>) {
    for (const e of entries) {
      if (!ID_PATTERN.test(e.hubId)) throw new TypeError(`trust entry from ${e.source}: hub id '${e.hubId}' is not a valid id`);
      const keyId = keyIdOf(e.publicKey);
      const known = this.#byKeyId.get(keyId);
      if (known) known.hubIds.add(e.hubId);
      else this.#byKeyId.set(keyId, { keyId, publicKey: e.publicKey, hubIds: new Set([e.hubId]) });
    }
  }

  lookup(keyId: string): TrustedKey | undefined {
    return this.#byKeyId.get(keyId);
  }

  /** Every hub id that has at least one key, sorted. */
  hubs(): string[] {
    const all = new Set<string>();
    for (const k of this.#byKeyId.values()) for (const h of k.hubIds) all.add(h);
    return [...all].sort();
  }

  /** The key_ids trusted for one hub, sorted. */
  keyIdsOf(hubId: string): string[] {
    return [...this.#byKeyId.values()].filter((k) => k.hubIds.has(hubId)).map((k) => k.keyId).sort();
  }

  get size(): number {
    return this.#byKeyId.size;
  }
}

interface Problem { place: ErrorPlace; message: string }

/** Reads a trust directory or YAML file; throws TRUST_INVALID naming every bad entry. */
export async function loadTrustStore(path: string): Promise<TrustStore> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (e) {
    throw new TwinedgeError('TRUST_INVALID', `cannot read the trust file or directory: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: path }, { cause: e });
  }
  const problems: Problem[] = [];
  const entries = isDir ? await readTrustDir(path, problems) : await readTrustYaml(path, problems);
  if (problems.length === 0 && entries.length === 0) {
    problems.push({ place: { file: path }, message: isDir ? 'no <hub_id>.pub files: no hub would be trusted' : 'no hubs listed: no hub would be trusted' });
  }
  if (problems.length > 0) throw trustError(path, problems);
  return new TrustStore(entries);
}

function trustError(path: string, problems: Problem[]): TwinedgeError {
  const first = problems[0]!;
  if (problems.length === 1) return new TwinedgeError('TRUST_INVALID', first.message, first.place);
  // One line for stderr (exit 2), naming every entry, so that all can be fixed in one go.
  const all = problems.map((p) => `${[p.place.file === path ? undefined : p.place.file, p.place.line, p.place.keyPath].filter((x) => x !== undefined).join(':')} ${p.message}`.trim());
  return new TwinedgeError('TRUST_INVALID', `${problems.length} bad trust entries: ${all.join('; ')}`, { file: path });
}

async function readTrustDir(dir: string, problems: Problem[]): Promise<TrustEntry[]> {
  const entries: TrustEntry[] = [];
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isFile() && d.name.endsWith('.pub') && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  for (const name of names) {
    const file = join(dir, name);
    const hubId = name.slice(0, -'.pub'.length).split('.')[0]!;
    if (!ID_PATTERN.test(hubId)) {
      problems.push({ place: { file }, message: `'${hubId}' is not a valid hub id (letters, digits, '.', '_', '-'; name files <hub_id>.pub or <hub_id>.<label>.pub)` });
      continue;
    }
    const key = await readKey(file, { file }, problems);
    if (key) entries.push({ hubId, publicKey: key, source: file });
  }
  return entries;
}

async function readTrustYaml(file: string, problems: Problem[]): Promise<TrustEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    problems.push({ place: { file }, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
    return [];
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: Node | null | undefined): number | undefined => (node?.range ? lines.linePos(node.range[0]).line : undefined);
  if (doc.errors.length > 0) {
    for (const err of doc.errors) problems.push({ place: { file, line: lines.linePos(err.pos[0]).line }, message: `not valid YAML: ${err.message.split('\n')[0]}` });
    return [];
  }
  if (doc.contents === null) return [];
  if (!isMap(doc.contents)) {
    problems.push({ place: { file, line: lineOf(doc.contents) }, message: 'expected a mapping of hub id -> list of public keys' });
    return [];
  }
  const base = dirname(resolve(file));
  const entries: TrustEntry[] = [];
  for (const pair of doc.contents.items) {
    const hubId = isScalar(pair.key) ? String(pair.key.value) : undefined;
    const keyLine = lineOf(pair.key as Node | null);
    if (hubId === undefined || !ID_PATTERN.test(hubId)) {
      problems.push({ place: { file, line: keyLine, keyPath: hubId ?? '?' }, message: `'${hubId ?? '?'}' is not a valid hub id (letters, digits, '.', '_', '-')` });
      continue;
    }
    const value = pair.value as Node | null;
    const items: { node: Node; keyPath: string }[] = [];
    if (isSeq(value)) value.items.forEach((n, i) => items.push({ node: n as Node, keyPath: `${hubId}[${i}]` }));
    else if (isScalar(value)) items.push({ node: value, keyPath: hubId });
    if (items.length === 0) {
      problems.push({ place: { file, line: lineOf(value) ?? keyLine, keyPath: hubId }, message: 'expected a public key file path, PEM text, or a non-empty list of them' });
      continue;
    }
    for (const { node, keyPath } of items) {
      const place: ErrorPlace = { file, line: lineOf(node), keyPath };
      if (!isScalar(node) || typeof node.value !== 'string' || node.value.trim() === '') {
        problems.push({ place, message: 'expected a public key file path or PEM text' });
        continue;
      }
      const spec = node.value;
      const key = spec.includes('-----BEGIN')
        ? parseKey(spec, `${basename(file)} ${keyPath}`, place, problems)
        : await readKey(resolve(base, spec), place, problems);
      if (key) entries.push({ hubId, publicKey: key, source: `${file} ${keyPath}` });
    }
  }
  return entries;
}

async function readKey(path: string, place: ErrorPlace, problems: Problem[]): Promise<KeyObject | undefined> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (e) {
    problems.push({ place, message: `cannot read public key file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
    return undefined;
  }
  return parseKey(pem, path, place, problems);
}

function parseKey(pem: string, source: string, place: ErrorPlace, problems: Problem[]): KeyObject | undefined {
  // createPublicKey would happily derive a public key from a private one: refuse it, since a
  // private key in a trust folder is a secret in the wrong place.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    problems.push({ place, message: 'this is a private key; trust entries hold public keys only (the .pub file)' });
    return undefined;
  }
  try {
    return parsePublicKey(pem, source);
  } catch (e) {
    problems.push({ place, message: `${(e as Error).message} (an Ed25519 SPKI PEM public key is expected)` });
    return undefined;
  }
}

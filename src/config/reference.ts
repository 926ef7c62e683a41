import { ConfigSchema, ENV_OVERRIDES } from './schema.js';

/**
 * The README's config reference, made from the schema so that the two cannot drift: a table a
 * section (key, type, default, description), then the environment variables. scripts/
 * config-reference.ts prints it, checks the README against it and rewrites it.
 */

interface Node {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  'x-default'?: string;
}

const code = (s: string) => `\`${s}\``;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(n: Node): string {
  if (n.enum) return n.enum.map((v) => code(String(v))).join(' \\| ');
  if (n.type === 'array') {
    const of = n.items?.type === 'object' ? 'mappings' : `${n.items?.type ?? 'value'}s`;
    return `list of ${of}${n.minItems ? `, at least ${n.minItems}` : ''}`;
  }
  if (n.type === 'object') return 'mapping';
  const lo = n.exclusiveMinimum !== undefined ? `> ${n.exclusiveMinimum}` : n.minimum !== undefined ? `${n.minimum}` : undefined;
  if (n.type === 'integer' || n.type === 'number') {
    if (lo !== undefined && n.maximum !== undefined && n.exclusiveMinimum === undefined) return `${n.type}, ${lo} to ${n.maximum}`;
    const parts = [lo === undefined ? undefined : n.exclusiveMinimum !== undefined ? lo : `>= ${lo}`, n.maximum === undefined ? undefined : `<= ${n.maximum}`].filter(Boolean);
    return parts.length ? `${n.type}, ${parts.join(', ')}` : n.type;
  }
  return String(n.type ?? 'any');
}

/** TypeBox lists a key with a default as required too: only one without a default must be written. */
function defaultOf(n: Node, required: boolean): string {
  if (n['x-default'] !== undefined) return n['x-default'];
  // A section's default is `{}`: its keys' own defaults say what that means.
  if (n.default !== undefined) return n.type === 'object' ? '' : code(typeof n.default === 'string' ? n.default : JSON.stringify(n.default));
  return required ? 'required' : 'unset';
}

function rows(n: Node, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(n.properties ?? {})) {
    const path = `${prefix}.${key}`;
    out.push(`| ${code(path)} | ${typeOf(child)} | ${defaultOf(child, n.required?.includes(key) ?? false)} | ${cell(child.description ?? '')} |`);
    if (child.type === 'object') rows(child, path, out);
    if (child.type === 'array' && child.items?.type === 'object') rows(child.items, `${path}[]`, out);
  }
}

const HEADER = ['| key | type | default | description |', '| --- | --- | --- | --- |'];

/** The reference as markdown: one `###` section a top-level key, then the environment. */
export function configReference(): string {
  const root = ConfigSchema as unknown as Node;
  const out: string[] = [];
  for (const [section, node] of Object.entries(root.properties ?? {})) {
    out.push(`### ${code(section)}`, '');
    // A list's description is its own row's.
    if (node.description && node.type !== 'array') out.push(cell(node.description), '');
    out.push(...HEADER);
    if (node.type === 'array') {
      out.push(`| ${code(section)} | ${typeOf(node)} | ${defaultOf(node, false)} | ${cell(node.description ?? '')} |`);
      if (node.items?.type === 'object') rows(node.items, `${section}[]`, out);
    } else {
      rows(node, section, out);
    }
    out.push('');
  }
  out.push('### Environment', '', 'These variables win over the file when set and not empty; a relative path from one is taken from the working directory.', '');
  out.push('| variable | key |', '| --- | --- |');
  for (const { name, path } of ENV_OVERRIDES) out.push(`| ${code(name)} | ${code(path.join('.'))} |`);
  return out.join('\n');
}

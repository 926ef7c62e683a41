import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema } from './schema.js';

interface Node extends TSchema { properties?: Record<string, Node>; items?: Node; anyOf?: Node[]; const?: unknown; required?: string[]; type?: string; description?: string; default?: unknown }

function typeOf(n: Node): string {
  if (n.anyOf) return n.anyOf.map((o) => `\`${String(o.const)}\``).join(' \\| ');
  if (n.type === 'array') return `list of ${n.items?.type === 'object' ? 'objects' : String(n.items?.type)}`;
  return String(n.type ?? 'any');
}

function rows(n: Node, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(n.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const isObject = child.type === 'object';
    const isList = child.type === 'array' && child.items?.type === 'object';
    if (!isObject || child.description) {
      const def = child.default === undefined ? (n.required?.includes(key) ? 'required' : '') : `\`${JSON.stringify(child.default)}\``;
      out.push(`| \`${path}\` | ${typeOf(child)} | ${isObject ? '' : def} | ${(child.description ?? '').replace(/\|/g, '\\|')} |`);
    }
    if (isObject) rows(child, path, out);
    if (isList) rows(child.items!, `${path}[]`, out);
  }
}

/** The README's config reference: one table of every key, made from the schema's descriptions. */
export function configReference(): string {
  const out = ['| key | type | default | meaning |', '| --- | --- | --- | --- |'];
  rows(ConfigSchema as unknown as Node, '', out);
  return out.join('\n');
}

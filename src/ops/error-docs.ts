import { ERROR_CODES } from './errors.js';

/** The README's error table, made from the code table so the two cannot drift. */
export function errorCodeTable(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, e]) => `| \`${code}\` | ${e.exit} | ${e.meaning} | ${e.action} |`);
  return ['| code | exit | meaning | what to do |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
export function replaceSection(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new TypeError(`markers for ${name} not found`);
  return `${doc.slice(0, a + start.length)}\n${body}\n${doc.slice(b)}`;
}

export function sectionOf(doc: string, name: string): string | undefined {
  const start = `<!-- ${name}:start -->`;
  const a = doc.indexOf(start);
  const b = doc.indexOf(`<!-- ${name}:end -->`);
  if (a < 0 || b < a) return undefined;
  return doc.slice(a + start.length, b).trim();
}

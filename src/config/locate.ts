import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';

/** A path into the config: object keys and array indexes, e.g. ['subjects', 1, 'ref']. */
export type Path = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** The key path as the docs and error lines write it: `hub.id`, `subjects[1].ref`. */
export function keyPathOf(path: Path): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (!PLAIN_KEY.test(k)) out += `[${JSON.stringify(k)}]`;
    else out += out ? `.${k}` : k;
  }
  return out;
}

interface Step {
  /** Offset where the key (or the sequence item) starts. */
  keyAt: number;
  /** Offset where the value starts; absent for an empty value (`key:` and nothing). */
  valueAt: number | undefined;
}

/**
 * Finds where a key path is written in the YAML source, from the node ranges that
 * `parseDocument` keeps. A path that is not in the file (a default, or a key that is missing)
 * gives the line of its nearest ancestor that is.
 */
export class Locator {
  readonly #doc: Document;
  readonly #lines: LineCounter;

  constructor(doc: Document, lines: LineCounter) {
    this.#doc = doc;
    this.#lines = lines;
  }

  /** Whether the file itself writes this path. */
  has(path: Path): boolean {
    return this.#walk(path).length === path.length;
  }

  /** 1-based line of the key at `path` (an item's first line in a list); 1 for the root. */
  keyLine(path: Path): number {
    const steps = this.#walk(path);
    const last = steps[steps.length - 1];
    return last ? this.#line(last.keyAt) : this.#rootLine();
  }

  /** 1-based line where the value at `path` starts, or its key's line when the value is empty. */
  valueLine(path: Path): number {
    const steps = this.#walk(path);
    const last = steps[steps.length - 1];
    if (path.length === 0) return this.#rootLine();
    if (!last) return this.#rootLine();
    return this.#line(steps.length === path.length && last.valueAt !== undefined ? last.valueAt : last.keyAt);
  }

  #rootLine(): number {
    const range = (this.#doc.contents as { range?: [number, number, number] } | null)?.range;
    return range ? this.#line(range[0]) : 1;
  }

  #line(offset: number): number {
    return this.#lines.linePos(offset).line;
  }

  #walk(path: Path): Step[] {
    const steps: Step[] = [];
    let node: unknown = this.#doc.contents;
    for (const seg of path) {
      // Inside an alias the nodes are the anchor's, elsewhere in the file: the alias's own line is
      // the better place to point at.
      if (isAlias(node)) break;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        const keyRange = pair && isScalar(pair.key) ? pair.key.range : undefined;
        if (!pair || !keyRange) break;
        const valueRange = (pair.value as { range?: [number, number, number] } | null)?.range;
        steps.push({ keyAt: keyRange[0], valueAt: valueRange?.[0] });
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as { range?: [number, number, number] } | null | undefined;
        if (!item?.range) break;
        steps.push({ keyAt: item.range[0], valueAt: item.range[0] });
        node = item;
      } else {
        break;
      }
    }
    return steps;
  }
}

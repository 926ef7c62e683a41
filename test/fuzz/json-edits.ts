// Plain data made and damaged for the loader fuzz suites: JSON-like values under a file format's
// own keys, and edits applied at arbitrary places of a parsed file (a key deleted, a value
// replaced, a value wrapped in a list, an entry repeated).
import fc from 'fast-check';

/** Values as YAML can hold them: scalars from `scalars` or arbitrary, lists, and mappings under `keys`. */
export function jsonLike(keys: readonly string[], scalars: readonly unknown[]): fc.Arbitrary<unknown> {
  const { value } = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      fc.constantFrom(...scalars), fc.double(), fc.integer(), fc.string({ maxLength: 10 }),
      fc.array(tie('value'), { maxLength: 3 }),
      tie('object'),
    ),
    object: fc.dictionary(fc.constantFrom(...keys), tie('value'), { maxKeys: 5 }),
  }));
  return value;
}

export interface Edit {
  /** At each depth, an index choosing among the keys or items there (modulo their number). */
  readonly path: readonly number[];
  readonly op: 'delete' | 'set' | 'wrap' | 'duplicate';
  readonly value: unknown;
}

export function jsonEdits(values: fc.Arbitrary<unknown>): fc.Arbitrary<Edit[]> {
  return fc.array(fc.record({
    path: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
    op: fc.constantFrom<Edit['op']>('delete', 'set', 'set', 'wrap', 'duplicate'),
    value: values,
  }), { minLength: 1, maxLength: 4 });
}

/** A copy of `root` with one edit made, at the end of its path or where the path meets a scalar. */
export function applyEdit(root: unknown, e: Edit): unknown {
  const copy: unknown = structuredClone(root);
  let parent = copy;
  for (let depth = 0; depth < e.path.length; depth++) {
    if (parent === null || typeof parent !== 'object') break;
    const p = parent as Record<string | number, unknown>;
    const keys: Array<string | number> = Array.isArray(parent) ? parent.map((_, i) => i) : Object.keys(parent);
    if (keys.length === 0) break;
    const key = keys[e.path[depth]! % keys.length]!;
    const child = p[key];
    if (depth < e.path.length - 1 && child !== null && typeof child === 'object') {
      parent = child;
      continue;
    }
    if (e.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete p[key];
    } else if (e.op === 'set') p[key] = e.value;
    else if (e.op === 'wrap') p[key] = [child];
    else if (Array.isArray(parent)) parent.push(structuredClone(child));
    else p[`${String(key)}_copy`] = structuredClone(child);
    break;
  }
  return copy;
}

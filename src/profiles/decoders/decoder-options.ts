/** Refuses options a decoder does not take, naming the known ones. */
export function checkNoOptionsBut(options: Readonly<Record<string, unknown>>, known: readonly string[], decoder: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`${decoder}: unknown option '${key}'${known.length ? `; known: ${known.join(', ')}` : '; it takes none'}`);
  }
}

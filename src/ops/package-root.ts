import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of twinedge's package.json: where the shipped device profiles and encoder models
 * are, whether this code runs from src/ (a checkout, through tsx) or from dist/src/ (a build).
 */
export const PACKAGE_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('twinedge: no package.json above the code; the install is incomplete');
    dir = up;
  }
  return dir;
})();

#!/usr/bin/env node
// The twinedge command. Runs the compiled code when `npm run build` has made it, and the
// TypeScript sources through tsx otherwise, so a fresh checkout works after `npm install`.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (existsSync(built) && process.env.TWINEDGE_FROM_SOURCE !== '1') {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}

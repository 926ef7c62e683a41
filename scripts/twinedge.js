#!/usr/bin/env node
// The twinedge command. In a checkout it runs the TypeScript sources through tsx, so a fresh
// clone works after `npm install`; an image built with `npm run build` ships only the compiled
// code in dist/ and runs that.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(pathToFileURL(fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url))).href);
}

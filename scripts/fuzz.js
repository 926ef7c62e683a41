#!/usr/bin/env node
// `npm run fuzz [-- PATTERN...]`: the fuzz suites (test/fuzz) with many more cases than `npm test`
// runs, and a fresh seed each time unless one is given. Then the cases run, per target.
//
//   TWINEDGE_FUZZ_SCALE   cases per property, as a multiple of the default (here 50; npm test: 1)
//   TWINEDGE_FUZZ_SEED    the seed (here a random one, printed first, so a failure can be replayed)
//   TWINEDGE_FUZZ_TIME_LIMIT_S  seconds after which a property stops starting cases (default 120)
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const scale = process.env.TWINEDGE_FUZZ_SCALE || '50';
const seed = process.env.TWINEDGE_FUZZ_SEED || String(randomInt(0, 2 ** 31 - 1));
const dir = mkdtempSync(join(tmpdir(), 'twinedge-fuzz-'));
const report = join(dir, 'cases.jsonl');

console.log(`fuzz: seed ${seed}, scale ${scale} (replay with TWINEDGE_FUZZ_SEED=${seed} TWINEDGE_FUZZ_SCALE=${scale} npm run fuzz)`);
const filters = process.argv.slice(2);
const r = spawnSync(process.execPath, [join(root, 'scripts', 'run-tests.js'), ...(filters.length ? filters.map((f) => `test/fuzz/${f}`) : ['test/fuzz'])], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TWINEDGE_FUZZ_SCALE: scale, TWINEDGE_FUZZ_SEED: seed, TWINEDGE_FUZZ_REPORT: report },
});

const totals = new Map();
try {
  for (const line of readFileSync(report, 'utf8').split('\n')) {
    if (line === '') continue;
    const { target, cases } = JSON.parse(line);
    totals.set(target, (totals.get(target) ?? 0) + cases);
  }
} catch {
  // No report: no suite got as far as its end; the test output above says why.
}
rmSync(dir, { recursive: true, force: true });
console.log(`\nfuzz cases per target (seed ${seed}, scale ${scale}):`);
for (const [target, cases] of [...totals].sort(([a], [b]) => (a < b ? -1 : 1))) console.log(`  ${target.padEnd(20)} ${cases}`);
console.log(`  ${'total'.padEnd(20)} ${[...totals.values()].reduce((a, b) => a + b, 0)}`);
if (r.status !== 0) console.log(`\nfuzz: failed; replay with TWINEDGE_FUZZ_SEED=${seed} TWINEDGE_FUZZ_SCALE=${scale} npm run fuzz`);
process.exit(r.status ?? 1);

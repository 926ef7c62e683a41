// Disk full: the hub's data folder is a 2 MiB tmpfs and the broker is unreachable, so the outbox
// fills the disk. The daemon must say so in one clear log line and exit 1 (for systemd to
// restart it), never run on silently dropping what it makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHubKey, writeKeyFiles } from '../../src/frames/keys.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;

function skipUnlessRoot(): string | undefined {
  if (process.getuid?.() === 0) return undefined;
  const reason = 'needs root to mount a small tmpfs';
  if (process.env.TWINEDGE_REQUIRE_ALL === '1') throw new Error(`TWINEDGE_REQUIRE_ALL=1 and this suite ${reason}`);
  return reason;
}

test('a daemon whose disk fills up logs why and exits 1', { skip: skipUnlessRoot() }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'twinedge-diskfull-'));
  const data = join(dir, 'data');
  await mkdir(data);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', data]);
  assert.equal(mounted.status, 0, `mount a tmpfs: ${mounted.stderr}`);
  try {
    await writeKeyFiles(join(dir, 'hub'), generateHubKey());
    const subjects = Array.from({ length: 20 }, (_, i) => `  - ref: s${i}`);
    await writeFile(join(dir, 'c.yaml'), [
      'hub:', '  id: hub-full', '  data_dir: data', '  key_file: hub.key',
      'subjects:', ...subjects,
      // Port 9 refuses connections: nothing leaves the outbox.
      'broker:', '  url: mqtt://127.0.0.1:9', '  reconnect_min_ms: 1000', '  reconnect_max_ms: 5000',
      'source:', '  simulated:', '    window_s: 0.01', '',
    ].join('\n'));
    const daemon = spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'c.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    daemon.stdout.on('data', (d: Buffer) => (out += d));
    const timer = setTimeout(() => daemon.kill('SIGKILL'), 60_000);
    const [code] = await once(daemon, 'exit');
    clearTimeout(timer);
    const logs = out.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; code?: string });
    assert.equal(code, 1, 'exit 1 so that the service manager restarts it');
    const stored = logs.filter((l) => l.msg === 'frames could not be stored');
    assert.equal(stored.length, 1, 'said once, not once per frame');
    assert.equal(stored[0]!.code, 'OUTBOX_WRITE_FAILED');
    assert.ok(logs.some((l) => l.level === 60 && /outbox cannot store frames/.test(l.msg)), 'a fatal line says why it stopped');
  } finally {
    spawnSync('umount', [data]);
    await rm(dir, { recursive: true, force: true });
  }
});

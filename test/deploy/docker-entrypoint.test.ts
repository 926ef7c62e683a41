import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireAll } from '../helpers/tools.js';
import { toolPath } from '../helpers/tool-path.js';
import { tempDir } from '../helpers/tmp.js';

// The image's entrypoint, run as an unprivileged user with the bounding sets a container gets:
// Docker's default (NET_RAW, not NET_ADMIN), with --cap-add NET_ADMIN, and with --cap-drop ALL.
// setpriv stands in for the container runtime; giving the helper its file capabilities and
// switching users takes root, as building the image does.
const ENTRYPOINT = new URL('../../scripts/docker-entrypoint.sh', import.meta.url).pathname;
const CAP_NET_ADMIN = 1n << 12n;
const CAP_NET_RAW = 1n << 13n;
const NOBODY = '65534';

const missing = ['setpriv', 'setcap'].filter((t) => toolPath(t) === undefined);
const why =
  process.getuid?.() !== 0 ? 'needs root (file capabilities and a user switch)'
  : missing.length > 0 ? `needs ${missing.join(', ')} (apt-get install util-linux libcap2-bin)`
  : undefined;
if (why !== undefined && requireAll()) {
  test('the entrypoint test can run', () => {
    throw new Error(`TWINEDGE_REQUIRE_ALL=1 and the entrypoint test ${why}`);
  });
}

async function helperDir(t: { after(fn: () => Promise<void>): void }, withHelper: boolean) {
  const dir = await tempDir(t);
  await chmod(dir, 0o755);
  await copyFile(ENTRYPOINT, join(dir, 'entrypoint.sh'));
  if (withHelper) {
    await copyFile(toolPath('setpriv')!, join(dir, 'hci-caps'));
    await chmod(join(dir, 'hci-caps'), 0o755);
    const r = spawn(toolPath('setcap')!, ['cap_net_raw,cap_net_admin+p', join(dir, 'hci-caps')], { stdio: 'inherit' });
    assert.equal((await once(r, 'close'))[0], 0, 'setcap');
  }
  return dir;
}

/** Runs the entrypoint as nobody with `bounding` dropped; the command reports what it got. */
async function start(dir: string, bounding: string[]) {
  const drop = bounding.length > 0 ? ['--bounding-set', bounding.map((c) => `-${c}`).join(',')] : [];
  const report = 'echo "uid=$(id -u) args=$*"; sed -n "s/^CapEff:\\t//p" /proc/self/status';
  const child = spawn(toolPath('setpriv')!, ['--reuid', NOBODY, '--regid', NOBODY, '--clear-groups', ...drop,
    'sh', join(dir, 'entrypoint.sh'), 'sh', '-c', report, 'sh', 'demo', '--duration', '5 s'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TWINEDGE_HCI_CAPS: join(dir, 'hci-caps') },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const [code] = await once(child, 'close');
  const [who, eff] = out.trim().split('\n');
  return { code: code as number, who, effective: BigInt(`0x${eff ?? ''}`) };
}

test('the entrypoint gives the unprivileged hub each BLE capability the container allows, and starts without them', { skip: why }, async (t) => {
  const dir = await helperDir(t, true);
  const docker = await start(dir, ['net_admin']);
  assert.equal(docker.code, 0);
  assert.equal(docker.who, `uid=${NOBODY} args=demo --duration 5 s`, 'still unprivileged, arguments intact');
  assert.equal(docker.effective, CAP_NET_RAW, "Docker's default set: NET_RAW only");

  const added = await start(dir, []);
  assert.equal(added.effective, CAP_NET_RAW | CAP_NET_ADMIN, 'with --cap-add NET_ADMIN');

  const none = await start(dir, ['net_raw', 'net_admin']);
  assert.equal(none.code, 0, 'a container without them still starts the hub');
  assert.equal(none.effective, 0n);
});

test('without the helper (not built into the image) the entrypoint runs the command as it is', { skip: why }, async (t) => {
  const dir = await helperDir(t, false);
  const r = await start(dir, []);
  assert.equal(r.code, 0);
  assert.equal(r.who, `uid=${NOBODY} args=demo --duration 5 s`);
  assert.equal(r.effective, 0n);
});

// twinedge command as a twin server's operator runs it: a process that signs with the server key
// made by `twinedge keys generate`, publishes to a real broker, and waits for the answer of a real
// hub (in this process) that trusts the server's .pub file. Exit 0 accepted, 1 refused, 2 usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadHubKey, loadPublicKey } from '../../src/frames/keys.js';
import { commandTopic } from '../../src/publish/topics.js';
import { startAedesFor } from '../helpers/aedes.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';
import { generateHubKey, HUB_ID, startHub } from '../hub/command-rig.js';

const CLI = new URL('../../scripts/twinedge.js', import.meta.url).pathname;

function twinedge(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('twinedge command: consent accepted (exit 0), a refused purge (exit 1), bad usage (exit 2)', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  const made = await twinedge('keys', 'generate', '--out', join(dir, 'server'));
  assert.equal(made.code, 0, made.stderr);
  const serverKey = await loadHubKey(join(dir, 'server.key'));
  assert.equal((await loadPublicKey(join(dir, 'server.pub'))).equals(serverKey.publicKey), true);
  const hubKey = generateHubKey();
  await writeFile(join(dir, `${HUB_ID}.pub`), hubKey.publicKey.export({ format: 'pem', type: 'spki' }) as string);
  const subscribed = new Promise<void>((resolve) => broker.aedes.on('subscribe', (subs: Array<{ topic: string }>) => { if (subs.some((x) => x.topic === commandTopic(HUB_ID))) resolve(); }));
  // The hub's clock is the real one here: the command carries the CLI's own time.
  const rig = await startHub(t, { dir, brokerUrl: broker.url, hubKey, serverKey });
  rig.clock.advance(Date.now() - rig.clock.wallMs());
  await subscribed;
  const common = ['--key', join(dir, 'server.key'), '--hub', HUB_ID, '--broker', broker.url, '--trust', dir, '--timeout', '30'];

  const consent = await twinedge('command', ...common, 'consent', '--subject', 'p-1', '--allow', 'features,events');
  assert.equal(consent.code, 0, consent.stderr);
  assert.match(consent.stdout, /^set-consent accepted: .*allowed: features,events$/m);
  assert.deepEqual(rig.hub.consentOf('p-1'), ['features', 'events']);

  const json = await twinedge('command', ...common, '--json', 'purge', '--subject', 'p-2');
  assert.equal(json.code, 0, json.stderr);
  const line = JSON.parse(json.stdout) as { kind: string; subject_ref: string; payload: { command: string; purge: { subject_ref: string } } };
  assert.equal(line.kind, 'command_result');
  assert.equal(line.payload.command, 'purge_subject');
  assert.equal(line.payload.purge.subject_ref, 'p-2');

  const refused = await twinedge('command', ...common, 'purge', '--subject', '_hub');
  assert.equal(refused.code, 2, 'refused before anything is sent');
  // A subject the hub does not serve: signed and sent, and refused by the hub.
  const unknown = await twinedge('command', ...common, 'consent', '--subject', 'p-9', '--allow', 'none');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown_subject.*\[COMMAND_REJECTED\]/);
  assert.deepEqual(rig.hub.consentOf('p-1'), ['features', 'events']);

  const usage = await twinedge('command', ...common, 'consent', '--subject', 'p-1', '--allow', 'everything');
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /USAGE_BAD_ARGUMENT/);
  assert.equal(rig.hub.commandStats().received, 3, 'what exit 2 refused was never sent');
});

test('twinedge command: no answer from a hub that does not trust the key (exit 1, COMMAND_NO_ANSWER)', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedesFor(t);
  assert.equal((await twinedge('keys', 'generate', '--out', join(dir, 'server'))).code, 0);
  const hubKey = generateHubKey();
  await writeFile(join(dir, `${HUB_ID}.pub`), hubKey.publicKey.export({ format: 'pem', type: 'spki' }) as string);
  const subscribed = new Promise<void>((resolve) => broker.aedes.on('subscribe', (subs: Array<{ topic: string }>) => { if (subs.some((x) => x.topic === commandTopic(HUB_ID))) resolve(); }));
  // The hub trusts another twin-server key.
  const rig = await startHub(t, { dir, brokerUrl: broker.url, hubKey, serverKey: generateHubKey() });
  await subscribed;
  const r = await twinedge('command', '--key', join(dir, 'server.key'), '--hub', HUB_ID, '--broker', broker.url, '--trust', dir, '--timeout', '2', 'resend-status');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\[COMMAND_NO_ANSWER\]/);
  await until(() => rig.hub.commandStats().rejected.bad_signature === 1, 'the refusal counted on the hub');
});

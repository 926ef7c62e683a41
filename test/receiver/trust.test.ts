import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateHubKey, type HubKey } from '../../src/frames/keys.js';
import { loadTrustStore } from '../../src/receiver/trust.js';
import { makeTempDir } from '../helpers/tmp.js';

const pem = (k: HubKey) => k.publicKey.export({ format: 'pem', type: 'spki' }) as string;

test('a trust directory binds <hub_id>.pub and <hub_id>.<label>.pub files to their hubs, by key_id', async () => {
  const dir = await makeTempDir('twinedge-trust-');
  try {
    const a1 = generateHubKey();
    const a2 = generateHubKey();
    const b = generateHubKey();
    await writeFile(join(dir.path, 'hub-a.pub'), pem(a1));
    await writeFile(join(dir.path, 'hub-a.rotated-2026.pub'), pem(a2));
    await writeFile(join(dir.path, 'hub_b.pub'), pem(b));
    await writeFile(join(dir.path, 'README.md'), 'not a key, ignored');
    const store = await loadTrustStore(dir.path);
    assert.deepEqual(store.hubs(), ['hub-a', 'hub_b']);
    assert.deepEqual(store.keyIdsOf('hub-a'), [a1.keyId, a2.keyId].sort());
    assert.deepEqual([...store.lookup(b.keyId)!.hubIds], ['hub_b']);
    assert.equal(store.lookup(b.keyId)!.publicKey.equals(b.publicKey), true);
    assert.equal(store.lookup('0000000000000000'), undefined);
  } finally {
    await dir.remove();
  }
});

test('a YAML trust file takes paths relative to itself, inline PEM, and a single entry without a list', async () => {
  const dir = await makeTempDir('twinedge-trust-');
  try {
    const a = generateHubKey();
    const b = generateHubKey();
    const c = generateHubKey();
    await mkdir(join(dir.path, 'conf', 'keys'), { recursive: true });
    await writeFile(join(dir.path, 'conf', 'keys', 'a.pub'), pem(a));
    await writeFile(join(dir.path, 'conf', 'keys', 'c.pub'), pem(c));
    const inline = pem(b).trimEnd().split('\n').map((l) => `      ${l}`).join('\n');
    await writeFile(join(dir.path, 'conf', 'trust.yaml'), `# hubs and their keys\nclinic.bed-3:\n  - keys/a.pub\n  - |\n${inline}\nhub-c: keys/c.pub\n`);
    const store = await loadTrustStore(join(dir.path, 'conf', 'trust.yaml'));
    assert.deepEqual(store.hubs(), ['clinic.bed-3', 'hub-c']);
    assert.deepEqual(store.keyIdsOf('clinic.bed-3'), [a.keyId, b.keyId].sort());
    assert.deepEqual(store.keyIdsOf('hub-c'), [c.keyId]);
  } finally {
    await dir.remove();
  }
});

test('one key listed for two hubs is trusted for both', async () => {
  const dir = await makeTempDir('twinedge-trust-');
  try {
    const k = generateHubKey();
    await writeFile(join(dir.path, 'k.pub'), pem(k));
    await writeFile(join(dir.path, 'trust.yaml'), 'hub-a: [k.pub]\nhub-b: [k.pub]\n');
    const store = await loadTrustStore(join(dir.path, 'trust.yaml'));
    assert.deepEqual([...store.lookup(k.keyId)!.hubIds].sort(), ['hub-a', 'hub-b']);
    assert.equal(store.size, 1);
  } finally {
    await dir.remove();
  }
});

test('malformed trust entries are refused with TRUST_INVALID naming the file and the entry', async () => {
  const dir = await makeTempDir('twinedge-trust-');
  try {
    const good = generateHubKey();
    await writeFile(join(dir.path, 'good.pub'), pem(good));
    await writeFile(join(dir.path, 'private.pub'), good.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    const cases: Array<{ name: string; yaml: string; keyPath: string | undefined }> = [
      { name: 'missing file', yaml: 'hub-a: [nope.pub]\n', keyPath: 'hub-a[0]' },
      { name: 'not PEM', yaml: 'hub-a:\n  - good.pub\n  - "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----"\n', keyPath: 'hub-a[1]' },
      { name: 'a private key', yaml: 'hub-a: [private.pub]\n', keyPath: 'hub-a[0]' },
      { name: 'bad hub id', yaml: '"hub/a": [good.pub]\n', keyPath: 'hub/a' },
      { name: 'empty list', yaml: 'hub-a: []\n', keyPath: 'hub-a' },
      { name: 'a number, not a path', yaml: 'hub-a: [42]\n', keyPath: 'hub-a[0]' },
      { name: 'not a mapping', yaml: '- good.pub\n', keyPath: undefined },
      { name: 'YAML syntax', yaml: 'hub-a: [good.pub\n', keyPath: undefined },
      { name: 'no hubs', yaml: '# nothing\n', keyPath: undefined },
    ];
    for (const c of cases) {
      const file = join(dir.path, `${c.name.replace(/\W+/g, '-')}.yaml`);
      await writeFile(file, c.yaml);
      await assert.rejects(loadTrustStore(file), (e: { code: string; place: { file?: string; keyPath?: string } }) => {
        assert.equal(e.code, 'TRUST_INVALID', c.name);
        assert.equal(e.place.file, file, c.name);
        assert.equal(e.place.keyPath, c.keyPath, c.name);
        return true;
      });
    }
  } finally {
    await dir.remove();
  }
});

test('every bad entry is reported at once, and a missing or empty trust path is refused', async () => {
  const dir = await makeTempDir('twinedge-trust-');
  try {
    await writeFile(join(dir.path, 'trust.yaml'), 'hub-a: [a.pub]\nhub-b: [b.pub]\n');
    await assert.rejects(loadTrustStore(join(dir.path, 'trust.yaml')), (e: { code: string; message: string }) => {
      assert.equal(e.code, 'TRUST_INVALID');
      assert.match(e.message, /hub-a\[0\].*hub-b\[0\]/);
      return true;
    });
    await assert.rejects(loadTrustStore(join(dir.path, 'absent')), { code: 'TRUST_INVALID' });
    await mkdir(join(dir.path, 'empty'));
    await assert.rejects(loadTrustStore(join(dir.path, 'empty')), { code: 'TRUST_INVALID' });
    await writeFile(join(dir.path, 'empty', 'bad id!.pub'), pem(generateHubKey()));
    await assert.rejects(loadTrustStore(join(dir.path, 'empty')), (e: { code: string; place: { file?: string } }) => {
      assert.equal(e.code, 'TRUST_INVALID');
      assert.equal(e.place.file, join(dir.path, 'empty', 'bad id!.pub'));
      return true;
    });
  } finally {
    await dir.remove();
  }
});

// Hostile bytes through every shipped profile, whole: framing, decoding and channel mapping.
// Whatever arrives, nothing throws; every packet either gives finite samples or is rejected with
// at least one error, and every byte pushed is accounted for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import { DeviceReader } from '../../src/profiles/device-reader.js';
import type { SampleValue } from '../../src/profiles/profile.js';

const { profiles } = await loadProfiles([SHIPPED_PROFILES_DIR]);

const finite = (v: SampleValue) => typeof v === 'boolean' || (typeof v === 'number' ? Number.isFinite(v) : v.every(Number.isFinite));

for (const profile of profiles.values()) {
  test(`${profile.id}: arbitrary packets never throw; they decode to finite values or are rejected`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...profile.sources), (bytes, source) => {
      const out = profile.decode(bytes, source);
      for (const s of out.samples) assert.ok(finite(s.value), `${s.channel} = ${String(s.value)}`);
      // No samples and no error is possible (a BTHome packet with only a packet id); otherwise an error says why.
      for (const e of out.errors) assert.ok(/^[A-Z]+_[A-Z_]+$/.test(e.code) && e.message.length > 0, JSON.stringify(e));
      if (out.samples.length === 0 && out.errors.length === 0) assert.ok(!out.skipped || profile.serial, 'only a line can be a skipped header');
    }), { numRuns: 2000 });
  });

  // Byte streams are for serial devices; BLE packets arrive whole, one notification each.
  if (!profile.serial) continue;
  test(`${profile.id}: an arbitrary byte stream with valid packets mixed in never throws out of the reader`, () => {
    const good = profile.examples.filter((e) => e.samples && e.samples.length > 0 && e.text !== undefined).map((e) => Buffer.from(`${e.text}\r\n`));
    fc.assert(fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...(good.length ? good : [Buffer.from([0xaa, 0x55])]))), { maxLength: 30 }), fc.integer({ min: 1, max: 17 }), (parts, cut) => {
      let samples = 0;
      const reader = new DeviceReader({ profile, onSamples: (s) => { samples += s.length; for (const x of s) assert.ok(finite(x.value)); } });
      const stream = Buffer.concat(parts);
      for (let i = 0; i < stream.length; i += cut) reader.push({ bytes: stream.subarray(i, i + cut), monoMs: i, wallMs: 1e12 + i });
      reader.end();
      const st = reader.stats();
      assert.equal(st.bytes, stream.length);
      assert.equal(st.samples, samples);
    }), { numRuns: 300 });
  });
}

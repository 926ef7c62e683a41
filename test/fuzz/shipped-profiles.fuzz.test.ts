// Every shipped profile, loaded and compiled as `twinedge decode` loads it, under hostile packets:
// arbitrary bytes and damaged copies of its own examples, from each of its sources (and from one
// it does not have). A packet gives samples of declared channels in their units with finite
// values, or problems with codes; the same packet gives the same result whatever came before it.
// Serial profiles also take arbitrary byte streams, cut anywhere, through their framing: the
// samples and the problems counted do not depend on where the stream was cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../../src/profiles/load.js';
import { DeviceReader } from '../../src/profiles/device-reader.js';
import { exampleInput } from '../../src/profiles/examples.js';
import type { Profile, ProfileDecode, SampleValue } from '../../src/profiles/profile.js';
import type { DecodeContext } from '../../src/profiles/decoded.js';
import type { LengthCrcOptions } from '../../src/transports/serial/framing/length-crc.js';
import { cobs, lengthCrc, slip } from './encoders.js';
import { assertIssue, chunked, FUZZ_TEST, fuzzTarget, mutated } from './fuzz.js';

const fuzz = fuzzTarget('shipped-profiles');
const loaded = await loadProfiles([SHIPPED_PROFILES_DIR]);

test('the shipped profiles load without a problem', () => {
  assert.deepEqual(loaded.problems.map((p) => p.toLine()), []);
  assert.ok(loaded.profiles.size >= 13, `${loaded.profiles.size} profiles`);
});

const finite = (v: SampleValue): boolean => typeof v === 'boolean' || (typeof v === 'number' ? Number.isFinite(v) : v.every(Number.isFinite));

function checkDecode(profile: Profile, out: ProfileDecode, length: number): void {
  const units = new Map(profile.channels.map((c) => [c.name, c.unit]));
  for (const s of out.samples) {
    assert.equal(s.unit, units.get(s.channel), `sample of '${s.channel}', which the profile ${units.has(s.channel) ? 'gives another unit' : 'does not declare'}`);
    assert.ok(finite(s.value), `${s.channel} = ${String(s.value)}`);
    assert.ok(Number.isInteger(s.row) && s.row >= -1 && s.row < Math.max(out.rows, 1), `row ${s.row} of ${out.rows}`);
  }
  for (const e of out.errors) assertIssue(e, ['DECODE', 'LINE'], length);
  if (out.deviceTimes) for (const t of out.deviceTimes) assert.ok(t === undefined || Number.isFinite(t), `device time ${String(t)}`);
  if (out.skipped) assert.equal(out.samples.length, 0);
}

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
const context: fc.Arbitrary<DecodeContext> = fc.record({ key: fc.uint8Array({ minLength: 16, maxLength: 16 }), address: mac }, { requiredKeys: [] });

for (const profile of loaded.profiles.values()) {
  const examples = profile.examples.map((ex) => ({ bytes: exampleInput(ex), source: ex.source?.toLowerCase().replace(/-/g, '') ?? profile.sources[0]! }));
  const source = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...profile.sources) }, { weight: 1, arbitrary: fc.constantFrom('ffff', 'line', 'advert') });
  const packet = fc.oneof(
    fc.tuple(fc.uint8Array({ maxLength: 120 }), source),
    fc.tuple(mutated(fc.constantFrom(...examples).map((e) => e.bytes)), source),
    fc.constantFrom(...examples).chain((e) => mutated(fc.constant(e.bytes)).map((b) => [b, e.source] as [Uint8Array, string])),
  );

  test(`${profile.id}: arbitrary and damaged packets from any source decode to declared channels or to problems`, FUZZ_TEST, async (t) => {
    await fuzz.check(t, fc.property(packet, context, packet, ([bytes, src], ctx, [other, otherSrc]) => {
      const first = profile.decode(bytes, src, ctx);
      checkDecode(profile, first, bytes.length);
      if (!profile.sources.includes(src)) assert.deepEqual(first.errors.map((e) => e.code), ['DECODE_UNKNOWN_SOURCE']);
      profile.decode(other, otherSrc, ctx);
      assert.deepEqual(profile.decode(bytes, src, ctx), first, 'a packet decoded after another gave another result');
    }), 700);
  });

  if (!profile.serial) continue;
  const framing = profile.serial.framing;
  /** A packet as the device puts it on the wire: its framing around it. */
  const onWire = (b: Uint8Array): number[] => {
    switch (framing.kind) {
      case 'lines': return [...b, 0x0d, 0x0a];
      case 'slip': return slip(b);
      case 'cobs': return cobs(b);
      case 'length-crc': return lengthCrc(b, {
        ...(framing.sync ? { sync: framing.sync } : {}), ...(framing.length ? { length: framing.length } : {}), ...(framing.crc ? { crc: framing.crc } : {}),
        ...(framing.crc_byte_order ? { crcByteOrder: framing.crc_byte_order } : {}), ...(framing.crc_over ? { crcOver: framing.crc_over } : {}),
      } as LengthCrcOptions);
    }
  };
  const part = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constantFrom(...examples).map((e) => Uint8Array.from(onWire(e.bytes))), mutated(fc.constantFrom(...examples).map((e) => Uint8Array.from(onWire(e.bytes)))));

  test(`${profile.id}: a byte stream cut anywhere gives the same samples and problems`, FUZZ_TEST, async (t) => {
    const read = (chunks: Uint8Array[]) => {
      const samples: Array<[string, SampleValue]> = [];
      const reader = new DeviceReader({
        profile,
        onSamples: (s) => {
          for (const x of s) {
            assert.ok(finite(x.value) && Number.isFinite(x.monoMs) && Number.isFinite(x.wallMs), JSON.stringify(x));
            samples.push([x.channel, x.value]);
          }
        },
      });
      // Arrival times all equal, so that timing cannot differ between cuttings.
      for (const c of chunks) reader.push({ bytes: c, monoMs: 1000, wallMs: 1.7e12 });
      reader.end();
      const { issues, samples: counted } = reader.stats();
      assert.equal(counted, samples.length);
      return { samples, issues };
    };
    await fuzz.check(t, fc.property(fc.array(part, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (parts, cuts) => {
      const stream = Uint8Array.from(parts.flatMap((p) => [...p]));
      const whole = read([stream]);
      assert.deepEqual(read(chunked(stream, cuts)), whole);
      // A stream of good packets only gives exactly their samples, in order.
      const packets = parts.map((p) => examples.find((e) => Buffer.from(onWire(e.bytes)).equals(p)));
      if (packets.every((e) => e !== undefined)) {
        assert.deepEqual(whole.samples, packets.flatMap((e) => profile.decode(e!.bytes, e!.source).samples.map((x) => [x.channel, x.value])));
      }
    }), 400);
  });
}

// BTHome v2 under hostile input: arbitrary service data with and without a bind key; packets
// encoded here from arbitrary objects of the specification's table (bthome.io/format), plain or
// sealed with AES-CCM as the encryption page describes (bthome.io/encryption), must decode to
// exactly the values put in; a sealed packet with any bit flipped after its first byte must be
// refused whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { BTHOME_OBJECTS, bthomeV2, type BthomeObject } from '../../src/profiles/decoders/bthome.js';
import { DECODE_ERRORS, isRejected, type DecodeContext, type DecodedValue } from '../../src/profiles/decoded.js';
import { assertIssue, flip, FUZZ_TEST, fuzzTarget } from './fuzz.js';

const fuzz = fuzzTarget('bthome-v2');
const decode = bthomeV2.compile({});
const strict = bthomeV2.compile({ require_encryption: true });

const macText = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
const key16 = fc.uint8Array({ minLength: 16, maxLength: 16 });

function checkShape(p: ReturnType<typeof decode>, bytes: Uint8Array): void {
  for (const [k, v] of Object.entries(p.values)) {
    if (typeof v === 'number') assert.ok(Number.isFinite(v), `${k} = ${v}`);
    if (Array.isArray(v)) assert.ok(v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255), k);
  }
  for (const e of p.errors) assertIssue(e, ['DECODE'], bytes.length);
  assert.deepEqual(p.rows, []);
}

test('arbitrary service data, with no key, a wrong-sized key or a real one, any address: a packet or a refusal', FUZZ_TEST, async (t) => {
  const ctx: fc.Arbitrary<DecodeContext | undefined> = fc.option(fc.record({
    key: fc.oneof(key16, fc.uint8Array({ maxLength: 40 })),
    address: fc.oneof(macText, macText.map((m) => m.toUpperCase().replace(/:/g, '-')), fc.string({ maxLength: 24 })),
  }, { requiredKeys: [] }), { nil: undefined });
  // Version 2 in the information byte most of the time, so that parsing gets past it.
  const data = fc.oneof(fc.uint8Array({ maxLength: 48 }), fc.tuple(fc.nat({ max: 31 }), fc.uint8Array({ maxLength: 48 })).map(([low, rest]) => Uint8Array.of(0x40 | low, ...rest)));
  await fuzz.check(t, fc.property(data, ctx, fc.boolean(), (bytes, context, requireEncryption) => {
    const p = (requireEncryption ? strict : decode)(bytes, context);
    checkShape(p, bytes);
    const info = bytes[0];
    const encrypted = info !== undefined && (info & 1) === 1;
    const hasKey = context?.key !== undefined;
    // A device with a key (or a profile requiring encryption) never gets a value from a plain packet.
    if (info !== undefined && !encrypted && (hasKey || requireEncryption)) assert.ok(isRejected(p), JSON.stringify(p));
    // An encrypted packet without a usable key and MAC is refused, never read as plain objects.
    if (encrypted && !(context?.key instanceof Uint8Array && context.key.length === 16)) assert.ok(isRejected(p), JSON.stringify(p));
  }), 4000);
});

// ---- The encoder: objects from the specification's table, values chosen at random ----

interface Encoded {
  readonly bytes: number[];
  /** What the decoder must give: a value, or undefined for one it must drop with DECODE_INVALID. */
  readonly value: DecodedValue | undefined;
  readonly args?: number[];
}

const OBJECTS = [...BTHOME_OBJECTS.values()];
const BUTTON_EVENTS = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x80];

const le = (v: bigint, n: number): number[] => Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));

/** The value of `raw` at the specification's factor, by decimal string parsing (one correct rounding). */
function atFactor(raw: bigint, factor: string): number {
  const [whole = '', fraction = ''] = factor.split('.');
  return Number(`${raw * BigInt(whole + fraction)}e-${fraction.length}`);
}

function objectValue(o: BthomeObject): fc.Arbitrary<Encoded> {
  switch (o.kind) {
    case 'uint':
    case 'sint': {
      const bits = 8 * o.size;
      const range = o.kind === 'uint' ? fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }) : fc.bigInt({ min: -(1n << BigInt(bits - 1)), max: (1n << BigInt(bits - 1)) - 1n });
      return range.map((raw) => ({ bytes: le(BigInt.asUintN(bits, raw), o.size), value: atFactor(raw, o.factor) }));
    }
    case 'binary':
      return fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 2, max: 255 })).map((b) => ({ bytes: [b], value: b <= 1 ? b === 1 : undefined }));
    case 'button':
      return fc.oneof(fc.constantFrom(...BUTTON_EVENTS), fc.nat({ max: 255 })).map((e) => ({ bytes: [e], value: BUTTON_EVENTS.includes(e) ? e : undefined }));
    case 'dimmer':
      return fc.tuple(fc.oneof(fc.constantFrom(0, 1, 2), fc.nat({ max: 255 })), fc.nat({ max: 255 })).map(([e, steps]) => ({
        bytes: [e, steps], value: e === 0 ? 0 : e === 1 ? (steps === 0 ? 0 : -steps) : e === 2 ? steps : undefined,
      }));
    case 'command':
      return fc.tuple(fc.nat({ max: 7 }), fc.nat({ max: 255 }), fc.uint8Array({ maxLength: 31 })).map(([reserved, op, args]) => ({
        bytes: [(reserved << 5) | args.length, op, ...args], value: op, ...(args.length > 0 ? { args: Array.from(args) } : {}),
      }));
    case 'text':
      return fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => Buffer.from(s, 'utf8')).filter((b) => b.length <= 255).map((b) => ({ bytes: [b.length, ...b], value: b.toString('utf8') })),
        fc.uint8Array({ maxLength: 20 }).map((b) => {
          let text: string | undefined;
          try { text = new TextDecoder('utf-8', { fatal: true }).decode(b); } catch { text = undefined; }
          return { bytes: [b.length, ...b], value: text };
        }),
      );
    case 'raw':
      return fc.uint8Array({ maxLength: 40 }).map((b) => ({ bytes: [b.length, ...b], value: Buffer.from(b).toString('hex') }));
    case 'version':
      return fc.uint8Array({ minLength: o.size, maxLength: o.size }).map((b) => ({ bytes: [...b], value: [...b].reverse().join('.') }));
  }
}

const anObject = fc.constantFrom(...OBJECTS).chain((o) => objectValue(o).map((v) => ({ o, ...v })));
const unknownId = fc.nat({ max: 255 }).filter((id) => !BTHOME_OBJECTS.has(id));

/** The values and the dropped-value problems a list of objects must decode to (the format's naming: name, name_2, ...). */
function expected(objects: ReadonlyArray<{ o: BthomeObject } & Encoded>): { values: Record<string, DecodedValue>; dropped: string[] } {
  const values: Record<string, DecodedValue> = {};
  const dropped: string[] = [];
  const count = new Map<string, number>();
  for (const { o, value, args } of objects) {
    const n = (count.get(o.name) ?? 0) + 1;
    count.set(o.name, n);
    const suffix = n === 1 ? '' : `_${n}`;
    if (value === undefined) dropped.push(o.name + suffix);
    else values[o.name + suffix] = value;
    if (args) values[`command_args${suffix}`] = args;
  }
  return { values, dropped };
}

/** Service data as a device sends it: information byte, [MAC reversed], objects or sealed objects, [counter, MIC]. */
function servicePacket(objects: number[], o: { trigger: boolean; macInPacket?: Uint8Array; seal?: { key: Uint8Array; mac: Uint8Array; counter: number } }): Uint8Array {
  const info = 0x40 | (o.trigger ? 0x04 : 0) | (o.macInPacket ? 0x02 : 0) | (o.seal ? 0x01 : 0);
  const head = [info, ...(o.macInPacket ? [...o.macInPacket].reverse() : [])];
  if (!o.seal) return Uint8Array.from([...head, ...objects]);
  const counter = le(BigInt(o.seal.counter), 4);
  // Nonce: MAC, the UUID 0xFCD2 little endian, the information byte, the counter as sent.
  const nonce = Uint8Array.from([...o.seal.mac, 0xd2, 0xfc, info, ...counter]);
  const cipher = createCipheriv('aes-128-ccm', o.seal.key, nonce, { authTagLength: 4 });
  const sealed = Buffer.concat([cipher.update(Uint8Array.from(objects)), cipher.final()]);
  return Uint8Array.from([...head, ...sealed, ...counter, ...cipher.getAuthTag()]);
}

const scenario = fc.record({
  objects: fc.array(anObject, { maxLength: 10 }),
  tail: fc.option(fc.tuple(unknownId, fc.uint8Array({ maxLength: 6 })), { nil: undefined }),
  trigger: fc.boolean(),
  macInPacket: fc.option(fc.uint8Array({ minLength: 6, maxLength: 6 }), { nil: undefined }),
  encrypted: fc.boolean(),
  key: key16,
  mac: fc.uint8Array({ minLength: 6, maxLength: 6 }),
  counter: fc.nat({ max: 0xffffffff }),
});

test('round trip: any objects, plain or sealed, with or without the MAC in the packet, decode to their values', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(scenario, (s) => {
    const plain = s.objects.flatMap((x) => [x.o.id, ...x.bytes]);
    const objects = s.tail ? [...plain, s.tail[0], ...s.tail[1]] : plain;
    const nonceMac = s.macInPacket ?? s.mac;
    const bytes = servicePacket(objects, { trigger: s.trigger, ...(s.macInPacket ? { macInPacket: s.macInPacket } : {}), ...(s.encrypted ? { seal: { key: s.key, mac: nonceMac, counter: s.counter } } : {}) });
    const context: DecodeContext = s.encrypted ? { key: s.key, address: Array.from(s.mac, (b) => b.toString(16).padStart(2, '0')).join(':') } : {};
    const p = decode(bytes, context);
    checkShape(p, bytes);

    const want = expected(s.objects);
    const packetValues: Record<string, DecodedValue> = { trigger_based: s.trigger };
    if (s.encrypted) packetValues.counter = s.counter;
    if (s.macInPacket) packetValues.mac = Array.from(s.macInPacket, (b) => b.toString(16).padStart(2, '0')).join(':');
    assert.deepEqual(p.values, { ...want.values, ...packetValues });
    const invalid = p.errors.filter((e) => e.code === DECODE_ERRORS.INVALID);
    assert.equal(invalid.length, p.errors.length, JSON.stringify(p.errors));
    assert.deepEqual(invalid.filter((e) => e.field !== undefined).map((e) => e.field), want.dropped);
    // An unknown id ends the packet with one problem naming its byte.
    const unknown = invalid.filter((e) => e.field === undefined);
    assert.equal(unknown.length, s.tail ? 1 : 0);
    if (s.tail) assert.equal(unknown[0]!.byteOffset, (s.macInPacket ? 7 : 1) + plain.length);
  }), 2500);
});

test('a sealed packet with one bit flipped anywhere after its information byte is refused whole', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(scenario, fc.nat(), (s, bitSeed) => {
    const objects = s.objects.flatMap((x) => [x.o.id, ...x.bytes]);
    const bytes = servicePacket(objects, { trigger: s.trigger, seal: { key: s.key, mac: s.mac, counter: s.counter } });
    const bit = 8 + (bitSeed % ((bytes.length - 1) * 8));
    const p = decode(flip(bytes, bit), { key: s.key, address: Array.from(s.mac, (b) => b.toString(16).padStart(2, '0')).join(':') });
    assert.ok(isRejected(p), `bit ${bit}: ${JSON.stringify(p)}`);
    assert.equal(p.errors[0]!.code, DECODE_ERRORS.INVALID);
  }), 1500);
});

test('a packet cut inside an object is refused as short; cut at an object boundary it keeps what came before', FUZZ_TEST, async (t) => {
  await fuzz.check(t, fc.property(fc.array(anObject, { minLength: 1, maxLength: 6 }), fc.nat(), (objects, cutSeed) => {
    const plain = objects.flatMap((x) => [x.o.id, ...x.bytes]);
    const cut = cutSeed % plain.length;
    const bytes = Uint8Array.from([0x40, ...plain.slice(0, cut)]);
    const p = decode(bytes);
    let boundary = 0;
    const whole: typeof objects = [];
    for (const x of objects) {
      if (boundary + 1 + x.bytes.length > cut) break;
      boundary += 1 + x.bytes.length;
      whole.push(x);
    }
    if (boundary === cut) assert.deepEqual(p.values, { ...expected(whole).values, trigger_based: false });
    else {
      assert.ok(isRejected(p), `cut at ${cut} of ${plain.length}: ${JSON.stringify(p)}`);
      assert.equal(p.errors[0]!.code, DECODE_ERRORS.SHORT);
    }
  }), 1500);
});

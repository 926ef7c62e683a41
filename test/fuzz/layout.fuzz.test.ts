// Declarative binary layouts, the decoder behind most profiles that need no code, under hostile
// input twice over: arbitrary layouts (plausible shapes with wrong values mixed in) must compile
// or be refused with a LayoutOptionError, the one error the profile loader turns into a placed
// problem; compiled layouts must take any bytes, give only the fields they describe, with finite
// values, and give the same result for a packet whatever packet came before (the decoder reuses
// its scratch state). Layouts of plain number fields, with bytes encoded here from arbitrary raw
// values in each type and byte order, must decode to raw x scale + offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileLayout, describeLayout, LayoutOptionError } from '../../src/profiles/layout/layout.js';
import type { DecodedPacket, DecodedValue } from '../../src/profiles/decoded.js';
import { assertIssue, ENGINE_MESSAGE, FUZZ_TEST, fuzzTarget } from './fuzz.js';

const fuzz = fuzzTarget('layout');

const NAMES = ['a', 'b', 'c', 'flags', 'n', 'hr', 'x_1'];
const name = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.constantFrom('', 'A', '1a', 'a-b', 'x'.repeat(65), 7 as never) });
const TYPES = ['u8', 'i8', 'u16', 'i16', 'u24', 'i24', 'u32', 'i32', 'f32', 'f64', 'sfloat', 'float'] as const;
const junk = fc.oneof(fc.constant(null), fc.boolean(), fc.string({ maxLength: 4 }), fc.double(), fc.array(fc.nat({ max: 40 }), { maxLength: 3 }));
/** Absent `absent` times in `absent + 1`, else present (now and then as junk). */
const sometimes = <T>(a: fc.Arbitrary<T>, absent: number) => fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });
const maybe = <T>(a: fc.Arbitrary<T>) => sometimes(fc.oneof({ weight: 9, arbitrary: a }, { weight: 1, arbitrary: junk }), 1);

const condition = fc.oneof(
  fc.record({ field: name, bit: fc.integer({ min: -1, max: 33 }), is: maybe(fc.constantFrom('set', 'clear')) }, { requiredKeys: ['field', 'bit'] }),
  fc.record({ field: name, equals: fc.oneof(fc.integer({ min: -2, max: 300 }), fc.integer()) }),
  fc.record({ field: name, bit: fc.nat({ max: 8 }), equals: fc.nat({ max: 3 }) }),
  junk,
);
const numberField = fc.record({
  name, type: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: fc.constantFrom('u64', 'U8', 'int') }),
  endian: maybe(fc.constantFrom('little', 'big')), scale: maybe(fc.oneof(fc.constantFrom(0, 1, -1, 0.001, 1e308, 1e-320), fc.double({ noNaN: true }))),
  offset: maybe(fc.oneof(fc.constantFrom(0, -273.15, 1e308), fc.double({ noNaN: true }))), when: sometimes(condition, 3),
  repeat: maybe(fc.oneof(fc.constant('tail'), fc.integer({ min: 0, max: 6 }), fc.constant(4097))), expect: maybe(fc.integer({ min: -3, max: 300 })),
}, { requiredKeys: ['name', 'type'] });
const skipField = fc.record({ type: fc.constant('skip'), bytes: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(4097), junk), name: maybe(name), when: sometimes(condition, 3) }, { requiredKeys: ['type', 'bytes'] });
const bitsField = fc.record({
  name, type: fc.constant('bits'), of: name, bits: fc.oneof(fc.integer({ min: -1, max: 33 }), fc.tuple(fc.integer({ min: -1, max: 33 }), fc.integer({ min: -1, max: 33 })), junk),
  as: maybe(fc.constantFrom('uint', 'boolean')), scale: maybe(fc.constantFrom(0, 2, 0.5)), offset: maybe(fc.constantFrom(0, 1)), when: sometimes(condition, 4),
}, { requiredKeys: ['name', 'type', 'of', 'bits'] });
const item = fc.oneof({ weight: 5, arbitrary: numberField }, { weight: 2, arbitrary: skipField }, { weight: 2, arbitrary: bitsField });
const group = fc.record({ type: fc.constant('group'), repeat: fc.oneof(fc.constant('tail'), fc.integer({ min: 0, max: 5 }), junk), fields: fc.oneof(fc.array(item, { maxLength: 4 }), junk), name: maybe(name) }, { requiredKeys: ['type', 'repeat', 'fields'] });
const layout = fc.record({
  endian: maybe(fc.constantFrom('little', 'big')), trailing: maybe(fc.constantFrom('reject', 'ignore')),
  fields: fc.oneof({ weight: 9, arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: item }, { weight: 1, arbitrary: group }), { minLength: 1, maxLength: 6 }) }, { weight: 1, arbitrary: junk }),
  extra: sometimes(fc.constant(1), 30),
}, { requiredKeys: ['fields'] });

/**
 * Layouts that follow the rules (names once, references to earlier integer fields, bits within
 * them, tail only last, one group): most compile, so the decoder itself gets the bytes.
 */
const INT_BITS: Record<string, number> = { u8: 8, i8: 8, u16: 16, i16: 16, u24: 24, i24: 24, u32: 32, i32: 32 };
const spec = fc.record({
  kind: fc.constantFrom('number', 'number', 'number', 'skip', 'bits'), type: fc.constantFrom(...TYPES, 'u8', 'u16', 'u8'),
  big: fc.boolean(), scaled: fc.oneof(fc.constant(undefined), fc.constantFrom(0.5, -2, 1e-3, 1e300)), ref: fc.nat(), lo: fc.nat(), span: fc.nat({ max: 31 }),
  when: fc.oneof(fc.constant(undefined), fc.record({ ref: fc.nat(), bit: fc.nat(), equals: fc.boolean(), clear: fc.boolean(), value: fc.nat({ max: 3 }) })),
  repeat: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('tail' as const, 1, 2, 3) }),
  expect: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat({ max: 2 }) }), bytes: fc.integer({ min: 1, max: 3 }), boolean: fc.boolean(),
});
type Spec = typeof spec extends fc.Arbitrary<infer S> ? S : never;
const soundLayout = fc.record({
  before: fc.array(spec, { maxLength: 5 }), inner: fc.array(spec, { maxLength: 4 }), after: fc.array(spec, { maxLength: 3 }),
  group: fc.oneof(fc.constant(undefined), fc.constantFrom('tail' as const, 1, 2, 4)), endian: fc.constantFrom('little', 'big'), trailing: fc.constantFrom('reject', 'ignore'),
}).map((g) => {
  let n = 0;
  const build = (specs: Spec[], outer: Array<{ name: string; bits: number }>, inGroup: boolean, lastList: boolean) => {
    const local: Array<{ name: string; bits: number }> = [];
    const out = specs.map((x, i) => {
      const refs = [...outer, ...local];
      const field: Record<string, unknown> = {};
      const isLast = lastList && i === specs.length - 1;
      if (x.when && refs.length > 0) {
        const r = refs[x.when.ref % refs.length]!;
        field.when = x.when.equals ? { field: r.name, equals: x.when.value } : { field: r.name, bit: x.when.bit % r.bits, ...(x.when.clear ? { is: 'clear' } : {}) };
      }
      const intRefs = refs.filter((r) => r.bits > 0 && !r.name.startsWith('bits'));
      if (x.kind === 'skip') return { ...field, type: 'skip', bytes: x.bytes };
      if (x.kind === 'bits' && intRefs.length > 0) {
        const r = intRefs[x.ref % intRefs.length]!;
        const lo = x.lo % r.bits;
        const hi = Math.min(r.bits - 1, lo + (x.span % 4));
        const fieldName = `bits${n++}`;
        local.push({ name: fieldName, bits: hi - lo + 1 });
        return { ...field, name: fieldName, type: 'bits', of: r.name, bits: lo === hi && x.boolean ? lo : [lo, hi], ...(lo === hi && x.boolean ? { as: 'boolean' } : {}) };
      }
      const fieldName = `f${n++}`;
      const bits = INT_BITS[x.type] ?? 0;
      const repeat = !inGroup && x.repeat !== undefined && (x.repeat !== 'tail' || isLast) ? x.repeat : undefined;
      if (bits > 0 && repeat === undefined) local.push({ name: fieldName, bits });
      return {
        ...field, name: fieldName, type: x.type, ...(x.big && x.type !== 'sfloat' && x.type !== 'float' ? { endian: 'big' } : {}),
        ...(x.scaled !== undefined ? { scale: x.scaled } : {}), ...(repeat !== undefined ? { repeat } : {}),
        ...(x.expect !== undefined && bits > 0 && repeat === undefined ? { expect: x.expect } : {}),
      };
    });
    return { fields: out, declared: local };
  };
  const before = build(g.before, [], false, g.group === undefined && g.after.length === 0);
  const fields: unknown[] = [...before.fields];
  if (g.group !== undefined && !(g.group === 'tail' && g.after.length > 0)) {
    const inner = build(g.inner, before.declared, true, false);
    // A row must always take bytes: one plain field first.
    fields.push({ type: 'group', repeat: g.group, fields: [{ name: `g${n++}`, type: 'u8' }, ...inner.fields] });
  }
  if (!(g.group === 'tail')) fields.push(...build(g.after, before.declared, false, true).fields);
  if (fields.length === 0) fields.push({ name: 'only', type: 'u8' });
  return { endian: g.endian, trailing: g.trailing, fields };
});

/** The options without the keys fast-check left undefined: a YAML file would not have them either. */
const plain = (o: unknown): unknown => JSON.parse(JSON.stringify(o)) as unknown;

function checkValue(v: DecodedValue, what: string): void {
  if (typeof v === 'number') assert.ok(Number.isFinite(v), `${what} = ${v}`);
  else if (Array.isArray(v)) assert.ok(v.every((x) => Number.isFinite(x)), `${what} = ${JSON.stringify(v)}`);
  else assert.equal(typeof v, 'boolean', `${what} is a ${typeof v}`);
}

function checkPacket(p: DecodedPacket, bytes: Uint8Array, names: { values: string[]; rows: string[] }): void {
  for (const [k, v] of Object.entries(p.values)) {
    assert.ok(names.values.includes(k), `value '${k}' is not among ${names.values.join(', ')}`);
    checkValue(v, k);
  }
  for (const row of p.rows) {
    for (const [k, v] of Object.entries(row as Record<string, DecodedValue>)) {
      assert.ok(names.rows.includes(k), `row field '${k}' is not among ${names.rows.join(', ')}`);
      checkValue(v, k);
    }
  }
  for (const e of p.errors) assertIssue(e, ['DECODE'], bytes.length);
  // Every row takes at least one byte.
  assert.ok(p.rows.length <= Math.max(bytes.length, 5), `${p.rows.length} rows from ${bytes.length} bytes`);
}

test('any layout compiles or is refused with a LayoutOptionError; compiled ones take any bytes, the same way every time', FUZZ_TEST, async (t) => {
  const anyLayout = fc.oneof({ weight: 2, arbitrary: soundLayout }, { weight: 1, arbitrary: layout });
  await fuzz.check(t, fc.property(anyLayout, fc.array(fc.uint8Array({ maxLength: 48 }), { minLength: 1, maxLength: 4 }), (raw, packets) => {
    const options = plain(raw);
    let decode: ReturnType<typeof compileLayout>;
    let names: ReturnType<typeof describeLayout>;
    try {
      decode = compileLayout(options);
      names = describeLayout(options);
    } catch (e) {
      assert.ok(e instanceof LayoutOptionError, `not a LayoutOptionError: ${e instanceof Error ? e.stack : String(e)}`);
      assert.doesNotMatch(e.message, ENGINE_MESSAGE);
      // The path leads to a place in the options (the loader turns it into a line).
      let at: unknown = options;
      for (const k of e.path.slice(0, -1)) {
        assert.ok(at !== null && typeof at === 'object', `path ${JSON.stringify(e.path)} goes through a scalar`);
        at = (at as Record<string | number, unknown>)[k];
      }
      return;
    }
    const first = packets.map((b) => decode(b));
    first.forEach((p, i) => checkPacket(p, packets[i]!, names));
    // Decoded again in reverse order: a packet's result never depends on the one before.
    const again = packets.map((_, i) => packets.length - 1 - i).map((i) => decode(packets[i]!));
    assert.deepEqual(again.reverse(), first);
  }), 3000);
});

// ---- Round trip ----

const WIDTH = { u8: 1, i8: 1, u16: 2, i16: 2, u24: 3, i24: 3, u32: 4, i32: 4, f32: 4, f64: 8 } as const;
type Plain = keyof typeof WIDTH;

/** A raw value of the type and its bytes in the byte order, written with DataView and BigInt, not the decoder's readers. */
const fieldValue = (type: Plain): fc.Arbitrary<{ raw: number; bytes: (little: boolean) => number[] }> => {
  const w = WIDTH[type];
  const encode = (write: (v: DataView, little: boolean) => void) => (little: boolean) => {
    const v = new DataView(new ArrayBuffer(8));
    write(v, little);
    return [...new Uint8Array(v.buffer, 0, w)];
  };
  if (type === 'f32') return fc.float({ noNaN: true, noDefaultInfinity: true }).map((raw) => ({ raw, bytes: encode((v, l) => v.setFloat32(0, raw, l)) }));
  if (type === 'f64') return fc.double({ noNaN: true, noDefaultInfinity: true }).map((raw) => ({ raw, bytes: encode((v, l) => v.setFloat64(0, raw, l)) }));
  const signed = type.startsWith('i');
  const bits = BigInt(8 * w);
  const range = signed ? fc.bigInt({ min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n }) : fc.bigInt({ min: 0n, max: (1n << bits) - 1n });
  return range.map((r) => ({
    raw: Number(r),
    bytes: (little: boolean) => {
      const u = BigInt.asUintN(8 * w, r);
      const le = Array.from({ length: w }, (_, i) => Number((u >> BigInt(8 * i)) & 0xffn));
      return little ? le : le.reverse();
    },
  }));
};

test('round trip: plain number fields in any type and byte order decode to raw x scale + offset', FUZZ_TEST, async (t) => {
  const field = fc.constantFrom(...(Object.keys(WIDTH) as Plain[])).chain((type) => fc.record({
    type: fc.constant(type), value: fieldValue(type), big: fc.boolean(),
    scale: fc.oneof(fc.constant(1), fc.constantFrom(0.001, 0.1, 2, -1, 0.0001220703125), fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((x) => x !== 0)),
    offset: fc.oneof(fc.constant(0), fc.constantFrom(-273.15, 32, 1e-3)),
  }));
  await fuzz.check(t, fc.property(fc.array(field, { minLength: 1, maxLength: 8 }), fc.boolean(), (fields, layoutBig) => {
    const options = {
      endian: layoutBig ? 'big' : 'little',
      fields: fields.map((f, i) => ({ name: `f${i}`, type: f.type, endian: f.big ? 'big' : 'little', ...(f.scale !== 1 ? { scale: f.scale } : {}), ...(f.offset !== 0 ? { offset: f.offset } : {}) })),
    };
    const bytes = Uint8Array.from(fields.flatMap((f) => f.value.bytes(!f.big)));
    const p = compileLayout(options)(bytes);
    const want: Record<string, number> = {};
    const dropped: string[] = [];
    fields.forEach((f, i) => {
      // Object.is-safe: raw -0 stays -0 only when neither scale nor offset is applied.
      const v = f.scale === 1 && f.offset === 0 ? f.value.raw : f.value.raw * f.scale + f.offset;
      if (Number.isFinite(v)) want[`f${i}`] = v;
      else dropped.push(`f${i}`);
    });
    assert.deepEqual(p.values, want);
    assert.deepEqual(p.errors.map((e) => [e.code, e.field]), dropped.map((n) => ['DECODE_OUT_OF_RANGE', n]));
    // One byte short anywhere is a rejection; one byte more too.
    assert.equal(compileLayout(options)(bytes.subarray(0, bytes.length - 1)).errors[0]?.code, 'DECODE_SHORT');
    assert.equal(compileLayout(options)(Uint8Array.from([...bytes, 0])).errors[0]?.code, 'DECODE_TRAILING');
  }), 2000);
});

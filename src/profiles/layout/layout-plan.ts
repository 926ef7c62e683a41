/**
 * The compile-time half of the layout compiler: it checks a layout's options (plain data parsed
 * from YAML, so anything at all) and turns them into a flat list of steps that layout.ts runs per
 * packet. Every rule is checked here, once, so that the per-packet code needs no checks of its
 * own beyond the packet's length.
 *
 * A bad option throws a LayoutOptionError whose `path` leads from the layout object to the value
 * at fault (['fields', 2, 'when', 'field']): the profile loader turns it into a file and line, so
 * the path points at the value to change, not at its parent.
 */

export type LayoutPath = (string | number)[];

export type LayoutIntegerType = 'u8' | 'i8' | 'u16' | 'i16' | 'u24' | 'i24' | 'u32' | 'i32';
export type LayoutNumberType = LayoutIntegerType | 'f32' | 'f64' | 'sfloat' | 'float';
export type LayoutEndian = 'little' | 'big';
export type LayoutRepeat = 'tail' | number;

/** A condition on the raw (unscaled) value of an earlier integer or bits field. */
export type LayoutCondition =
  | { readonly field: string; readonly bit: number; readonly is?: 'set' | 'clear' }
  | { readonly field: string; readonly equals: number };

export interface LayoutNumberField {
  readonly name: string;
  readonly type: LayoutNumberType;
  readonly endian?: LayoutEndian;
  readonly scale?: number;
  readonly offset?: number;
  readonly when?: LayoutCondition;
  readonly repeat?: LayoutRepeat;
  readonly expect?: number;
}

export interface LayoutSkipField {
  readonly type: 'skip';
  readonly bytes: number;
  readonly name?: string;
  readonly when?: LayoutCondition;
}

export interface LayoutBitsField {
  readonly name: string;
  readonly type: 'bits';
  readonly of: string;
  readonly bits: number | readonly [number, number];
  readonly as?: 'uint' | 'boolean';
  readonly scale?: number;
  readonly offset?: number;
  readonly when?: LayoutCondition;
}

export type LayoutGroupItem = LayoutNumberField | LayoutSkipField | LayoutBitsField;

export interface LayoutGroupField {
  readonly type: 'group';
  readonly repeat: LayoutRepeat;
  readonly fields: readonly LayoutGroupItem[];
  readonly name?: string;
}

export type LayoutField = LayoutGroupItem | LayoutGroupField;

export interface LayoutOptions {
  readonly endian?: LayoutEndian;
  readonly trailing?: 'reject' | 'ignore';
  readonly fields: readonly LayoutField[];
}

/** A layout option that breaks a rule. `path` leads from the layout object to the value at fault. */
export class LayoutOptionError extends TypeError {
  readonly path: LayoutPath;
  constructor(path: LayoutPath, expected: string) {
    super(`${formatPath(path)}: ${expected}`);
    this.name = 'LayoutOptionError';
    this.path = [...path];
  }
}

/** 'fields[2].when.field', as a person would write it; 'layout' for the options object itself. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? 'layout' : out;
}

// ---- What the runtime executes ----

/** What a step does with the bytes. */
export const OP = { INT: 0, SFLOAT: 1, FLOAT: 2, F32: 3, F64: 4, SKIP: 5, BITS: 6 } as const;

/** How an integer is read: one code per type and byte order, so the reader is one switch. */
export const INT_READER = {
  U8: 0, I8: 1,
  U16LE: 2, U16BE: 3, I16LE: 4, I16BE: 5,
  U24LE: 6, U24BE: 7, I24LE: 8, I24BE: 9,
  U32LE: 10, U32BE: 11, I32LE: 12, I32BE: 13,
} as const;

/** repeat: the step reads as many elements as the packet holds. */
export const REPEAT_TAIL = -1;

/**
 * One item of the layout, ready to run. Every step has every property (same shape for all), so
 * the per-packet loop stays monomorphic; the ones a kind does not use keep neutral values.
 */
export class Step {
  /** Scratch slot holding this step's raw value per packet, or -1: only fields something refers to get one. */
  slot = -1;
  readonly op: number;
  /** The value's key; '' for a skip without a name. */
  readonly name: string;
  /** How a message names it: "field 'hr' (u16)", "skip 'reserved'", "skip fields[3]". */
  readonly label: string;
  readonly type: string;
  /** Bytes one read takes (a skip: its byte count; bits: 0). */
  readonly width: number;
  readonly reader: number;
  readonly littleEndian: boolean;
  readonly scale: number;
  readonly offset: number;
  /** scale 1 and offset 0: the raw value is the value, and needs no finiteness check. */
  readonly identity: boolean;
  readonly hasExpect: boolean;
  readonly expect: number;
  /** 0: read once; n > 0: n times; REPEAT_TAIL: to the end. */
  readonly repeat: number;
  /** Slot of the condition's field, or -1 for an unconditional step. */
  readonly whenSlot: number;
  /** The condition's bit, or -1 for an `equals` condition. */
  readonly whenBit: number;
  /** 1 (set) or 0 (clear) for a bit condition; the value for `equals`. */
  readonly whenWant: number;
  readonly ofSlot: number;
  readonly lo: number;
  readonly mask: number;
  readonly asBoolean: boolean;

  constructor(p: StepInit) {
    this.op = p.op;
    this.name = p.name;
    this.label = p.label;
    this.type = p.type;
    this.width = p.width;
    this.reader = p.reader ?? 0;
    this.littleEndian = p.littleEndian ?? true;
    this.scale = p.scale ?? 1;
    this.offset = p.offset ?? 0;
    this.identity = this.scale === 1 && this.offset === 0;
    this.hasExpect = p.expect !== undefined;
    this.expect = p.expect ?? 0;
    this.repeat = p.repeat ?? 0;
    this.whenSlot = p.when?.slot ?? -1;
    this.whenBit = p.when?.bit ?? -1;
    this.whenWant = p.when?.want ?? 0;
    this.ofSlot = p.ofSlot ?? -1;
    this.lo = p.lo ?? 0;
    this.mask = p.mask ?? 0;
    this.asBoolean = p.asBoolean ?? false;
  }
}

interface StepInit {
  op: number; name: string; label: string; type: string; width: number;
  reader?: number; littleEndian?: boolean; scale?: number; offset?: number; expect?: number | undefined;
  repeat?: number; when?: ResolvedCondition | undefined; ofSlot?: number; lo?: number; mask?: number; asBoolean?: boolean;
}

interface ResolvedCondition { slot: number; bit: number; want: number }

export interface GroupPlan {
  /** "group 'samples'" or "the group (fields[3])", for messages. */
  readonly label: string;
  /** Iterations, or REPEAT_TAIL. */
  readonly repeat: number;
  readonly steps: readonly Step[];
  /** Bytes every row takes, or -1 when a condition on a byte-taking field makes rows vary. */
  readonly rowBytes: number;
  /** Slots of group fields, cleared before each row so that a row never sees the previous row's values. */
  readonly slots: readonly number[];
}

export interface LayoutPlan {
  readonly before: readonly Step[];
  readonly group: GroupPlan | undefined;
  readonly after: readonly Step[];
  readonly slotCount: number;
  readonly trailingReject: boolean;
  /** Names of the per-packet values, in layout order. */
  readonly values: readonly string[];
  /** Names of the per-row values (the group's), in layout order. */
  readonly rows: readonly string[];
}

// ---- The rules ----

interface NumberTypeInfo { readonly width: number; readonly integer: boolean; readonly signed: boolean; readonly op: number }

const NUMBER_TYPES: Readonly<Record<LayoutNumberType, NumberTypeInfo>> = {
  u8: { width: 1, integer: true, signed: false, op: OP.INT },
  i8: { width: 1, integer: true, signed: true, op: OP.INT },
  u16: { width: 2, integer: true, signed: false, op: OP.INT },
  i16: { width: 2, integer: true, signed: true, op: OP.INT },
  u24: { width: 3, integer: true, signed: false, op: OP.INT },
  i24: { width: 3, integer: true, signed: true, op: OP.INT },
  u32: { width: 4, integer: true, signed: false, op: OP.INT },
  i32: { width: 4, integer: true, signed: true, op: OP.INT },
  f32: { width: 4, integer: false, signed: true, op: OP.F32 },
  f64: { width: 8, integer: false, signed: true, op: OP.F64 },
  sfloat: { width: 2, integer: false, signed: true, op: OP.SFLOAT },
  float: { width: 4, integer: false, signed: true, op: OP.FLOAT },
};
const NUMBER_TYPE_NAMES = Object.keys(NUMBER_TYPES) as LayoutNumberType[];
const ITEM_TYPES = [...NUMBER_TYPE_NAMES, 'skip', 'bits', 'group'];
const GROUP_ITEM_TYPES = [...NUMBER_TYPE_NAMES, 'skip', 'bits'];

const INT_READERS: Readonly<Record<LayoutIntegerType, readonly [little: number, big: number]>> = {
  u8: [INT_READER.U8, INT_READER.U8],
  i8: [INT_READER.I8, INT_READER.I8],
  u16: [INT_READER.U16LE, INT_READER.U16BE],
  i16: [INT_READER.I16LE, INT_READER.I16BE],
  u24: [INT_READER.U24LE, INT_READER.U24BE],
  i24: [INT_READER.I24LE, INT_READER.I24BE],
  u32: [INT_READER.U32LE, INT_READER.U32BE],
  i32: [INT_READER.I32LE, INT_READER.I32BE],
};

const LAYOUT_KEYS = ['endian', 'trailing', 'fields'];
const NUMBER_KEYS = ['name', 'type', 'endian', 'scale', 'offset', 'when', 'repeat', 'expect'];
const SKIP_KEYS = ['type', 'bytes', 'name', 'when'];
const BITS_KEYS = ['name', 'type', 'of', 'bits', 'as', 'scale', 'offset', 'when'];
const GROUP_KEYS = ['type', 'repeat', 'fields', 'name'];
const WHEN_KEYS = ['field', 'bit', 'is', 'equals'];

const NAME = /^[a-z][a-z0-9_]*$/;
const MAX_NAME = 64;
const MAX_REPEAT = 4096;
const MAX_SKIP = 4096;
const EXPECTED_NAME = "a name of 1 to 64 characters: a lowercase letter, then lowercase letters, digits or '_'";

function fail(path: LayoutPath, expected: string): never {
  throw new LayoutOptionError(path, expected);
}

/** A value as a message shows what was found. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function has(o: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(o, key) && o[key] !== undefined;
}

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], path: LayoutPath, what: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) fail([...path, key], `unknown key '${key}' for ${what} (a typo, or not in this version); expected one of ${allowed.join(', ')}`);
  }
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: LayoutPath): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) fail(path, `expected one of ${allowed.join(', ')}, got ${shown(value)}`);
  return value as T;
}

function integerIn(value: unknown, min: number, max: number, path: LayoutPath, what = 'an integer'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `expected ${what} from ${min} to ${max}, got ${shown(value)}`);
  }
  return value;
}

function finite(value: unknown, path: LayoutPath): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, `expected a finite number, got ${shown(value)}`);
  return value;
}

function repeatOption(value: unknown, path: LayoutPath): number {
  if (value === 'tail') return REPEAT_TAIL;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_REPEAT) return value;
  return fail(path, `expected 'tail' or an integer from 1 to ${MAX_REPEAT}, got ${shown(value)}`);
}

/** A field a later field may refer to, as the rules need to know it. */
interface Declared {
  readonly path: LayoutPath;
  readonly kind: 'number' | 'skip' | 'bits' | 'group';
  readonly type: string;
  readonly step: Step | undefined;
  readonly inGroup: boolean;
  readonly repeated: boolean;
  /** Bits its raw value has (u16: 16, bits [1, 2]: 2); 0 for a field that cannot be referred to. */
  readonly bitWidth: number;
  readonly min: number;
  readonly max: number;
}

/** Range of an integer of `bits` bits, signed or not. */
function rangeOf(bits: number, signed: boolean): [number, number] {
  return signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}

/** Two's complement bit pattern in hex, padded to the field's width: 0x01, 0xfffe. */
export function hex(value: number, width: number): string {
  const pattern = value < 0 ? value + 2 ** (8 * width) : value;
  return `0x${pattern.toString(16).padStart(2 * width, '0')}`;
}

class Planner {
  private readonly declared = new Map<string, Declared>();
  /** Every name anywhere in the layout, found before the real pass: tells "later" from "unknown". */
  private readonly anywhere = new Map<string, LayoutPath>();
  private slotCount = 0;
  private readonly groupSlots: number[] = [];
  private layoutEndian: LayoutEndian = 'little';

  plan(options: unknown): LayoutPlan {
    if (!isMapping(options)) fail([], `expected a mapping with fields (and optionally endian, trailing), got ${shown(options)}`);
    checkKeys(options, LAYOUT_KEYS, [], 'a layout');
    if (has(options, 'endian')) this.layoutEndian = oneOf(options.endian, ['little', 'big'] as const, ['endian']);
    const trailing = has(options, 'trailing') ? oneOf(options.trailing, ['reject', 'ignore'] as const, ['trailing']) : 'reject';
    const fields = options.fields;
    if (!Array.isArray(fields) || fields.length === 0) fail(['fields'], `expected a non-empty list of fields, got ${shown(fields)}`);
    this.collectNames(fields);

    const before: Step[] = [];
    const after: Step[] = [];
    const values: string[] = [];
    const rows: string[] = [];
    let group: GroupPlan | undefined;
    let groupIndex = -1;
    for (let i = 0; i < fields.length; i++) {
      const path: LayoutPath = ['fields', i];
      const item: unknown = fields[i];
      const type = this.itemType(item, path, ITEM_TYPES);
      const o = item as Record<string, unknown>;
      if (type === 'group') {
        if (group !== undefined) fail([...path, 'type'], `expected at most one group in a layout; fields[${groupIndex}] is one already`);
        group = this.group(o, path, rows);
        groupIndex = i;
        if (group.repeat === REPEAT_TAIL) this.checkTailLast(i, fields.length, [...path, 'repeat'], 'group');
        continue;
      }
      const step = this.item(o, type, path, false);
      (group === undefined ? before : after).push(step);
      if (step.op !== OP.SKIP) values.push(step.name);
      if (step.repeat === REPEAT_TAIL) this.checkTailLast(i, fields.length, [...path, 'repeat'], 'field');
    }
    return { before, group, after, slotCount: this.slotCount, trailingReject: trailing === 'reject', values, rows };
  }

  private checkTailLast(index: number, count: number, path: LayoutPath, what: string): void {
    if (index !== count - 1) {
      fail(path, `expected 'tail' only on the last item of fields: a ${what} repeated to the end of the packet leaves no bytes for fields[${index + 1}]; give it a count, or move it last`);
    }
  }

  /** First pass: where each name is, so that a reference to a later field is told apart from a typo. */
  private collectNames(fields: readonly unknown[]): void {
    fields.forEach((item, i) => {
      if (!isMapping(item)) return;
      if (typeof item.name === 'string' && !this.anywhere.has(item.name)) this.anywhere.set(item.name, ['fields', i]);
      if (item.type === 'group' && Array.isArray(item.fields)) {
        item.fields.forEach((inner: unknown, k) => {
          if (isMapping(inner) && typeof inner.name === 'string' && !this.anywhere.has(inner.name)) this.anywhere.set(inner.name, ['fields', i, 'fields', k]);
        });
      }
    });
  }

  private itemType(item: unknown, path: LayoutPath, allowed: readonly string[]): string {
    if (!isMapping(item)) fail(path, `expected a mapping (a field with at least a type), got ${shown(item)}`);
    if (!has(item, 'type')) fail([...path, 'type'], `expected one of ${allowed.join(', ')}, but it is missing`);
    if (item.type === 'group' && !allowed.includes('group')) fail([...path, 'type'], `expected one of ${allowed.join(', ')}: a group cannot hold another group`);
    return oneOf(item.type, allowed, [...path, 'type']);
  }

  private item(o: Record<string, unknown>, type: string, path: LayoutPath, inGroup: boolean): Step {
    if (type === 'skip') return this.skip(o, path, inGroup);
    if (type === 'bits') return this.bits(o, path, inGroup);
    return this.number(o, type as LayoutNumberType, path, inGroup);
  }

  private name(o: Record<string, unknown>, path: LayoutPath, required: boolean): string | undefined {
    if (!has(o, 'name')) {
      if (required) fail([...path, 'name'], `expected ${EXPECTED_NAME}, but it is missing`);
      return undefined;
    }
    const name = o.name;
    if (typeof name !== 'string' || name.length > MAX_NAME || !NAME.test(name)) fail([...path, 'name'], `expected ${EXPECTED_NAME}, got ${shown(name)}`);
    const earlier = this.declared.get(name);
    if (earlier !== undefined) fail([...path, 'name'], `expected a name used once in the layout: '${name}' is already the name of ${formatPath(earlier.path)}`);
    return name;
  }

  private declare(name: string | undefined, d: Declared): void {
    if (name !== undefined) this.declared.set(name, d);
  }

  private scaleAndOffset(o: Record<string, unknown>, path: LayoutPath): { scale: number; offset: number } {
    const scale = has(o, 'scale') ? finite(o.scale, [...path, 'scale']) : 1;
    if (scale === 0) fail([...path, 'scale'], 'expected a finite number other than 0 (a scale of 0 makes every value 0), got 0');
    const offset = has(o, 'offset') ? finite(o.offset, [...path, 'offset']) : 0;
    return { scale, offset };
  }

  private number(o: Record<string, unknown>, type: LayoutNumberType, path: LayoutPath, inGroup: boolean): Step {
    const info = NUMBER_TYPES[type];
    checkKeys(o, NUMBER_KEYS, path, `a ${type} field`);
    const name = this.name(o, path, true)!;
    let endian = this.layoutEndian;
    if (has(o, 'endian')) {
      endian = oneOf(o.endian, ['little', 'big'] as const, [...path, 'endian']);
      if (endian === 'big' && (type === 'sfloat' || type === 'float')) {
        fail([...path, 'endian'], `expected little or no endian: IEEE-11073 ${type.toUpperCase()} is always little-endian, as Bluetooth carries it`);
      }
    }
    if (type === 'sfloat' || type === 'float') endian = 'little';
    const { scale, offset } = this.scaleAndOffset(o, path);
    let repeat = 0;
    if (has(o, 'repeat')) {
      if (inGroup) fail([...path, 'repeat'], 'expected no repeat on a field inside a group: the group repeats (repeat the group, or move the field out of it)');
      repeat = repeatOption(o.repeat, [...path, 'repeat']);
    }
    const bitWidth = info.integer ? 8 * info.width : 0;
    const [min, max] = info.integer ? rangeOf(bitWidth, info.signed) : [0, 0];
    let expect: number | undefined;
    if (has(o, 'expect')) {
      if (!info.integer) fail([...path, 'expect'], `expected expect only on an integer field (u8 to i32); ${type} values are not compared exactly`);
      if (repeat !== 0) fail([...path, 'expect'], 'expected expect only on a field that is read once, not on a repeated field');
      expect = integerIn(o.expect, min, max, [...path, 'expect'], `an integer (the range of ${type})`);
    }
    const when = this.condition(o, path, inGroup);
    const step = new Step({
      op: info.op, name, label: `field '${name}' (${type})`, type, width: info.width,
      reader: info.integer ? INT_READERS[type as LayoutIntegerType][endian === 'little' ? 0 : 1] : 0,
      littleEndian: endian === 'little', scale, offset, expect, repeat, when,
    });
    this.declare(name, { path, kind: 'number', type, step, inGroup, repeated: repeat !== 0, bitWidth, min, max });
    return step;
  }

  private skip(o: Record<string, unknown>, path: LayoutPath, inGroup: boolean): Step {
    checkKeys(o, SKIP_KEYS, path, 'a skip');
    const name = this.name(o, path, false);
    if (!has(o, 'bytes')) fail([...path, 'bytes'], `expected an integer from 1 to ${MAX_SKIP}, but it is missing`);
    const bytes = integerIn(o.bytes, 1, MAX_SKIP, [...path, 'bytes']);
    const when = this.condition(o, path, inGroup);
    const label = name === undefined ? `skip ${formatPath(path)}` : `skip '${name}'`;
    this.declare(name, { path, kind: 'skip', type: 'skip', step: undefined, inGroup, repeated: false, bitWidth: 0, min: 0, max: 0 });
    return new Step({ op: OP.SKIP, name: name ?? '', label, type: 'skip', width: bytes, when });
  }

  private bits(o: Record<string, unknown>, path: LayoutPath, inGroup: boolean): Step {
    checkKeys(o, BITS_KEYS, path, 'a bits field');
    const name = this.name(o, path, true)!;
    if (!has(o, 'of')) fail([...path, 'of'], 'expected the name of an earlier integer field, but it is missing');
    const of = this.reference(o.of, [...path, 'of'], inGroup, 'bits');
    if (!has(o, 'bits')) fail([...path, 'bits'], 'expected a bit number or a range [lo, hi], but it is missing');
    const [lo, hi] = this.bitRange(o.bits, [...path, 'bits'], of);
    const as = has(o, 'as') ? oneOf(o.as, ['uint', 'boolean'] as const, [...path, 'as']) : 'uint';
    if (as === 'boolean') {
      if (lo !== hi) fail([...path, 'as'], `expected as: boolean only for a single bit; bits ${lo} to ${hi} are ${hi - lo + 1} bits (read them as uint)`);
      if (has(o, 'scale')) fail([...path, 'scale'], 'expected no scale on a boolean');
      if (has(o, 'offset')) fail([...path, 'offset'], 'expected no offset on a boolean');
    }
    const { scale, offset } = this.scaleAndOffset(o, path);
    const when = this.condition(o, path, inGroup);
    const width = hi - lo + 1;
    const step = new Step({
      op: OP.BITS, name, label: `field '${name}' (bits of ${of.name})`, type: 'bits', width: 0,
      scale, offset, when, ofSlot: this.slotOf(of.declared), lo, mask: width === 32 ? 0xffffffff : 2 ** width - 1, asBoolean: as === 'boolean',
    });
    const max = 2 ** width - 1;
    this.declare(name, { path, kind: 'bits', type: 'bits', step, inGroup, repeated: false, bitWidth: width, min: 0, max });
    return step;
  }

  private bitRange(value: unknown, path: LayoutPath, of: { name: string; declared: Declared }): [number, number] {
    let lo: number;
    let hi: number;
    if (typeof value === 'number') {
      lo = hi = integerIn(value, 0, 31, path, 'a bit number');
    } else if (Array.isArray(value)) {
      if (value.length !== 2) fail(path, `expected a bit number or a range [lo, hi] of two bit numbers, got a list of ${value.length}`);
      lo = integerIn(value[0], 0, 31, [...path, 0], 'a bit number');
      hi = integerIn(value[1], 0, 31, [...path, 1], 'a bit number');
      if (lo > hi) fail(path, `expected a range [lo, hi] with lo <= hi (bit 0 is the least significant), got [${lo}, ${hi}]`);
    } else {
      return fail(path, `expected a bit number (0 to 31) or a range [lo, hi], got ${shown(value)}`);
    }
    const width = of.declared.bitWidth;
    if (hi >= width) fail(path, `expected bits within ${of.declared.type} '${of.name}' (bits 0 to ${width - 1}), got bit ${hi}`);
    return [lo, hi];
  }

  private condition(o: Record<string, unknown>, path: LayoutPath, inGroup: boolean): ResolvedCondition | undefined {
    if (!has(o, 'when')) return undefined;
    const w = o.when;
    const at: LayoutPath = [...path, 'when'];
    if (!isMapping(w)) fail(at, `expected a mapping { field, bit, is } or { field, equals }, got ${shown(w)}`);
    checkKeys(w, WHEN_KEYS, at, 'a condition');
    if (!has(w, 'field')) fail([...at, 'field'], 'expected the name of an earlier integer field, but it is missing');
    const ref = this.reference(w.field, [...at, 'field'], inGroup, 'condition');
    const d = ref.declared;
    const slot = this.slotOf(d);
    if (has(w, 'bit') === has(w, 'equals')) {
      fail(at, has(w, 'bit') ? 'expected exactly one of bit or equals, got both' : 'expected exactly one of bit or equals, got neither');
    }
    if (has(w, 'equals')) {
      if (has(w, 'is')) fail([...at, 'is'], "expected is only with bit (equals compares the whole value)");
      const want = integerIn(w.equals, d.min, d.max, [...at, 'equals'], `an integer (the range of ${d.type} '${ref.name}')`);
      return { slot, bit: -1, want };
    }
    const bit = integerIn(w.bit, 0, d.bitWidth - 1, [...at, 'bit'], `a bit number of ${d.type} '${ref.name}'`);
    const is = has(w, 'is') ? oneOf(w.is, ['set', 'clear'] as const, [...at, 'is']) : 'set';
    return { slot, bit, want: is === 'set' ? 1 : 0 };
  }

  /** Resolves a reference to an earlier integer (or, for a condition, bits) field. */
  private reference(value: unknown, path: LayoutPath, inGroup: boolean, purpose: 'condition' | 'bits'): { name: string; declared: Declared } {
    const need = purpose === 'bits' ? 'an earlier integer field' : 'an earlier integer or bits field';
    if (typeof value !== 'string') fail(path, `expected the name of ${need}, got ${shown(value)}`);
    const d = this.declared.get(value);
    if (d === undefined) {
      const where = this.anywhere.get(value);
      const self = path.slice(0, where?.length ?? 0);
      if (where !== undefined && formatPath(where) === formatPath(self)) fail(path, `expected the name of ${need}: '${value}' is this field itself`);
      if (where !== undefined) fail(path, `expected the name of ${need}: '${value}' is ${formatPath(where)}, which comes later (fields are read in order)`);
      const known = [...this.declared].filter(([, x]) => this.referable(x, inGroup, purpose)).map(([n]) => n);
      fail(path, `expected the name of ${need}, got '${value}', which no field has${known.length > 0 ? ` (earlier ones: ${known.join(', ')})` : ''}`);
    }
    if (d.kind === 'skip' || d.kind === 'group') fail(path, `expected the name of ${need}: '${value}' is a ${d.kind}, which has no value`);
    if (d.kind === 'bits' && purpose === 'bits') fail(path, `expected the name of ${need}: '${value}' is a bits field; take the bits from '${value}''s own field`);
    if (d.bitWidth === 0) fail(path, `expected the name of ${need}: '${value}' is ${d.type}, not an integer`);
    if (d.repeated) fail(path, `expected the name of ${need}: '${value}' repeats, so it has no single value`);
    if (d.inGroup && !inGroup) fail(path, `expected the name of ${need}: '${value}' is a field of the group, which has one value a row; a field outside the group can only use fields outside it`);
    return { name: value, declared: d };
  }

  private referable(d: Declared, inGroup: boolean, purpose: 'condition' | 'bits'): boolean {
    return d.bitWidth > 0 && !d.repeated && (inGroup || !d.inGroup) && (purpose === 'condition' || d.kind === 'number');
  }

  private slotOf(d: Declared): number {
    const step = d.step!;
    if (step.slot < 0) {
      step.slot = this.slotCount++;
      if (d.inGroup) this.groupSlots.push(step.slot);
    }
    return step.slot;
  }

  private group(o: Record<string, unknown>, path: LayoutPath, rows: string[]): GroupPlan {
    checkKeys(o, GROUP_KEYS, path, 'a group');
    const name = this.name(o, path, false);
    if (!has(o, 'repeat')) fail([...path, 'repeat'], `expected 'tail' or an integer from 1 to ${MAX_REPEAT}, but it is missing`);
    const repeat = repeatOption(o.repeat, [...path, 'repeat']);
    const fields = o.fields;
    if (!Array.isArray(fields) || fields.length === 0) fail([...path, 'fields'], `expected a non-empty list of fields, got ${shown(fields)}`);
    this.declare(name, { path, kind: 'group', type: 'group', step: undefined, inGroup: false, repeated: true, bitWidth: 0, min: 0, max: 0 });
    const steps: Step[] = [];
    let rowBytes = 0;
    let alwaysTakesBytes = false;
    for (let k = 0; k < fields.length; k++) {
      const at: LayoutPath = [...path, 'fields', k];
      const type = this.itemType(fields[k], at, GROUP_ITEM_TYPES);
      const step = this.item(fields[k] as Record<string, unknown>, type, at, true);
      steps.push(step);
      if (step.op !== OP.SKIP) rows.push(step.name);
      if (step.width > 0) {
        if (step.whenSlot >= 0) rowBytes = -1;
        else alwaysTakesBytes = true;
        if (rowBytes >= 0) rowBytes += step.width;
      }
    }
    // A row that may take no bytes would repeat 'tail' forever, and rows of nothing are no samples.
    if (!alwaysTakesBytes) fail([...path, 'fields'], 'expected at least one field in the group that always takes bytes (a number or a skip without when)');
    const label = name === undefined ? `the group (${formatPath(path)})` : `group '${name}'`;
    return { label, repeat, steps, rowBytes, slots: this.groupSlots };
  }
}

/** Checks a layout's options and turns them into steps. Throws LayoutOptionError for a bad option. */
export function planLayout(options: unknown): LayoutPlan {
  return new Planner().plan(options);
}

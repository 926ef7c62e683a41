/**
 * Declarative binary layouts: a profile describes a packet as a list of fields (integers, floats,
 * IEEE-11073 SFLOAT/FLOAT, skips, bit fields, conditions and one repeated group) and
 * compileLayout() turns that description into a PacketDecoder.
 *
 * Compile once, run per packet. compileLayout() checks every option (layout-plan.ts; a bad one
 * throws LayoutOptionError with the path to it) and flattens the fields into steps. The decoder
 * it returns walks those steps over the bytes; it never throws on what a device sends.
 *
 * Per packet:
 * - A field that does not fit in the bytes left rejects the packet (DECODE_SHORT); a field whose
 *   `expect` does not hold rejects it (DECODE_UNEXPECTED); bytes left after the last field reject
 *   it (DECODE_TRAILING) unless `trailing: ignore`.
 * - `repeat: tail` (a field or the group) reads whole elements to the end of the packet; with
 *   `trailing: reject` a part of an element left over rejects the packet (DECODE_TRAILING), with
 *   `trailing: ignore` it is dropped like any other trailing bytes.
 * - A group whose rows vary in size (a `when` on a field that takes bytes) cannot tell a part of
 *   a row from a cut packet before reading it: a tail group of that kind reads rows until the
 *   packet ends, and a row cut mid-way rejects the packet with DECODE_SHORT, whatever `trailing`.
 * - An SFLOAT/FLOAT special value (NaN, NRes, +INFINITY, -INFINITY, RESERVED) or an f32/f64 NaN or
 *   infinity drops that field only (in a row: from that row), with DECODE_SPECIAL_VALUE; a value
 *   that scale and offset push out of the finite doubles drops it with DECODE_OUT_OF_RANGE. In a
 *   repeated field one such element drops the whole list, with one error for the first element.
 *   Every number returned is finite.
 *
 * Why a step list and one interpreter loop rather than a closure per field: each step is a plain
 * object of one shape, so the loop stays monomorphic, and a failure is a return value rather than
 * an exception, so no try/catch sits on the per-field path. A packet allocates its values object,
 * one object per row, the arrays of repeated fields and, only if something goes wrong, its errors.
 */
import { DECODE_ERRORS, rejected, type DecodedPacket, type DecodedValues, type DecodeIssue, type PacketDecoder } from '../decoded.js';
import { describeIeee11073, readFloat, readSfloat } from '../decoders/ieee11073-float.js';
import { hex, INT_READER, OP, planLayout, REPEAT_TAIL, type GroupPlan, type Step } from './layout-plan.js';

export {
  LayoutOptionError,
  type LayoutBitsField, type LayoutCondition, type LayoutEndian, type LayoutField, type LayoutGroupField, type LayoutGroupItem,
  type LayoutIntegerType, type LayoutNumberField, type LayoutNumberType, type LayoutOptions, type LayoutPath, type LayoutRepeat,
  type LayoutSkipField,
} from './layout-plan.js';

/** The names of the values a layout can produce: per packet (`values`) and per row of its group (`rows`). */
export interface LayoutDescription {
  readonly values: string[];
  readonly rows: string[];
}

/**
 * Lists the field names a layout can produce, in layout order, so that the profile loader can
 * check that every channel names one. Skips and the group's own name produce no value and are
 * not listed. Checks the options as compileLayout does (throws LayoutOptionError).
 */
export function describeLayout(options: unknown): LayoutDescription {
  const plan = planLayout(options);
  return { values: [...plan.values], rows: [...plan.rows] };
}

// Shared by every packet with nothing to report: frozen, so no consumer can leak into the next packet.
const NO_ROWS: readonly DecodedValues[] = Object.freeze([]);
const NO_ERRORS: readonly DecodeIssue[] = Object.freeze([]);

/** What a step returns instead of a position when the packet is rejected. */
const FAIL = -1;

function readInteger(b: Uint8Array, p: number, reader: number): number {
  switch (reader) {
    case INT_READER.U8: return b[p]!;
    case INT_READER.I8: return (b[p]! << 24) >> 24;
    case INT_READER.U16LE: return b[p]! | (b[p + 1]! << 8);
    case INT_READER.U16BE: return (b[p]! << 8) | b[p + 1]!;
    case INT_READER.I16LE: return ((b[p]! | (b[p + 1]! << 8)) << 16) >> 16;
    case INT_READER.I16BE: return (((b[p]! << 8) | b[p + 1]!) << 16) >> 16;
    case INT_READER.U24LE: return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
    case INT_READER.U24BE: return (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
    case INT_READER.I24LE: return ((b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) << 8) >> 8;
    case INT_READER.I24BE: return (((b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!) << 8) >> 8;
    // Bitwise operators work on int32: `>>> 0` makes the top byte's high bit a value bit, not a sign.
    case INT_READER.U32LE: return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    case INT_READER.U32BE: return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    case INT_READER.I32LE: return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
    default: return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!; // I32BE
  }
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/** " in rows[2]" inside the group, "" outside it. */
function inRow(row: number): string {
  return row < 0 ? '' : ` in rows[${row}]`;
}

function where(s: Step, byteOffset: number): { field?: string; byteOffset: number } {
  return s.name === '' ? { byteOffset } : { field: s.name, byteOffset };
}

/** Compiles a layout from a profile's options. Throws LayoutOptionError for a bad option. */
export function compileLayout(options: unknown): PacketDecoder {
  const plan = planLayout(options);
  const { before, group, after, trailingReject } = plan;
  // Raw values of the fields that conditions and bit fields look at, NaN while absent (a raw
  // integer is never NaN). Reused for every packet: decoding is synchronous, so it is never shared.
  const raw = new Float64Array(plan.slotCount);
  const hasSlots = plan.slotCount > 0;
  // f32/f64 are read through this copy, so that no DataView is made per packet.
  const scratch = new Uint8Array(8);
  const view = new DataView(scratch.buffer);

  // Per-packet state, reset at the start of each packet.
  let errors: DecodeIssue[] | undefined;
  let failure: DecodedPacket | undefined;

  function note(code: string, message: string, s: Step, byteOffset: number): void {
    (errors ??= []).push({ code, message, ...where(s, byteOffset) });
  }

  function reject(code: string, message: string, s: Step, byteOffset: number): number {
    failure = rejected(code, message, where(s, byteOffset));
    return FAIL;
  }

  function short(s: Step, bytes: Uint8Array, pos: number, need: number, row: number, what: string): number {
    return reject(DECODE_ERRORS.SHORT, `${s.label}${what}${inRow(row)} needs ${plural(need, 'byte')} at byte ${pos}; the packet has ${plural(bytes.length, 'byte')}`, s, pos);
  }

  function holds(s: Step): boolean {
    const c = raw[s.whenSlot]!;
    if (c !== c) return false; // the field it looks at was absent
    return s.whenBit >= 0 ? ((c >>> s.whenBit) & 1) === s.whenWant : c === s.whenWant;
  }

  // Why the last value read was dropped: its code, and the end of the message ("... at byte 3 is NaN").
  let dropCode = '';
  let dropText = '';

  /** The value of a finite raw number after scale and offset, or NaN (with the reason set) if that is not finite. */
  function scaled(s: Step, x: number): number {
    if (s.identity) return x;
    const v = x * s.scale + s.offset;
    if (Number.isFinite(v)) return v;
    dropCode = DECODE_ERRORS.OUT_OF_RANGE;
    dropText = `: ${x} * ${s.scale} + ${s.offset} is not a finite number`;
    return Number.NaN;
  }

  /** One number at p (its bytes are known to be there), or NaN when the field must be dropped. */
  function readValue(s: Step, bytes: Uint8Array, p: number): number {
    switch (s.op) {
      case OP.INT:
        return scaled(s, readInteger(bytes, p, s.reader));
      case OP.SFLOAT:
      case OP.FLOAT: {
        const r = s.op === OP.SFLOAT ? readSfloat(bytes, p) : readFloat(bytes, p);
        if (typeof r === 'number') return scaled(s, r);
        dropCode = DECODE_ERRORS.SPECIAL_VALUE;
        dropText = ` is ${describeIeee11073(r)}`;
        return Number.NaN;
      }
      default: { // F32, F64
        for (let k = 0; k < s.width; k++) scratch[k] = bytes[p + k]!;
        const x = s.op === OP.F32 ? view.getFloat32(0, s.littleEndian) : view.getFloat64(0, s.littleEndian);
        if (Number.isFinite(x)) return scaled(s, x);
        dropCode = DECODE_ERRORS.SPECIAL_VALUE;
        dropText = ` is ${Number.isNaN(x) ? 'NaN' : String(x)}`;
        return Number.NaN;
      }
    }
  }

  /** Runs one step at pos; returns the position after it, or FAIL with `failure` set. */
  function run(s: Step, bytes: Uint8Array, pos: number, target: DecodedValues, row: number): number {
    if (s.whenSlot >= 0 && !holds(s)) return pos;
    if (s.op === OP.BITS) {
      const r = raw[s.ofSlot]!;
      if (r !== r) return pos; // its field was absent
      const x = ((r >>> s.lo) & s.mask) >>> 0;
      if (s.slot >= 0) raw[s.slot] = x;
      if (s.asBoolean) {
        target[s.name] = x !== 0;
        return pos;
      }
      const v = scaled(s, x);
      if (v === v) target[s.name] = v;
      else note(dropCode, `field '${s.name}'${inRow(row)}${dropText}`, s, pos);
      return pos;
    }
    if (s.repeat !== 0) return runRepeated(s, bytes, pos, target, row);
    const end = pos + s.width;
    if (end > bytes.length) return short(s, bytes, pos, s.width, row, '');
    if (s.op === OP.SKIP) return end;
    let v: number;
    if (s.op === OP.INT) {
      const r = readInteger(bytes, pos, s.reader);
      if (s.hasExpect && r !== s.expect) {
        return reject(DECODE_ERRORS.UNEXPECTED, `field '${s.name}'${inRow(row)} at byte ${pos}: expected ${hex(s.expect, s.width)}, got ${hex(r, s.width)}`, s, pos);
      }
      if (s.slot >= 0) raw[s.slot] = r;
      v = scaled(s, r);
    } else {
      v = readValue(s, bytes, pos);
    }
    if (v === v) target[s.name] = v;
    else note(dropCode, `field '${s.name}'${inRow(row)} at byte ${pos}${dropText}`, s, pos);
    return end;
  }

  function runRepeated(s: Step, bytes: Uint8Array, pos: number, target: DecodedValues, row: number): number {
    const w = s.width;
    let count: number;
    if (s.repeat === REPEAT_TAIL) {
      const left = bytes.length - pos;
      count = Math.floor(left / w);
      const rest = left - count * w;
      if (rest !== 0 && trailingReject) {
        const at = pos + count * w;
        return reject(DECODE_ERRORS.TRAILING, `${s.label} repeated to the end leaves ${plural(rest, 'byte')} at byte ${at} that do not make a whole element of ${plural(w, 'byte')}; the packet has ${plural(bytes.length, 'byte')}`, s, at);
      }
    } else {
      count = s.repeat;
      if (pos + count * w > bytes.length) return short(s, bytes, pos, count * w, row, ` x${count}`);
    }
    const end = pos + count * w;
    if (s.op === OP.SKIP) return end;
    const list: number[] = [];
    for (let k = 0, p = pos; k < count; k++, p += w) {
      const v = readValue(s, bytes, p);
      if (v !== v) {
        note(dropCode, `field '${s.name}[${k}]'${inRow(row)} at byte ${p}${dropText}; the whole list is dropped`, s, p);
        return end;
      }
      list.push(v);
    }
    target[s.name] = list;
    return end;
  }

  function runSteps(steps: readonly Step[], bytes: Uint8Array, pos: number, target: DecodedValues, row: number): number {
    for (let i = 0; i < steps.length && pos !== FAIL; i++) pos = run(steps[i]!, bytes, pos, target, row);
    return pos;
  }

  function runRow(g: GroupPlan, bytes: Uint8Array, pos: number, rows: DecodedValues[]): number {
    for (let i = 0; i < g.slots.length; i++) raw[g.slots[i]!] = Number.NaN;
    const row: DecodedValues = {};
    pos = runSteps(g.steps, bytes, pos, row, rows.length);
    if (pos !== FAIL) rows.push(row);
    return pos;
  }

  function runGroup(g: GroupPlan, bytes: Uint8Array, pos: number, rows: DecodedValues[]): number {
    if (g.repeat !== REPEAT_TAIL) {
      for (let i = 0; i < g.repeat && pos !== FAIL; i++) pos = runRow(g, bytes, pos, rows);
      return pos;
    }
    if (g.rowBytes < 0) {
      while (pos < bytes.length && pos !== FAIL) pos = runRow(g, bytes, pos, rows);
      return pos;
    }
    const left = bytes.length - pos;
    const count = Math.floor(left / g.rowBytes);
    const rest = left - count * g.rowBytes;
    if (rest !== 0 && trailingReject) {
      const at = pos + count * g.rowBytes;
      failure = rejected(DECODE_ERRORS.TRAILING, `${g.label} repeated to the end leaves ${plural(rest, 'byte')} at byte ${at} that do not make a whole row of ${plural(g.rowBytes, 'byte')}; the packet has ${plural(bytes.length, 'byte')}`, { byteOffset: at });
      return FAIL;
    }
    for (let i = 0; i < count && pos !== FAIL; i++) pos = runRow(g, bytes, pos, rows);
    return pos;
  }

  return (bytes: Uint8Array): DecodedPacket => {
    errors = undefined;
    failure = undefined;
    if (hasSlots) raw.fill(Number.NaN);
    const values: DecodedValues = {};
    let rows = NO_ROWS;
    let pos = runSteps(before, bytes, 0, values, -1);
    if (pos !== FAIL && group !== undefined) {
      const list: DecodedValues[] = [];
      pos = runGroup(group, bytes, pos, list);
      rows = list;
    }
    if (pos !== FAIL) pos = runSteps(after, bytes, pos, values, -1);
    if (pos === FAIL) return failure!;
    if (pos < bytes.length && trailingReject) {
      const left = bytes.length - pos;
      return rejected(DECODE_ERRORS.TRAILING, `${plural(left, 'byte')} left after the last field, at byte ${pos}`, { byteOffset: pos });
    }
    return { values, rows, errors: errors ?? NO_ERRORS };
  };
}

/**
 * Capture files: the raw bytes a device sent, with the times they arrived, so that a session can
 * be decoded again later (`twinedge replay`), attached to a bug report or diffed against another.
 *
 * The format, version 1. JSON lines, UTF-8, one object a line, each line ending with LF, so that
 * a capture can be read with `head`, searched with `grep` and compared with `diff`:
 *
 *   {"format":"twinedge-capture","version":1,"device":"serial:/dev/ttyUSB0","profile":"generic/imu6-lcrc",
 *    "serial":{"path":"/dev/ttyUSB0","baud_rate":115200,"data_bits":8,"parity":"none","stop_bits":1},
 *    "started_wall_ms":1718000000000,"started_mono_ms":5231.5}
 *   {"t":0.412,"hex":"4c696768743a2031322e35206c780a"}
 *   {"t":1003.87,"hex":"4c696768"}
 *   {"t":2100.5,"event":"disconnected","reason":"Input/output error"}
 *   {"t":4650,"event":"connected"}
 *
 * - Line 1 is the header (written on one line; wrapped above to fit). `device` is the transport
 *   id the bytes came from. `profile` (the profile id the capture was made for) and `serial` (the
 *   port settings) are there when known. `started_wall_ms` is the hub's wall clock (Unix epoch ms)
 *   when the capture started, `started_mono_ms` its monotonic clock at the same moment.
 * - Every other line is one chunk exactly as one read returned it: `t` is milliseconds since the
 *   capture started on the monotonic clock (at most 3 decimals), `hex` the bytes in lowercase hex.
 *   A chunk's wall time is `started_wall_ms + t`: the monotonic clock is used because the wall
 *   clock of a Pi can jump while it records.
 * - Events: `{"t","event":"disconnected","reason"}` when the port went away while capturing and
 *   `{"t","event":"connected"}` when it came back.
 * - `t` never goes back from one line to the next. Keys other than these are refused: a typo
 *   would otherwise be silently ignored. Blank lines are skipped, so hand-trimmed files still read.
 * - A last line cut short (the capturing process was killed mid-write: no LF at the end of the
 *   file and the last line is not JSON) is skipped with a warning; everything before it is good.
 *
 * Any other fault is a CAPTURE_FILE_INVALID error naming the file, the line and the key.
 */
import { once } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { WriteStream } from 'node:fs';
import { TwinedgeError } from '../../ops/errors.js';
import type { TransportChunk } from '../transport.js';

export const CAPTURE_FORMAT = 'twinedge-capture';
export const CAPTURE_VERSION = 1;

/** The serial settings the capture was made with, in the file's own spelling. */
export interface CaptureSerialSettings {
  readonly path: string;
  readonly baud_rate: number;
  readonly data_bits?: 5 | 6 | 7 | 8;
  readonly parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  readonly stop_bits?: 1 | 1.5 | 2;
}

/** Line 1 of a capture file, as written there. */
export interface CaptureHeader {
  readonly format: typeof CAPTURE_FORMAT;
  readonly version: typeof CAPTURE_VERSION;
  readonly device: string;
  readonly profile?: string;
  readonly serial?: CaptureSerialSettings;
  readonly started_wall_ms: number;
  readonly started_mono_ms: number;
}

/** One line after the header; `t` is ms since the capture started (monotonic). */
export type CaptureEntry =
  | { readonly kind: 'chunk'; readonly t: number; readonly bytes: Uint8Array }
  | { readonly kind: 'disconnected'; readonly t: number; readonly reason: string }
  | { readonly kind: 'connected'; readonly t: number };

/** Something wrong that did not stop the reading: a cut last line. */
export interface CaptureWarning {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** A whole capture in memory. */
export interface CaptureRecording {
  readonly header: CaptureHeader;
  readonly entries: CaptureEntry[];
  readonly warnings: CaptureWarning[];
}

const LF = 0x0a;
const HEADER_KEYS = new Set(['format', 'version', 'device', 'profile', 'serial', 'started_wall_ms', 'started_mono_ms']);
const SERIAL_KEYS = new Set(['path', 'baud_rate', 'data_bits', 'parity', 'stop_bits']);
const PARITIES = new Set(['none', 'even', 'odd', 'mark', 'space']);
const HEX = /^[0-9a-fA-F]*$/;

/** ms with at most 3 decimals: a microsecond is finer than any serial read is timed. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

// ---------------------------------------------------------------- writing

/**
 * Writes a capture file. Lines go through one write stream, so a chunk costs a string and a
 * buffered write, never a wait on the disk, and lines land in the order they were given. The file
 * is created with mode 0600 (it holds health data) and never over an existing file: an earlier
 * capture is not lost to a mistyped --out.
 *
 * Not safe for concurrent close(): call it once. Lines given after close() are ignored.
 */
export class CaptureWriter {
  readonly path: string;
  readonly header: CaptureHeader;
  readonly #fh: FileHandle;
  readonly #out: WriteStream;
  #lastT = 0;
  #chunks = 0;
  #bytes = 0;
  #closed = false;
  #error: Error | undefined;
  readonly #failed: Promise<Error>;

  private constructor(path: string, header: CaptureHeader, fh: FileHandle) {
    this.path = path;
    this.header = header;
    this.#fh = fh;
    // autoClose off: close() fsyncs the handle before the file is closed.
    this.#out = fh.createWriteStream({ autoClose: false });
    this.#failed = new Promise((resolve) => this.#out.on('error', (e) => {
      this.#error ??= e;
      resolve(this.#error);
    }));
  }

  /** Creates `path` (refusing an existing file, EEXIST) and writes the header line. */
  static async open(path: string, header: Omit<CaptureHeader, 'format' | 'version'>): Promise<CaptureWriter> {
    const full = headerInOrder(header);
    const fh = await open(path, 'wx', 0o600);
    try {
      // The umask cannot widen 0600, but the mode at creation is only asked for: make it so.
      await fh.chmod(0o600);
    } catch (e) {
      await fh.close();
      throw e;
    }
    const w = new CaptureWriter(path, full, fh);
    w.#out.write(`${JSON.stringify(full)}\n`);
    return w;
  }

  get chunks(): number {
    return this.#chunks;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Resolves with the error when a write fails (disk full, I/O error); the capture is then lost from that point. */
  get failed(): Promise<Error> {
    return this.#failed;
  }

  chunk(chunk: TransportChunk): void {
    if (this.#closed) return;
    const b = chunk.bytes;
    const hex = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
    this.#chunks++;
    this.#bytes += b.byteLength;
    // Built by hand: a number and a hex string need no escaping, and this runs for every read.
    this.#out.write(`{"t":${this.#t(chunk.monoMs)},"hex":"${hex}"}\n`);
  }

  /** The port went away (with the reason it gave) or came back, at hub monotonic time `monoMs`. */
  event(kind: 'disconnected', monoMs: number, reason: string): void;
  event(kind: 'connected', monoMs: number): void;
  event(kind: 'disconnected' | 'connected', monoMs: number, reason?: string): void {
    if (this.#closed) return;
    const t = this.#t(monoMs);
    this.#out.write(kind === 'disconnected'
      ? `{"t":${t},"event":"disconnected","reason":${JSON.stringify(reason ?? '')}}\n`
      : `{"t":${t},"event":"connected"}\n`);
  }

  /** Flushes every line, fsyncs and closes the file. Rejects with the write error, if one happened. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (!this.#error) {
        this.#out.end();
        await Promise.race([once(this.#out, 'finish'), this.#failed]);
      }
      if (this.#error) throw this.#error;
      await this.#fh.sync();
    } finally {
      // The stream holds the handle until it is destroyed; closing the handle first would wait forever.
      if (!this.#out.closed) {
        const released = once(this.#out, 'close').catch(() => {});
        this.#out.destroy();
        await released;
      }
      await this.#fh.close().catch(() => {});
    }
  }

  /** A reader refuses a `t` that goes back; rounding and a caller's clock must never cause one. */
  #t(monoMs: number): number {
    const t = Math.max(this.#lastT, roundMs(monoMs - this.header.started_mono_ms));
    this.#lastT = t;
    return t;
  }
}

/** The header with its keys in the documented order, absent optional keys left out. */
function headerInOrder(h: Omit<CaptureHeader, 'format' | 'version'>): CaptureHeader {
  return {
    format: CAPTURE_FORMAT,
    version: CAPTURE_VERSION,
    device: h.device,
    ...(h.profile !== undefined ? { profile: h.profile } : {}),
    ...(h.serial !== undefined ? { serial: serialInOrder(h.serial) } : {}),
    started_wall_ms: h.started_wall_ms,
    started_mono_ms: h.started_mono_ms,
  };
}

function serialInOrder(s: CaptureSerialSettings): CaptureSerialSettings {
  return {
    path: s.path,
    baud_rate: s.baud_rate,
    ...(s.data_bits !== undefined ? { data_bits: s.data_bits } : {}),
    ...(s.parity !== undefined ? { parity: s.parity } : {}),
    ...(s.stop_bits !== undefined ? { stop_bits: s.stop_bits } : {}),
  };
}

// ---------------------------------------------------------------- reading

/**
 * Reads a capture file line by line (readline over a read stream): a capture of a day is never
 * held in memory whole. `open` reads and checks the header; `entries` yields the rest, each line
 * checked as it comes, and throws CAPTURE_FILE_INVALID at the first bad one (the entries before
 * it have been yielded). `warnings` fills as the reading goes.
 *
 * `entries` can be iterated once. Stopping early (break) closes the file; so does close().
 */
export class CaptureReader {
  readonly file: string;
  readonly header: CaptureHeader;
  readonly warnings: CaptureWarning[] = [];
  readonly entries: AsyncGenerator<CaptureEntry, void, undefined>;
  readonly #close: () => void;

  private constructor(file: string, header: CaptureHeader, lines: LineSource) {
    this.file = file;
    this.header = header;
    this.#close = lines.close;
    this.entries = this.#read(lines);
  }

  static async open(file: string): Promise<CaptureReader> {
    const lines = await openLines(file);
    try {
      const first = await lines.next();
      if (first.done) throw invalid(file, 1, 'the file is empty; line 1 must be the capture header');
      const header = checkHeader(parseJson(first.value, file, 1, 'line 1 must be the capture header'), file);
      return new CaptureReader(file, header, lines);
    } catch (e) {
      lines.close();
      throw e;
    }
  }

  /** Stops reading and closes the file; the entries not yet read are not yielded. */
  close(): void {
    this.#close();
  }

  async *#read(lines: LineSource): AsyncGenerator<CaptureEntry, void, undefined> {
    try {
      let lineNo = 1;
      let lastT = 0;
      for (;;) {
        const r = await lines.next();
        if (r.done) return;
        lineNo++;
        const text = r.value;
        if (text.trim() === '') continue;
        let obj: unknown;
        try {
          obj = JSON.parse(text);
        } catch (e) {
          // Only the very last line, without its LF, may be cut short: look one line ahead.
          const after = await lines.next();
          if (after.done && !lines.endedWithNewline()) {
            this.warnings.push({ file: this.file, line: lineNo, message: `the last line is cut short (${text.length} characters, no line end): the capture was stopped while writing; skipped` });
            return;
          }
          throw invalid(this.file, lineNo, `not JSON (${(e as Error).message})`);
        }
        const entry = checkEntry(obj, lastT, this.file, lineNo);
        lastT = entry.t;
        yield entry;
      }
    } finally {
      lines.close();
    }
  }
}

/** A capture read whole into memory, for small files, tests and benchmarks. */
export async function readCaptureFile(file: string): Promise<CaptureRecording> {
  const reader = await CaptureReader.open(file);
  const entries: CaptureEntry[] = [];
  for await (const e of reader.entries) entries.push(e);
  return { header: reader.header, entries, warnings: reader.warnings };
}

interface LineSource {
  next(): Promise<IteratorResult<string, undefined>>;
  /** Whether the file's last byte was LF; known once `next` has said done. */
  endedWithNewline(): boolean;
  close(): void;
}

async function openLines(file: string): Promise<LineSource> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new TwinedgeError('CAPTURE_FILE_INVALID', `cannot read the capture: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file }, { cause: e });
  }
  const stream = fh.createReadStream();
  // readline does not say whether the last line had its LF; the last byte read does.
  let lastByte = -1;
  stream.on('data', (b: Buffer | string) => {
    if (b.length > 0) lastByte = typeof b === 'string' ? b.charCodeAt(b.length - 1) : b[b.length - 1]!;
  });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  const it = rl[Symbol.asyncIterator]();
  let closed = false;
  return {
    next: async () => {
      try {
        return await it.next() as IteratorResult<string, undefined>;
      } catch (e) {
        throw new TwinedgeError('CAPTURE_FILE_INVALID', `cannot read the capture: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file }, { cause: e });
      }
    },
    endedWithNewline: () => lastByte === LF,
    close: () => {
      if (closed) return;
      closed = true;
      rl.close();
      stream.destroy();
    },
  };
}

// ---------------------------------------------------------------- checking

function invalid(file: string, line: number, message: string): TwinedgeError {
  return new TwinedgeError('CAPTURE_FILE_INVALID', message, { file, line });
}

function parseJson(text: string, file: string, line: number, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid(file, line, `not JSON (${(e as Error).message}); ${what}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownKey(keys: Iterable<string>, known: ReadonlySet<string>, where: string): string | undefined {
  for (const k of keys) if (!known.has(k)) return `unknown key "${k}"${where}: a typo, or not in capture format version ${CAPTURE_VERSION}`;
  return undefined;
}

function checkHeader(v: unknown, file: string): CaptureHeader {
  const bad = (m: string) => invalid(file, 1, m);
  if (!isObject(v) || v.format === undefined) throw bad(`"format" is missing: line 1 must be the capture header {"format":"${CAPTURE_FORMAT}",...}; is this a capture made by twinedge capture?`);
  if (v.format !== CAPTURE_FORMAT) throw bad(`"format" is ${JSON.stringify(v.format)}, not "${CAPTURE_FORMAT}"`);
  if (v.version !== CAPTURE_VERSION) throw bad(`"version" is ${JSON.stringify(v.version)}; this twinedge reads capture version ${CAPTURE_VERSION}`);
  const unknown = unknownKey(Object.keys(v), HEADER_KEYS, ' in the header');
  if (unknown) throw bad(unknown);
  if (typeof v.device !== 'string' || v.device === '') throw bad('"device" must be a non-empty string (the transport id, e.g. "serial:/dev/ttyUSB0")');
  if (v.profile !== undefined && (typeof v.profile !== 'string' || v.profile === '')) throw bad('"profile" must be a profile id such as "generic/bh1750-light"');
  for (const k of ['started_wall_ms', 'started_mono_ms'] as const) {
    if (typeof v[k] !== 'number' || !Number.isFinite(v[k])) throw bad(`"${k}" must be a number of milliseconds`);
  }
  if (v.serial !== undefined) checkSerial(v.serial, bad);
  return v as unknown as CaptureHeader;
}

function checkSerial(s: unknown, bad: (m: string) => TwinedgeError): void {
  if (!isObject(s)) throw bad('"serial" must be an object {"path","baud_rate",...}');
  const unknown = unknownKey(Object.keys(s), SERIAL_KEYS, ' in "serial"');
  if (unknown) throw bad(unknown);
  if (typeof s.path !== 'string') throw bad('"serial.path" must be a string');
  if (!Number.isInteger(s.baud_rate) || (s.baud_rate as number) <= 0) throw bad('"serial.baud_rate" must be a positive whole number');
  if (s.data_bits !== undefined && ![5, 6, 7, 8].includes(s.data_bits as number)) throw bad('"serial.data_bits" must be 5, 6, 7 or 8');
  if (s.parity !== undefined && !PARITIES.has(s.parity as string)) throw bad(`"serial.parity" must be one of ${[...PARITIES].join(', ')}`);
  if (s.stop_bits !== undefined && ![1, 1.5, 2].includes(s.stop_bits as number)) throw bad('"serial.stop_bits" must be 1, 1.5 or 2');
}

const CHUNK_KEYS = new Set(['t', 'hex']);
const DISCONNECTED_KEYS = new Set(['t', 'event', 'reason']);
const CONNECTED_KEYS = new Set(['t', 'event']);

function checkEntry(v: unknown, lastT: number, file: string, line: number): CaptureEntry {
  const bad = (m: string) => invalid(file, line, m);
  if (!isObject(v)) throw bad('a line must be a JSON object {"t",...}');
  if (v.format !== undefined) throw bad('"format" may appear on line 1 only: a second header (two captures joined?)');
  const t = v.t;
  if (t === undefined) throw bad('"t" is missing');
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw bad(`"t" must be a non-negative number of milliseconds, not ${JSON.stringify(t)}`);
  if (t < lastT) throw bad(`"t" goes back from ${lastT} to ${t}: times never go back in a capture`);
  if (v.hex !== undefined && v.event !== undefined) throw bad('a line holds either "hex" (bytes) or "event", not both');
  if (v.hex !== undefined) {
    const unknown = unknownKey(Object.keys(v), CHUNK_KEYS, '');
    if (unknown) throw bad(unknown);
    const hex = v.hex;
    if (typeof hex !== 'string') throw bad('"hex" must be a string of hex digits');
    if (hex.length === 0) throw bad('"hex" is empty: a chunk holds at least one byte');
    if (!HEX.test(hex)) {
      const at = hex.search(/[^0-9a-fA-F]/);
      throw bad(`"hex" has ${JSON.stringify(hex[at])} at digit ${at + 1}, which is not a hex digit`);
    }
    if (hex.length % 2 !== 0) throw bad(`"hex" has ${hex.length} digits; bytes need an even number`);
    const b = Buffer.from(hex, 'hex');
    return { kind: 'chunk', t, bytes: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) };
  }
  if (v.event === 'disconnected') {
    const unknown = unknownKey(Object.keys(v), DISCONNECTED_KEYS, ' in a "disconnected" event');
    if (unknown) throw bad(unknown);
    if (typeof v.reason !== 'string') throw bad('"reason" must be a string: what the port said when it went away');
    return { kind: 'disconnected', t, reason: v.reason };
  }
  if (v.event === 'connected') {
    const unknown = unknownKey(Object.keys(v), CONNECTED_KEYS, ' in a "connected" event');
    if (unknown) throw bad(unknown);
    return { kind: 'connected', t };
  }
  if (v.event !== undefined) throw bad(`"event" is ${JSON.stringify(v.event)}; known events are "disconnected" and "connected"`);
  const unknown = unknownKey(Object.keys(v), CHUNK_KEYS, '');
  throw bad(unknown ?? 'a line needs "hex" (bytes) or "event"');
}

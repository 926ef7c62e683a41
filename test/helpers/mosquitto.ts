// A real mosquitto broker (Debian package, 2.0.x) in a child process, for tests and benchmarks
// that need a broker that can be stopped, killed, frozen and restarted.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AfterHook } from './tmp.js';
import { installHint, toolPath } from './tool-path.js';

export interface MosquittoOptions {
  /** Extra config lines appended to the generated config (TLS listeners, ACL files, ...). */
  extraConfig?: readonly string[];
  /**
   * mosquitto's per-client queue of QoS 1/2 messages beyond those in flight. Its default, 1000,
   * silently drops messages for a subscriber that falls behind; ours is 1,000,000. Pass 1000 to
   * reproduce the default.
   */
  maxQueuedMessages?: number;
  /** How long start() waits for the port to accept connections. Default 10 s. */
  startTimeoutMs?: number;
}

/** A free TCP port on 127.0.0.1 (free when asked: another process may take it afterwards). */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One-letter process state from /proc (R, S, T, ...), or undefined off Linux or once gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (2nd field) is in parentheses and may hold spaces: the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

async function untilProcState(pid: number, pred: (state: string) => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  for (;;) {
    const s = procState(pid);
    if (s === undefined || pred(s)) return;
    if (Date.now() > end) throw new Error(`mosquitto (pid ${pid}) did not become ${what}: state ${s}`);
    await delay(2);
  }
}

// Brokers still running when this process exits, or is told to stop (the test runner's timeout
// sends SIGTERM), are killed, so that none outlives its test file holding a port.
const live = new Map<ChildProcess, string>();
let hooked = false;
function killAll(): void {
  for (const [child, dir] of live) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
function track(child: ChildProcess, dir: string): void {
  live.set(child, dir);
  child.once('close', () => live.delete(child));
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll();
      process.off(signal, onSignal);
      // Then as if this handler had never been there: the default action, or the other handlers'.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

const READY = /mosquitto version \S+ running/;
const STDERR_KEEP = 64 * 1024;

/**
 * A real mosquitto broker in a child process, with a generated config in a temp folder:
 * - a listener on a free 127.0.0.1 port, anonymous clients allowed;
 * - persistence on, in the temp folder, saved every second and on a clean stop (SIGTERM), so
 *   persistent sessions and the messages queued for them survive stop() + start(); a kill()
 *   loses what was not yet saved, as a power cut would;
 * - the per-client queue raised (max_queued_messages 1000000, max_queued_bytes 0) and no limit on
 *   messages in flight, since by default mosquitto silently drops QoS 1 messages beyond 1000
 *   queued for a subscriber that falls behind;
 * - its log in the temp folder (logText()).
 * Run as root, mosquitto 2 switches to the `mosquitto` user, which cannot write into a temp
 * folder made by root: then the config says `user root`.
 *
 * Never used concurrently: await each of start/stop/kill/pause/resume before the next.
 */
export class MosquittoBroker {
  readonly dir: string;
  readonly confFile: string;
  readonly logFile: string;
  #port: number;
  readonly #options: MosquittoOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stderr = '';

  private constructor(dir: string, port: number, options: MosquittoOptions) {
    this.dir = dir;
    this.confFile = join(dir, 'mosquitto.conf');
    this.logFile = join(dir, 'mosquitto.log');
    this.#port = port;
    this.#options = options;
  }

  /** Writes the config and starts the broker; resolves once its port accepts connections. */
  static async start(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
    if (!toolPath('mosquitto')) throw new Error(`needs ${installHint('mosquitto')}`);
    const dir = await mkdtemp(join(tmpdir(), 'twinedge-mosquitto-'));
    const broker = new MosquittoBroker(dir, await freePort(), options);
    // The free port can be taken by another process before mosquitto binds it: then pick another.
    for (let attempt = 1; ; attempt++) {
      await writeFile(broker.confFile, broker.#config());
      try {
        await broker.start();
        return broker;
      } catch (e) {
        if (attempt >= 3 || !/Address already in use/i.test(String(e))) {
          await rm(dir, { recursive: true, force: true });
          throw e;
        }
        broker.#port = await freePort();
      }
    }
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.#port}`;
  }

  /** The broker process id while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  #config(): string {
    const lines = [
      `listener ${this.#port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${this.dir}/`,
      'autosave_interval 1',
      `max_queued_messages ${this.#options.maxQueuedMessages ?? 1_000_000}`,
      'max_queued_bytes 0',
      'max_inflight_messages 0',
      `log_dest file ${this.logFile}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'log_timestamp_format %Y-%m-%dT%H:%M:%S',
    ];
    if (process.getuid?.() === 0) lines.push('user root');
    lines.push(...(this.#options.extraConfig ?? []), '');
    return lines.join('\n');
  }

  /**
   * Starts the broker (again, after stop() or kill()) on the same port, with the same config and
   * persistence folder; resolves once the port accepts connections and the broker logged that it
   * runs. Rejects with mosquitto's own error text if it exits instead.
   */
  async start(): Promise<void> {
    if (this.#child) return;
    const logOffset = (await readFile(this.logFile).catch(() => Buffer.alloc(0))).length;
    const child = spawn(toolPath('mosquitto')!, ['-c', this.confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    track(child, this.dir);
    this.#child = child;
    this.#stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-STDERR_KEEP);
    });
    let exitCode: number | string | null | undefined;
    // 'close' comes after 'exit' and after stderr is drained, so an error message is complete.
    this.#exited = new Promise<void>((resolve) => {
      const done = (code: number | string | null) => {
        exitCode ??= code;
        if (this.#child === child) this.#child = undefined;
        resolve();
      };
      child.once('close', (code, signal) => done(code ?? signal));
      child.once('error', (e) => done((e as NodeJS.ErrnoException).code ?? String(e)));
    });
    const end = Date.now() + (this.#options.startTimeoutMs ?? 10_000);
    for (;;) {
      if (exitCode !== undefined) {
        throw new Error(`mosquitto exited at start (code ${exitCode}): ${(await this.#ownText(logOffset)).trim()}`);
      }
      // A port taken by another process also accepts connections: mosquitto logs that it runs
      // (to its log file, or to stderr if extra config says so) only once it holds its listener.
      if ((await accepts(this.#port)) && READY.test(await this.#ownText(logOffset)) && exitCode === undefined) return;
      if (Date.now() > end) {
        await this.kill();
        throw new Error(`mosquitto did not accept connections on port ${this.#port} within the start timeout: ${(await this.#ownText(logOffset)).trim()}`);
      }
      await delay(10);
    }
  }

  async #logSince(offset: number): Promise<string> {
    return (await readFile(this.logFile).catch(() => Buffer.alloc(0))).subarray(offset).toString('utf8');
  }

  async #ownText(logOffset: number): Promise<string> {
    return `${this.#stderr}${await this.#logSince(logOffset)}`;
  }

  /**
   * A clean stop (SIGTERM, after SIGCONT if paused): mosquitto saves its persistence file and
   * closes its port. Resolves when the process has exited.
   */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.#exited.then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 10_000); }),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      await this.kill();
      throw new Error('mosquitto did not exit within 10 s of SIGTERM; killed it');
    }
    this.#child = undefined;
  }

  /** A crash (SIGKILL): what was not autosaved (up to a second of changes) is lost, as on a power cut. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.#exited;
    this.#child = undefined;
  }

  /**
   * Freezes the broker (SIGSTOP): its connections stay open, new TCP connections still complete
   * in the kernel, and nothing is read or answered. Resolves once the process is stopped.
   */
  async pause(): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    child.kill('SIGSTOP');
    await untilProcState(child.pid, (s) => s === 'T', 'stopped');
  }

  /** Unfreezes the broker (SIGCONT); it then handles what queued up meanwhile. */
  async resume(): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    child.kill('SIGCONT');
    await untilProcState(child.pid, (s) => s !== 'T', 'running');
  }

  /** The broker's log file (every start appends to it). */
  async logText(): Promise<string> {
    return readFile(this.logFile, 'utf8').catch(() => '');
  }

  /** What mosquitto wrote to stderr since its last start (messages from before its log opened). */
  get stderrText(): string {
    return this.#stderr;
  }

  /** Stops the broker and removes its folder. */
  async close(): Promise<void> {
    try {
      await this.stop();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}

/** A mosquitto broker closed (and its folder removed) when the test ends. */
export async function startMosquitto(t: AfterHook, options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const broker = await MosquittoBroker.start(options);
  t.after(() => broker.close());
  return broker;
}

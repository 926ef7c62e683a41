import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from './tools.js';

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

export interface MosquittoOptions {
  /** Extra lines for the generated config (listeners with TLS, ACLs, ...). */
  extraConfig?: string[];
}

/**
 * A real mosquitto broker in a child process, with a generated config: a free loopback port,
 * persistence on (sessions and queued messages survive a restart) and the per-client queue
 * raised, since by default mosquitto silently drops QoS 1 messages beyond 1000 queued for a
 * subscriber that falls behind. Stop, kill, pause and restart it on the same port to cause faults.
 */
export class MosquittoBroker {
  readonly dir: string;
  readonly port: number;
  #child: ChildProcess | undefined;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  static async start(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
    const bin = toolPath('mosquitto');
    if (!bin) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
    const dir = await mkdtemp(join(tmpdir(), 'twinedge-mosquitto-'));
    const broker = new MosquittoBroker(dir, await freePort());
    await writeFile(join(dir, 'mosquitto.conf'), [
      `listener ${broker.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 1',
      'max_queued_messages 1000000',
      'max_queued_bytes 0',
      'max_inflight_messages 0',
      `log_dest file ${join(dir, 'mosquitto.log')}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      ...(options.extraConfig ?? []),
      '',
    ].join('\n'));
    await broker.start();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts) the broker on its port and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.#child) return;
    const child = spawn(toolPath('mosquitto')!, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    this.#child = child;
    child.once('exit', () => { if (this.#child === child) this.#child = undefined; });
    const deadline = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (!this.#child) throw new Error(`mosquitto exited at start: ${await this.logText()}`);
      if (Date.now() > deadline) throw new Error('mosquitto did not start listening within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async #end(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
    this.#child = undefined;
  }

  /** A clean stop (SIGTERM): mosquitto saves its persistence file. */
  stop(): Promise<void> {
    return this.#end('SIGTERM');
  }

  /** A crash (SIGKILL): what was not autosaved is lost, as on a power cut. */
  kill(): Promise<void> {
    return this.#end('SIGKILL');
  }

  /** Freezes the broker (SIGSTOP): connections stay open and nothing is answered. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async logText(): Promise<string> {
    return readFile(join(this.dir, 'mosquitto.log'), 'utf8').catch(() => '');
  }

  async close(): Promise<void> {
    this.resume();
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

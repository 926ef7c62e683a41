import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { toolPath } from './tool-path.js';

/**
 * A pair of real pseudo-terminals joined by socat: the code under test opens `devicePath` with
 * serialport as if it were the device's port; the test plays the device by writing into the
 * other end. Killing socat is the unplug; starting it again on the same names is the replug.
 * Ptys have no modem-control lines and ignore the baud rate.
 */
export class PtyPair {
  readonly devicePath: string;
  readonly peerPath: string;
  #socat: ChildProcess | undefined;
  #peer: FileHandle | undefined;

  constructor(dir: string) {
    this.devicePath = join(dir, 'dev');
    this.peerPath = join(dir, 'peer');
  }

  static async start(dir: string): Promise<PtyPair> {
    const pair = new PtyPair(dir);
    await pair.plug();
    return pair;
  }

  /** Starts socat and waits until both ends exist. */
  async plug(): Promise<void> {
    const bin = toolPath('socat');
    if (!bin) throw new Error('socat is not installed (apt-get install socat)');
    const child = spawn(bin, [`pty,raw,echo=0,link=${this.devicePath}`, `pty,raw,echo=0,link=${this.peerPath}`], { stdio: 'ignore' });
    this.#socat = child;
    const deadline = Date.now() + 5000;
    while (!(existsSync(this.devicePath) && existsSync(this.peerPath))) {
      if (child.exitCode !== null) throw new Error('socat exited at start');
      if (Date.now() > deadline) throw new Error('socat did not make its ptys within 5 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    this.#peer = await open(this.peerPath, 'r+');
  }

  /** Writes device bytes into the pty, as the device would. */
  async send(bytes: Uint8Array | string): Promise<void> {
    if (!this.#peer) throw new Error('not plugged');
    await this.#peer.write(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  }

  /** The unplug: socat goes away and both ptys with it. */
  async unplug(): Promise<void> {
    await this.#peer?.close().catch(() => {});
    this.#peer = undefined;
    const child = this.#socat;
    this.#socat = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }

  close(): Promise<void> {
    return this.unplug();
  }
}

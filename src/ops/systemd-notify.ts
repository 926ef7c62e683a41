/**
 * Tells systemd how the daemon is doing (sd_notify(3)): READY=1 once the hub has started,
 * WATCHDOG=1 every half WATCHDOG_USEC while the event loop turns, STOPPING=1 when it shuts down.
 * Without NOTIFY_SOCKET (not started by systemd, or in a container) every call does nothing.
 *
 * The notify socket takes datagrams only, and Node has no unix datagram sockets, so each message
 * is handed to systemd's own `systemd-notify`, which is there wherever systemd is. That helper
 * exits right after sending, which once raced systemd's lookup of the sender's unit; since
 * systemd 246 it waits until the manager has read the message (sd_notify_barrier), so the
 * message is attributed. The sender is a child, not the main process: the unit needs
 * NotifyAccess=all (scripts/systemd/twinedge.service).
 */
import { spawn } from 'node:child_process';
import type { Logger } from './log.js';

/** Delivers one message (assignments such as `READY=1`); rejects when it could not. */
export type NotifySender = (assignments: readonly string[]) => Promise<void>;

export interface ServiceNotifierOptions {
  /** Where NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** This process's pid, compared with WATCHDOG_PID; process.pid by default. */
  pid?: number;
  log?: Logger;
  /** How messages travel; `systemd-notify` by default. */
  send?: NotifySender;
}

/**
 * The daemon's side of a Type=notify unit. Messages go out one at a time, in the order asked;
 * the returned promises resolve once a message was delivered or its failure logged, and never
 * reject: systemd not hearing from the hub must not stop the hub (systemd acts on the silence).
 */
export interface ServiceNotifier {
  /** False when no service manager listens (NOTIFY_SOCKET unset): every call does nothing. */
  readonly enabled: boolean;
  /** Milliseconds between watchdog pings, or undefined when systemd asked for no watchdog. */
  readonly watchdogIntervalMs: number | undefined;
  /** READY=1, then watchdog pings from now on. Call it once, when the hub has started. */
  ready(): Promise<void>;
  /** Stops the watchdog pings and sends STOPPING=1. */
  stopping(): Promise<void>;
}

export function serviceNotifier(options: ServiceNotifierOptions = {}): ServiceNotifier {
  const env = options.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return DISABLED;
  const log = options.log;
  const send = options.send ?? systemdNotifySender(socket);
  const intervalMs = watchdogInterval(env, options.pid ?? process.pid);

  let tail: Promise<void> = Promise.resolve();
  let queued = 0;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;

  const enqueue = (assignments: readonly string[]): Promise<void> => {
    queued++;
    tail = tail.then(async () => {
      try {
        await send(assignments);
        if (failing) log?.info({ message: assignments.join(' ') }, 'systemd notifications are delivered again');
        failing = false;
      } catch (e) {
        // The first failure and each recovery are logged, never every watchdog ping.
        if (!failing) log?.error({ err: (e as Error).message, message: assignments.join(' ') }, 'cannot notify systemd');
        failing = true;
      } finally {
        queued--;
      }
    });
    return tail;
  };

  return {
    enabled: true,
    watchdogIntervalMs: intervalMs,
    ready() {
      const done = enqueue(['READY=1']);
      if (intervalMs !== undefined && timer === undefined) {
        // A ping waits for the event loop: when the loop is stuck, pings stop and systemd restarts
        // the hub. One still on its way is not doubled, so a slow helper cannot pile up.
        timer = setInterval(() => {
          if (queued === 0) void enqueue(['WATCHDOG=1']);
        }, intervalMs);
        timer.unref();
      }
      return done;
    },
    stopping() {
      clearInterval(timer);
      return enqueue(['STOPPING=1']);
    },
  };
}

const DISABLED: ServiceNotifier = {
  enabled: false,
  watchdogIntervalMs: undefined,
  ready: () => Promise.resolve(),
  stopping: () => Promise.resolve(),
};

/**
 * Half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises; undefined when it is unset or
 * invalid, or when WATCHDOG_PID names another process (the watchdog is not this process's).
 */
export function watchdogInterval(env: Readonly<Record<string, string | undefined>>, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  const owner = env.WATCHDOG_PID;
  if (owner !== undefined && owner !== '' && Number(owner) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/** Sends through `systemd-notify` (from the systemd package) to the given NOTIFY_SOCKET. */
export function systemdNotifySender(socket: string, command = 'systemd-notify'): NotifySender {
  return (assignments) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(command, [...assignments], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, NOTIFY_SOCKET: socket },
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < 1000) stderr += d;
      });
      child.once('error', (e: NodeJS.ErrnoException) => {
        reject(e.code === 'ENOENT' ? new Error(`${command} not found: it comes with systemd`) : e);
      });
      child.once('close', (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`${command} failed (${code ?? signal}): ${stderr.trim() || 'no message'}`));
      });
    });
}

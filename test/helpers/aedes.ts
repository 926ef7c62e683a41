// aedes in this process: a quick real broker for publisher and receiver tests. It speaks
// MQTT 3.1.1 only (no MQTT 5, no shared subscriptions): use mosquitto for those.
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import type { AfterHook } from './tmp.js';

export interface AedesBroker {
  /** The broker instance, for its events ('publish', 'ack', 'client', ...) and its options. */
  readonly aedes: Aedes;
  readonly url: string;
  readonly port: number;
  /** The TCP connections open now (destroy one to cut a client off). */
  readonly sockets: ReadonlySet<Socket>;
  /**
   * Stops listening, closes every client (and any socket that had not finished connecting), then
   * the broker; resolves when the port is closed and every socket is gone. Calling it again does nothing.
   */
  close(): Promise<void>;
}

export interface AedesStartOptions {
  /** 0 (the default): a free port. */
  port?: number;
  broker?: AedesOptions;
}

/** aedes 1.x on 127.0.0.1: created with `await Aedes.createBroker()`, served by a net server. */
export async function startAedes(options: AedesStartOptions = {}): Promise<AedesBroker> {
  const aedes = await Aedes.createBroker(options.broker);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  let closing: Promise<void> | undefined;
  return {
    aedes,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    sockets,
    close() {
      closing ??= (async () => {
        // server.close() only stops accepting; its callback waits until every connection is gone.
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await serverClosed;
      })();
      return closing;
    },
  };
}

/** aedes closed when the test ends. */
export async function startAedesFor(t: AfterHook, options: AedesStartOptions = {}): Promise<AedesBroker> {
  const broker = await startAedes(options);
  t.after(() => broker.close());
  return broker;
}

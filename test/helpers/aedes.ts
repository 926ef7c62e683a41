import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';

export interface AedesBroker {
  readonly aedes: Aedes;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** aedes in this process on a loopback port (0: a free one). It speaks MQTT 3.1.1, not 5. */
export async function startAedes(port = 0, options: AedesOptions = {}): Promise<AedesBroker> {
  const aedes = await Aedes.createBroker(options);
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    aedes.handle(s);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actual = (server.address() as { port: number }).port;
  return {
    aedes,
    port: actual,
    url: `mqtt://127.0.0.1:${actual}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

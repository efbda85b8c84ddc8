// Medic's HTTP API on a free local port, and a close that also drains what the coalescer still holds.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MedicApp } from '../../src/api/app.js';

export interface ServedApp {
  server: Server;
  base: string;
  close(): Promise<void>;
}

export async function serveApp(app: MedicApp): Promise<ServedApp> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.close();
      server.closeAllConnections();
      await app.drainIngest();
    },
  };
}

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts `server` on `127.0.0.1` and a free port (keep-alive 1 s), and resolves to that port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

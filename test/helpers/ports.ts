import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nothing listens on at the moment of the call.
 *
 * The port is released before it is returned, so another process may take it first; callers that spawn a server
 * on it should retry with a new port when the server reports the address in use.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`expected a TCP address from a listening server, got ${String(address)}`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

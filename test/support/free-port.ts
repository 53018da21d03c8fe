import net from 'node:net';

/**
 * A loopback TCP port that was free a moment ago (the OS picked it for a listener that is closed again), for a server
 * that must be told its port up front (a child process, nginx, PostgreSQL, a Prometheus exporter). Another process may
 * take it in between; the callers' servers fail loudly if so.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

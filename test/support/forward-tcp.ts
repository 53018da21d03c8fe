/**
 * A TCP forwarder: listens on `host` (an address the gateways' namespaces reach) and pipes each connection to a
 * loopback-only service of this namespace (PostgreSQL and anvil bind loopback by design). Bytes only; it never reads them.
 */
import net from 'node:net';

export type TcpForward = { host: string; port: number; close(): Promise<void> };

export function forwardTcp(host: string, targetPort: number, targetHost = '127.0.0.1'): Promise<TcpForward> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (s === client ? upstream : client).destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve({
      host, port: (server.address() as net.AddressInfo).port,
      close: () => new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
    }));
  });
}

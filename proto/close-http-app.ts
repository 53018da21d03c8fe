import type { Server } from 'node:http';

/** What closeHttpApp needs of a fastify instance (or anything that closes a node:http server the same way). */
export type ClosableHttpApp = { server: Pick<Server, 'closeIdleConnections' | 'closeAllConnections'>; close(): Promise<unknown> };

/**
 * Stops an HTTP app gracefully: it stops accepting, requests in flight finish, and connections are closed as they go
 * idle. fastify closes only the connections idle when close() starts; one whose answer was still running becomes idle
 * later and would otherwise hold the close for its keep-alive timeout (72 s). With `graceMs`, whatever is still open
 * after it is cut, so shutdown never hangs on a slow or stuck client.
 */
export async function closeHttpApp(app: ClosableHttpApp, graceMs?: number): Promise<void> {
  const force = graceMs === undefined ? undefined : setTimeout(() => app.server.closeAllConnections(), graceMs);
  force?.unref();
  const sweep = setInterval(() => app.server.closeIdleConnections(), 25);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
}

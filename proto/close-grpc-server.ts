import type { Server } from '@grpc/grpc-js';

/**
 * Stops a gRPC server gracefully: in-flight calls may finish for up to `graceMs`, then whatever is left is cut off,
 * so shutdown never hangs on a slow or stuck client.
 */
export function closeGrpcServer(server: Server, graceMs = 5_000): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

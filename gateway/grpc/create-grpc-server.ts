import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { loadVeilProto, type VeilServiceName } from '../../proto';

/** Implementations of the veil.v1 services this server offers, by service name. */
export type GrpcServices = Partial<Record<VeilServiceName, grpc.UntypedServiceImplementation>>;

export type CreateGrpcServerOptions = {
  host: string;
  port: number;
  maxReceiveMessageBytes: number;
  maxSendMessageBytes: number;
  services: GrpcServices;
};

export type GrpcServer = {
  server: grpc.Server;
  health: HealthImplementation;
  /** host:port actually bound (port resolved when 0 was asked). */
  address: string;
  close(graceMs?: number): Promise<void>;
};

/**
 * Binds the veil.v1 services plus the standard health service and server reflection. Message-size limits
 * are enforced by grpc-js before a handler sees the bytes (RESOURCE_EXHAUSTED naming both sizes).
 */
export async function createGrpcServer(options: CreateGrpcServerOptions): Promise<GrpcServer> {
  const proto = loadVeilProto();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes,
    'grpc.max_send_message_length': options.maxSendMessageBytes,
  });
  const served = Object.keys(options.services) as VeilServiceName[];
  for (const name of served) server.addService(proto.services[name].service, options.services[name]!);
  // Health names every served service plus "" (the whole server), as the gRPC health protocol defines.
  const healthNames = ['', ...served.map((name) => `veil.v1.${name}`)];

  const health = new HealthImplementation(Object.fromEntries(healthNames.map((n) => [n, 'NOT_SERVING' as const])));
  health.addToServer(server);
  new ReflectionService(proto.packageDefinition).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(new Error(`cannot listen on ${options.host}:${options.port}: ${err.message}`)) : resolve(bound),
    );
  });
  for (const service of healthNames) health.setStatus(service, 'SERVING');

  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    server,
    health,
    address: `${host}:${port}`,
    close: (graceMs = 5_000) =>
      new Promise<void>((resolve) => {
        for (const service of healthNames) health.setStatus(service, 'NOT_SERVING');
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { closeGrpcServer, loadVeilProto } from '../../proto';
import { createTeePool, type CreateTeePoolOptions } from './create-tee-pool';
import { createTeeNode, type CreateTeeNodeOptions, type TeeNode } from './create-tee-node';

export type StartTeeNodeServerOptions = Omit<CreateTeeNodeOptions, 'pool'> & {
  host: string;
  /** 0 picks a free port (see `address`). */
  port: number;
  /** An existing pool, or options to create one (owned and closed by the server). */
  pool: CreateTeeNodeOptions['pool'] | CreateTeePoolOptions;
  maxMessageBytes?: number;
};

export type TeeNodeServer = {
  node: TeeNode;
  server: grpc.Server;
  health: HealthImplementation;
  /** host:port actually bound. */
  address: string;
  close(graceMs?: number): Promise<void>;
};

const SERVICE = 'veil.v1.TeeNode';

/**
 * Runs a TEE node on its own gRPC server (the remote-node case, e.g. `veil worker`): veil.v1.TeeNode,
 * the standard health service (SERVING only once the identity, evidence and warm pool are ready) and
 * reflection.
 * @example const { address, close } = await startTeeNodeServer({ host: '127.0.0.1', port: 0, pool: { models } });
 */
export async function startTeeNodeServer(options: StartTeeNodeServerOptions): Promise<TeeNodeServer> {
  const { host, port, maxMessageBytes = 64 * 1024 * 1024, pool: poolOrOptions, ...nodeOptions } = options;
  const pool = 'run' in poolOrOptions ? poolOrOptions : await createTeePool(poolOrOptions as CreateTeePoolOptions);
  const node = createTeeNode({ ...nodeOptions, maxMessageBytes, pool, ownsPool: nodeOptions.ownsPool ?? !('run' in poolOrOptions) });
  const proto = loadVeilProto();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': maxMessageBytes });
  server.addService(proto.services.TeeNode.service, node.handlers);
  const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE]: 'NOT_SERVING' });
  health.addToServer(server);
  new ReflectionService(proto.packageDefinition).addToServer(server);
  try {
    await node.start();
  } catch (err) {
    await node.stop();
    throw err;
  }
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`)) : resolve(p),
    );
  }).catch(async (err) => {
    await node.stop();
    throw err;
  });
  for (const s of ['', SERVICE]) health.setStatus(s, 'SERVING');
  return {
    node,
    server,
    health,
    address: `${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: async (graceMs = 5_000) => {
      for (const s of ['', SERVICE]) health.setStatus(s, 'NOT_SERVING');
      await closeGrpcServer(server, graceMs);
      await node.stop();
    },
  };
}

import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { closeGrpcServer, guardRequestDecoding, typeSizeRefusals, widenReceiveWindow, createTlsFileProvider, createTlsServerCredentials, loadVeilProto, type TlsFileProvider } from '../../proto';
import { createTeePool, type CreateTeePoolOptions } from './create-tee-pool';
import { createTeeNode, type CreateTeeNodeOptions, type TeeNode } from './create-tee-node';

export type StartTeeNodeServerOptions = Omit<CreateTeeNodeOptions, 'pool'> & {
  host: string;
  /** 0 picks a free port (see `address`). */
  port: number;
  /** An existing pool, or options to create one (owned and closed by the server). */
  pool: CreateTeeNodeOptions['pool'] | CreateTeePoolOptions;
  maxMessageBytes?: number;
  /**
   * Mutual TLS: serve with this certificate and key, and accept only clients (the gateway) whose certificate chains to
   * `clientCaFile`. PEM files, picked up again when they change. Without it the node serves plaintext (development).
   */
  tls?: { certFile: string; keyFile: string; clientCaFile: string; reloadMs?: number };
  /** Told when changed TLS files were taken up or refused (the previous ones stay in use). */
  onTlsReload?: (event: { accepted: boolean; reason?: string; fingerprint256?: string }) => void;
};

export type TeeNodeServer = {
  node: TeeNode;
  server: grpc.Server;
  health: HealthImplementation;
  /** host:port actually bound. */
  address: string;
  /** The TLS certificate source, when serving mutual TLS. */
  tls: TlsFileProvider | undefined;
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
  const { host, port, maxMessageBytes = 64 * 1024 * 1024, pool: poolOrOptions, tls: tlsOptions, onTlsReload, ...nodeOptions } = options;
  // Bad TLS files stop the node before it starts anything, naming the file.
  const tlsFiles = tlsOptions && { certFile: tlsOptions.certFile, keyFile: tlsOptions.keyFile, caFile: tlsOptions.clientCaFile };
  const tls = tlsFiles && createTlsFileProvider(tlsFiles, { reloadMs: tlsOptions!.reloadMs, onReload: onTlsReload });
  // A replacement worker that cannot start is logged, never a crash (the pool keeps its error listener for life).
  const poolOptions = { onWorkerError: (err: Error) => nodeOptions.logger?.error('tee worker failed', { reason: err.message }), ...(poolOrOptions as CreateTeePoolOptions) };
  const pool = 'run' in poolOrOptions ? poolOrOptions : await createTeePool(poolOptions).catch((err) => {
    tls?.close();
    throw err;
  });
  const node = createTeeNode({ ...nodeOptions, maxMessageBytes, pool, ownsPool: nodeOptions.ownsPool ?? !('run' in poolOrOptions) });
  const proto = loadVeilProto();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': maxMessageBytes,
    // typeSizeRefusals first: it must be handed grpc-js's own call object (see its comment).
    interceptors: [typeSizeRefusals, widenReceiveWindow()],
  });
  server.addService(guardRequestDecoding(proto.services.TeeNode.service), node.handlers);
  const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE]: 'NOT_SERVING' });
  health.addToServer(server);
  new ReflectionService(proto.packageDefinition, { services: [SERVICE] }).addToServer(server);
  try {
    await node.start();
  } catch (err) {
    await node.stop();
    tls?.close();
    throw err;
  }
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, tls ? createTlsServerCredentials(tls, tlsFiles!) : grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`)) : resolve(p),
    );
  }).catch(async (err) => {
    await node.stop();
    tls?.close();
    throw err;
  });
  for (const s of ['', SERVICE]) health.setStatus(s, 'SERVING');
  return {
    node,
    server,
    health,
    address: `${host.includes(':') ? `[${host}]` : host}:${bound}`,
    tls,
    close: async (graceMs = 5_000) => {
      for (const s of ['', SERVICE]) health.setStatus(s, 'NOT_SERVING');
      await closeGrpcServer(server, graceMs);
      await node.stop();
      tls?.close();
    },
  };
}

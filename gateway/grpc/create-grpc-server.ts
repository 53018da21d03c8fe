import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { closeGrpcServer, createTlsFileProvider, createTlsServerCredentials, loadVeilProto, type TlsFileProvider, type VeilServiceName } from '../../proto';
import type { CallGuard } from '../auth';
import { guardRequestDecoding, typeSizeRefusals, widenReceiveWindow } from '../../proto';
import { bindRpcMethods } from './handle-call';

/** Implementations of the veil.v1 services this server offers, by service name. */
export type GrpcServices = Partial<Record<VeilServiceName, grpc.UntypedServiceImplementation>>;

export type CreateGrpcServerOptions = {
  host: string;
  port: number;
  maxReceiveMessageBytes: number;
  maxSendMessageBytes: number;
  /** Every method must be an `RpcMethod` (handleUnary/handleClientStream); they are bound to `guard`. */
  services: GrpcServices;
  /** API-key authentication run before every veil.v1 handler (auth.mode = api-keys); health and reflection stay open. */
  guard?: CallGuard;
  /**
   * Serve TLS with this certificate chain and key (PEM files), picked up again when they change; plaintext without.
   * `reloadMs`: how often the files are checked (default 5 s).
   */
  tls?: { certFile: string; keyFile: string; reloadMs?: number };
  /** Told when changed TLS files were taken up or refused (e.g. a key that does not match the certificate). */
  onTlsReload?: (event: { accepted: boolean; reason?: string; fingerprint256?: string }) => void;
};

export type GrpcServer = {
  server: grpc.Server;
  health: HealthImplementation;
  /** host:port actually bound (port resolved when 0 was asked). */
  address: string;
  /** The TLS certificate source (undefined for plaintext): what is served now, and a way to re-read it at once. */
  tls: TlsFileProvider | undefined;
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
    // typeSizeRefusals first: it must be handed grpc-js's own call object (see its comment).
    interceptors: [typeSizeRefusals, widenReceiveWindow()],
  });
  const served = Object.keys(options.services) as VeilServiceName[];
  for (const name of served) {
    // Decoding failures reach the RPC wrapper as a typed error instead of grpc-js's bare INTERNAL.
    server.addService(guardRequestDecoding(proto.services[name].service), bindRpcMethods(name, options.services[name]!, options.guard));
  }
  // Health names every served service plus "" (the whole server), as the gRPC health protocol defines.
  const healthNames = ['', ...served.map((name) => `veil.v1.${name}`)];

  const health = new HealthImplementation(Object.fromEntries(healthNames.map((n) => [n, 'NOT_SERVING' as const])));
  health.addToServer(server);
  // Reflection describes only what this server serves (the package also defines veil.v1.TeeNode, served by nodes).
  new ReflectionService(proto.packageDefinition, { services: served.map((name) => `veil.v1.${name}`) }).addToServer(server);

  // A bad certificate or key stops startup here, naming the file; later changes are checked before they are served.
  const tls = options.tls
    ? createTlsFileProvider({ certFile: options.tls.certFile, keyFile: options.tls.keyFile }, { reloadMs: options.tls.reloadMs, onReload: options.onTlsReload })
    : undefined;
  const credentials = tls ? createTlsServerCredentials(tls, { certFile: options.tls!.certFile, keyFile: options.tls!.keyFile }) : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, credentials, (err, bound) =>
      err ? reject(new Error(`cannot listen on ${options.host}:${options.port}: ${err.message}`)) : resolve(bound),
    );
  }).catch((err) => {
    tls?.close();
    throw err;
  });
  widenReceiveWindows(server);
  for (const service of healthNames) health.setStatus(service, 'SERVING');

  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    server,
    health,
    address: `${host}:${port}`,
    tls,
    close(graceMs = 5_000) {
      // Once: the gateway drains every listener first, and its startup-failure path may close this again.
      closing ??= (async () => {
        for (const service of healthNames) health.setStatus(service, 'NOT_SERVING');
        await closeGrpcServer(server, graceMs);
        tls?.close();
      })();
      return closing;
    },
  };
}

/** HTTP/2 receive window for each client connection: larger than the biggest single ciphertext group we expect. */
const RECEIVE_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * A 64 KB ciphertext is just over HTTP/2's default 65,535-byte window, so every upload stalls on a WINDOW_UPDATE round
 * trip. grpc-js exposes the window only for clients, so this reaches its HTTP/2 servers (grpc-js 1.14 keeps them in
 * `http2Servers`) and widens each new session's window. If a future grpc-js moves that field, this does nothing and
 * calls are merely slower.
 */
function widenReceiveWindows(server: grpc.Server): void {
  const servers = (server as unknown as { http2Servers?: Map<import('node:http2').Http2Server, unknown> }).http2Servers;
  if (!(servers instanceof Map)) return;
  for (const http2Server of servers.keys()) {
    http2Server.on('session', (session) => {
      session.once('localSettings', () => {
        if (!session.destroyed) session.setLocalWindowSize(RECEIVE_WINDOW_BYTES);
      });
      session.settings({ initialWindowSize: RECEIVE_WINDOW_BYTES });
    });
  }
}

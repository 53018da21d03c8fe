import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { parseCommandFlags } from './parse-command-flags';

export const summary = 'ask a gateway or worker for its gRPC health (grpc.health.v1)';

const HELP = `usage: veil health [--target HOST:PORT] [--service NAME] [--timeout-ms MS]
                   [--tls-ca FILE [--tls-cert FILE --tls-key FILE]] [--server-name NAME]

Calls grpc.health.v1.Health/Check on a gateway (\`veil serve\`) or TEE worker node (\`veil worker\`) and prints the
status. Exit 0 when SERVING, 1 when it answers anything else or cannot be reached in time, 2 on a usage error:
what a container HEALTHCHECK or a probe needs.
  --target       host:port (default 127.0.0.1:50051; a worker listens on 50061)
  --service      the service to ask about (default "", the whole server; e.g. veil.v1.Fhe, veil.v1.TeeNode)
  --timeout-ms   deadline of the call (default 3000)
  --tls-ca       connect over TLS, trusting this PEM CA
  --tls-cert, --tls-key  client certificate and key (a worker serves only mutual TLS clients)
  --server-name  the name to check the server's certificate against (default: the target's host)`;

type Flags = {
  target?: string; service?: string; 'timeout-ms'?: string; 'tls-ca'?: string; 'tls-cert'?: string; 'tls-key'?: string;
  'server-name'?: string; help?: boolean;
};

type HealthCheckResponse = { status: 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN' };
type HealthClient = grpc.Client & {
  check(req: { service: string }, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: HealthCheckResponse) => void): void;
};

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandFlags<Flags>('health', args, {
    target: { type: 'string' }, service: { type: 'string' }, 'timeout-ms': { type: 'string' }, 'tls-ca': { type: 'string' },
    'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'server-name': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  }, HELP);
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  const target = v.target ?? '127.0.0.1:50051';
  const timeoutMs = Number(v['timeout-ms'] ?? 3000);
  if (!/^\d+$/.test(v['timeout-ms'] ?? '3000') || timeoutMs < 1 || timeoutMs > 600_000) {
    console.error('veil health: --timeout-ms must be an integer from 1 to 600000');
    return 2;
  }
  if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined) || (v['tls-cert'] !== undefined && v['tls-ca'] === undefined)) {
    console.error('veil health: --tls-cert and --tls-key go together, and with --tls-ca');
    return 2;
  }
  let credentials = grpc.credentials.createInsecure();
  if (v['tls-ca'] !== undefined) {
    try {
      const read = (file: string) => fs.readFileSync(file);
      credentials = grpc.credentials.createSsl(read(v['tls-ca']), v['tls-key'] ? read(v['tls-key']) : null, v['tls-cert'] ? read(v['tls-cert']) : null);
    } catch (err) {
      console.error(`veil health: cannot read TLS files: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return 2;
    }
  }
  const Client = grpc.makeGenericClientConstructor(healthService, 'Health') as unknown as new (
    target: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions,
  ) => HealthClient;
  const client = new Client(target, credentials, v['server-name'] ? { 'grpc.ssl_target_name_override': v['server-name'] } : {});
  const service = v.service ?? '';
  try {
    const status = await new Promise<string>((resolve) => {
      client.check({ service }, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        // Only the status code and grpc-js's details text: a health answer carries nothing a caller sent.
        resolve(err ? `unreachable (${grpc.status[err.code] ?? err.code}: ${err.details})` : res?.status ?? 'UNKNOWN');
      });
    });
    const label = service === '' ? target : `${target} ${service}`;
    if (status === 'SERVING') {
      console.log(`${label}: SERVING`);
      return 0;
    }
    console.error(`veil health: ${label}: ${status}`);
    return 1;
  } finally {
    client.close();
  }
}

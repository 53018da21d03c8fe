import { parseArgs } from 'node:util';
import { ConfigError, createGateway, loadConfig } from '../gateway';
import { SERVE_FLAG_OPTIONS, serveOverrides, type ServeFlags } from './serve-overrides';

export const summary = 'run the gateway';

const HELP = `usage: veil serve [--host HOST] [--port PORT] [--http-host HOST] [--http-port PORT]

Runs the Veil gateway. With no configuration it serves the bundled FHE models, and TEE mode through one in-process
SIMULATED TEE node (development only), over gRPC on 127.0.0.1:50051 and the HTTP API (OpenAI-shaped /v1) on
127.0.0.1:8080.
Configuration: defaults < JSON file named by VEIL_CONFIG < these flags < VEIL_* environment variables.`;

export async function run(args: string[]): Promise<number> {
  let values: ServeFlags & { help?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { ...SERVE_FLAG_OPTIONS, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    console.error(`veil serve: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  let config;
  try {
    config = loadConfig({ overrides: serveOverrides(values) });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`veil serve: ${err.message}`);
      return 2;
    }
    throw err;
  }

  const gateway = await createGateway(config);
  console.log(`veil gateway listening on ${gateway.address} (gRPC; health and reflection enabled)`);
  console.log(gateway.httpUrl
    ? `veil gateway HTTP API on ${gateway.httpUrl} (/v1/models, /v1/attestation, sealed /v1/chat/completions and /v1/embeddings, /healthz, /readyz)`
    : '  http disabled (http.enabled=false)');
  for (const model of gateway.models.values()) {
    for (const { variant, plan: { spec } } of model.variants.values()) {
      console.log(`  fhe  ${model.id.padEnd(20)} ${variant.padEnd(13)} N=${spec.params.polyModulusDegree} depth=${spec.stats.depth} batch=${spec.batchCapacity} rotations=${spec.stats.rotations}`);
    }
  }
  if (gateway.trust) {
    const t = gateway.trust.info();
    console.log(`  registry ${t.registryAddress} on chain ${t.chainId} (${t.embedded ? `embedded anvil dev chain at ${t.rpcUrl}` : t.rpcUrl})`);
  } else {
    console.log('  registry disabled (chain.enabled=false)');
  }
  // TEE mode: every node the gateway routes to, and loudly, whether its evidence is SIMULATED.
  if (gateway.tee) {
    for (const n of gateway.tee.nodes()) {
      const label = n.state !== 'healthy' ? `${n.state.toUpperCase()} (${n.reason})` : n.simulated ? 'SIMULATED platform — evidence proves nothing about hardware (development only)' : `${n.platform} measurement ${n.measurement.slice(0, 16)}…`;
      console.log(`  tee  ${n.nodeId.padEnd(20)} ${n.address}  ${label}  models=${n.modelIds.join(',')}`);
    }
    // Public keys, printed (never logged) so a client can pin them: `veil verify --simulated-key`, `roots.simulated`.
    for (const key of gateway.tee.simulatedKeys) console.log(`  tee  pinned SIMULATED verifier key ${Buffer.from(key).toString('hex')}`);
  } else {
    console.log('  tee  disabled (tee.enabled=false)');
  }
  console.log(`try: npx veil demo --target ${gateway.address}${gateway.tee ? `   or   npx veil demo --mode tee --target ${gateway.address}` : ''}`);
  if (gateway.tee && gateway.httpUrl && gateway.tee.router.models().some((m) => m.kind === 'chat')) {
    // Unmodified OpenAI apps: the local proxy attests, seals and verifies; the gateway never sees a prompt.
    console.log(`     npx veil demo --mode chat --target ${gateway.address}   or   npx veil proxy --allow-simulated --gateway ${gateway.httpUrl}  (then any OpenAI client at http://127.0.0.1:8787/v1)`);
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      gateway.logger.info('shutting down', { signal });
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      void gateway.close().then(resolve);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  return 0;
}

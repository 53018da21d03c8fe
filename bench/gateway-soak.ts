/**
 * Bounded soak of the gateway (its own process, loopback only): several clients call concurrently for a fixed time;
 * reports completed calls, errors by code, latency percentiles and the gateway's RSS every 10 s, so leaks (undeleted
 * SEAL objects, ORT tensors, session growth) show up as a rising RSS.
 *
 *   node bin/run-ts.cjs bench/gateway-soak.ts [seconds=30] [clients=4] [fhe|tee]
 */
import { execFileSync } from 'node:child_process';
import { childProcessEnv } from '../chain';
import { connectFheModel, createVeilClient, VeilClientError } from '../client';
import { connectTeeModel } from '../client/tee';
import { loadDataset } from '../models';
import { startGatewayProcess } from './start-gateway-process';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';

/** Resident set size (MB) of the gateway process and its children, from ps. */
function rssMb(pid: number): number {
  const out = execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { env: childProcessEnv() }).toString().trim();
  return Math.round(Number(out) / 1024);
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 30);
  const clients = Number(process.argv[3] ?? 4);
  const mode = process.argv[4] === 'tee' ? 'tee' : 'fhe';
  const gateway = await startGatewayProcess(mode === 'fhe'
    ? { VEIL_FHE_MODELS: 'breast-cancer-lr', VEIL_TEE_ENABLED: 'false', VEIL_CHAIN_ENABLED: 'false' }
    : { VEIL_FHE_MODELS: 'breast-cancer-lr', VEIL_FHE_VARIANTS: 'blocks', VEIL_TEE_MODELS: 'breast-cancer-lr', VEIL_CHAIN_ENABLED: 'false' });
  const { test } = loadDataset('breast-cancer');
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  try {
    const rssStart = rssMb(gateway.pid);
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssMb(gateway.pid)), 10_000);
    const deadline = performance.now() + seconds * 1000;
    const call = async (run: () => Promise<unknown>) => {
      const t0 = performance.now();
      try {
        await run();
        latencies.push(performance.now() - t0);
      } catch (err) {
        const code = err instanceof VeilClientError ? err.code : (err as { code?: string }).code ?? 'client_error';
        errors[code] = (errors[code] ?? 0) + 1;
      }
    };
    if (mode === 'tee') {
      await Promise.all(Array.from({ length: clients }, async (_, c) => {
        const model = await connectTeeModel({
          gateway: gateway.address, modelId: 'breast-cancer-lr', allowSimulated: true,
          // The gateway runs in another process; its in-process node's key is not pinned here: accepted knowingly.
          roots: { simulated: 'self-signed' },
          policy: { measurements: 'any', debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 },
        });
        try {
          for (let i = 0; performance.now() < deadline; i++) {
            const rows = 1 + ((i + c) % 64);
            const data = new Float32Array(rows * 30);
            for (let r = 0; r < rows; r++) data.set(test.features[(i + r) % test.features.length]!, r * 30);
            await call(() => model.infer({ x: { dims: [rows, 30], data } }));
          }
        } finally {
          model.close();
        }
      }));
    } else await Promise.all(Array.from({ length: clients }, async (_, c) => {
      const client = createVeilClient({ target: gateway.address });
      // Each client opens its own session, so key upload, caching and eviction are exercised too.
      const model = await connectFheModel({ client, modelId: 'breast-cancer-lr', variant: 'blocks' });
      try {
        for (let i = 0; performance.now() < deadline; i++) {
          const batch = Array.from({ length: 1 + ((i + c) % 64) }, (_, k) => test.features[(i + k) % test.features.length]!);
          await call(() => model.predict(batch));
        }
      } finally {
        await model.close();
        client.close();
      }
    }));
    clearInterval(sampler);
    const rssEnd = rssMb(gateway.pid);
    const row = {
      mode, seconds, clients, calls: latencies.length, errors: Object.entries(errors).map(([k, v]) => `${k}:${v}`).join(' ') || 'none',
      'p50 ms': round(percentile(latencies, 0.5)), 'p99 ms': round(percentile(latencies, 0.99)),
      'gateway RSS MB (every 10 s)': [rssStart, ...samples, rssEnd].join(' → '),
    };
    const machine = machineInfo();
    writeBenchReport(`gateway-soak-${mode}`, { machine, result: row }, [
      `# Gateway soak (${mode.toUpperCase()}, breast-cancer-lr)`, '',
      `${machine.date} · Node ${machine.node} · ${machine.cores} cores · gateway in its own process; clients send 1–64 samples per call`, '',
      markdownTable([row]),
    ].join('\n'));
    if (Object.keys(errors).length > 0) process.exitCode = 1;
  } finally {
    await gateway.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

/**
 * Prometheus metrics: RPC counts and latencies by method and outcome code, served only when configured, and
 * carrying nothing a client sent.
 */
import { connectFheModel, createVeilClient, VeilClientError } from '../client';
import { createGateway, createLogger, loadConfig } from '../gateway';
import { freePort } from './support/free-port';


test('RPC counts and latencies are exported by method and outcome code, never by request content', async () => {
  const port = await freePort();
  const config = loadConfig({
    env: {},
    overrides: {
      grpc: { port: 0 }, http: { port: 0 }, telemetry: { prometheusPort: port },
      fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 }, tee: { enabled: false }, chain: { enabled: false },
    },
  });
  const gateway = await createGateway(config, { logger: createLogger({ level: 'silent', format: 'text' }) });
  const client = createVeilClient({ target: gateway.address });
  try {
    await client.listModels();
    await client.listModels();
    const marker = 'model-named-SECRET-4242';
    await expect(client.getFheSpec(marker)).rejects.toBeInstanceOf(VeilClientError);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/veil_rpc_requests_total\{[^}]*rpc="ListModels"[^}]*code="ok"[^}]*\} 2/);
    expect(text).toMatch(/veil_rpc_requests_total\{[^}]*rpc="GetFheSpec"[^}]*code="model_not_found"[^}]*\} 1/);
    expect(text).toMatch(/veil_rpc_duration_bucket\{[^}]*rpc="ListModels"/);
    expect(text).not.toContain('SECRET-4242');

    // issue #12: a real encrypted prediction moves the FHE counters; the pool's gauges are read from the live pool.
    const model = await connectFheModel({ client, modelId: 'breast-cancer-lr', deadlineMs: 60_000 });
    await model.predict([Array.from({ length: 30 }, () => 0.1), Array.from({ length: 30 }, () => 0.2)]);
    await model.close();
    const after = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(after).toMatch(/^veil_fhe_groups_total\{[^}]*model="breast-cancer-lr"[^}]*variant="blocks"[^}]*\} 1$/m);
    expect(after).toMatch(/^veil_fhe_pool_queue_depth(\{[^}]*\})? 0$/m);
    expect(after).toMatch(/^veil_fhe_pool_utilization(\{[^}]*\})? 0$/m);
  } finally {
    client.close();
    await gateway.close();
  }
  // Closed with the gateway.
  await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
});

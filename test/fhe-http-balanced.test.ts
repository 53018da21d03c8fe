/**
 * FHE over HTTP through a real reverse proxy (issue #12 §2): two `veil serve` replicas behind Debian's nginx running
 * deploy/nginx/veil.conf itself. An FHE session lives on the replica that received its keys; the SDK's HTTP client
 * tags its session calls with an affinity token that the config hashes on, so its predictions stay with the
 * session's replica while everything else balances round robin. When that replica dies, the token hashes to the
 * survivor and the SDK opens the session again there from the keys it holds: no prediction fails.
 */
import { startGatewayProcess, type GatewayProcess } from '../bench/start-gateway-process';
import { connectFheModel, createHttpFheClient, type FheModelClient } from '../client';
import { loadDataset } from '../models';
import { findNginx, startNginx, type StartedNginx } from './support/start-nginx';

const nginxBin = findNginx();
if (!nginxBin) {
  console.warn('test/fhe-http-balanced: nginx not found (apt-get install nginx-light): skipped');
  test.skip('FHE over HTTP through nginx (nginx not found)', () => {});
} else {
  let gateways: GatewayProcess[] = [];
  let nginx: StartedNginx;
  const models: FheModelClient[] = [];

  beforeAll(async () => {
    const env = { VEIL_CHAIN_ENABLED: 'false', VEIL_TEE_ENABLED: 'false', VEIL_FHE_MODELS: 'breast-cancer-lr', VEIL_FHE_VARIANTS: 'blocks', VEIL_FHE_WORKERS: '1', VEIL_LOG_LEVEL: 'error' };
    gateways = await Promise.all([0, 1].map(() => startGatewayProcess(env)));
    nginx = await startNginx(gateways.map((g) => new URL(g.httpUrl!).host), nginxBin);
  }, 180_000);

  afterAll(async () => {
    for (const m of models) await m.close().catch(() => undefined);
    await nginx?.stop();
    for (const g of gateways) await g.stop().catch(() => undefined);
  }, 60_000);

  test('sessions stay on their replica through round-robin nginx; a killed replica costs one re-upload, no failed call', async () => {
    const { features } = loadDataset('breast-cancer').test;
    // Four clients, so their sessions are likely spread over both replicas; each keeps its own.
    for (let i = 0; i < 4; i++) models.push(await connectFheModel({ client: createHttpFheClient({ baseUrl: nginx.url }), modelId: 'breast-cancer-lr', variant: 'blocks' }));
    const predictAll = async (from: number, n: number) => {
      for (let k = 0; k < n; k++) {
        // One call at a time: round robin alone would send every other call of a session to the wrong replica.
        for (const [i, m] of models.entries()) {
          const row = (from + k * models.length + i) % features.length;
          const { outputs } = await m.predict([features[row]!]);
          const p = Number((outputs[0] as ArrayLike<number>)[0]);
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
        }
      }
    };
    await predictAll(0, 10);
    // Pinned: 40 predictions and not one session had to be opened again.
    expect(models.map((m) => m.reestablished)).toEqual([0, 0, 0, 0]);

    process.kill(gateways[0]!.pid, 'SIGKILL');
    await predictAll(100, 10);
    const reopened = models.map((m) => m.reestablished);
    // The sessions that lived on the dead replica were opened again, once each; the others never moved.
    expect(reopened.every((n) => n === 0 || n === 1)).toBe(true);
    console.log(`fhe-http-balanced: 80 predictions through nginx, replica 0 SIGKILLed after 40; sessions re-established: ${reopened.join(', ')}`);
  }, 180_000);
}

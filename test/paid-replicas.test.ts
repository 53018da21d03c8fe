/**
 * Two gateways on one PostgreSQL ledger (issue #11 §5): both take paid FHE predictions on the same channel, the load
 * split between them, 8 in flight; the voucher covers only 12 of the 20 calls. Exactly 12 are served and charged —
 * no credit is spent twice across the replicas — and each replica's receipts add up to the shared total.
 */
import path from 'node:path';
import { DEV_ACCOUNTS } from '../chain';
import { connectFheModel, createHttpFheClient, VeilClientError, type FheModelClient } from '../client';
import { createGateway, createLogger, loadConfig, type Gateway } from '../gateway';
import { loadDataset } from '../models';
import { openPostgresLedger } from '../payments';
import { openTestChannel, startPaymentsChain, type PaymentsChain } from './support/paid-channel';
import { findPostgresBin, startPostgres, type StartedPostgres } from './support/start-postgres';

const CEILING = 1_100n;
const bin = findPostgresBin();

if (!bin) {
  console.warn('two gateways on one PostgreSQL: SKIPPED, PostgreSQL server binaries not found (apt-get install postgresql, or set VEIL_TEST_PG_BIN)');
  test.skip('two gateways on one PostgreSQL ledger (binaries not found)', () => {});
} else {
  let pg: StartedPostgres;
  let chain: PaymentsChain;
  const gateways: Gateway[] = [];

  beforeAll(async () => {
    pg = await startPostgres({ bin });
    chain = await startPaymentsChain();
    const { dev, contract, token, receiver, dir } = chain;
    // The trust registry on a configured chain takes its operator key from the environment (never the config).
    process.env.VEIL_CHAIN_PRIVATE_KEY = DEV_ACCOUNTS[0].privateKey;
    for (const name of ['a', 'b']) {
      gateways.push(await createGateway(loadConfig({
        env: { VEIL_HTTP_PORT: '0' },
        overrides: {
          dataDir: path.join(dir, name), grpc: { port: 0 }, fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 }, tee: { enabled: false },
          chain: { enabled: true, rpcUrl: dev.rpcUrl, registryAddress: dev.registryAddress },
          payments: { enabled: true, ledger: 'postgres', postgresUrl: pg.connectionString, contractAddress: contract, tokenAddress: token, receiver, settlementKeyFile: 'none' },
        },
      }), { logger: createLogger({ level: 'silent', format: 'text' }) }));
    }
  }, 180_000);
  afterAll(async () => {
    delete process.env.VEIL_CHAIN_PRIVATE_KEY;
    for (const g of gateways) await g.close();
    await chain?.stop();
    await pg?.stop();
  });

  test('the load split across two replicas: a voucher covering 12 calls buys exactly 12, charged once each', async () => {
    // One voucher for every call: each call must fit under it with everything charged and in flight on both replicas.
    const ch = await openTestChannel({ payer: chain.payer, chainId: chain.dev.chainId, contract: chain.contract, token: chain.token, receiver: chain.receiver, amount: 10n ** 8n });
    const signature = await ch.header(12n * CEILING);
    const paying: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      if (String(input).endsWith('/predict')) headers.set('payment-signature', signature);
      return fetch(input, { ...init, headers });
    };
    const models: FheModelClient[] = [];
    for (const g of gateways) models.push(await connectFheModel({ client: createHttpFheClient({ baseUrl: g.httpUrl!, fetch: paying }), modelId: 'breast-cancer-lr', variant: 'blocks' }));
    const sample = [loadDataset('breast-cancer').test.features[3]!];
    let next = 0;
    const outcomes: string[] = [];
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < 20) {
        const model = models[next++ % 2]!;
        const result = await model.predict(sample).then(() => 'served', (e: unknown) => (e instanceof VeilClientError ? e.code : String(e)));
        outcomes.push(result);
      }
    }));
    for (const m of models) await m.close();
    expect(outcomes.filter((o) => o === 'served')).toHaveLength(12);
    expect(outcomes.filter((o) => o !== 'served').every((o) => o === 'voucher_insufficient')).toBe(true);
    const ledger = await openPostgresLedger({ connectionString: pg.connectionString });
    try {
      const totals = await ledger.totals();
      expect(totals.receipts).toBe(12);
      expect(totals.charged).toBe(12n * CEILING);
      expect(totals.reserved).toBe(0n);
    } finally {
      await ledger.close();
    }
  }, 180_000);
}

/**
 * The SDK over two gateway replicas (issue #12 §2), payments off: `createVeilClient({ targets })` balances stateless
 * calls round robin and opens FHE sessions on the replicas in turn; when the replica holding a session goes away, or
 * a session is dropped, the next predict re-opens it from the keys the client holds — the caller sees no error.
 */
import { connectFheModel, createVeilClient, type FheModelClient, type VeilClient } from '../client';
import { createGateway, createLogger, loadConfig, type Gateway } from '../gateway';
import { loadDataset } from '../models';

let gateways: Gateway[] = [];
let client: VeilClient;

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    gateways.push(await createGateway(loadConfig({
      env: {},
      overrides: {
        grpc: { port: 0 }, http: { enabled: false }, fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 },
        tee: { enabled: false }, chain: { enabled: false }, payments: { enabled: false },
      },
    }), { logger: createLogger({ level: 'silent', format: 'text' }) }));
  }
  client = createVeilClient({ targets: gateways.map((g) => g.address), retry: { backoffMs: 20 } });
}, 120_000);

afterAll(async () => {
  client?.close();
  for (const g of gateways) await g.close();
});

const sample = [loadDataset('breast-cancer').test.features[3]!];

test('a dropped session and a replica that went away are both invisible to the caller', async () => {
  const models: FheModelClient[] = [];
  // CreateSession takes the replicas in turn: model 0's session lives on gateway 0, model 1's on gateway 1.
  for (let i = 0; i < 2; i++) models.push(await connectFheModel({ client, modelId: 'breast-cancer-lr', variant: 'blocks' }));
  const logit = async (m: FheModelClient) => (await m.predict(sample)).logits[0]![0]!;
  const reference = await logit(models[0]!);
  await models[1]!.predict(sample);

  // A session the replica no longer holds (expired, closed, or the replica restarted): re-opened on the next predict.
  await client.closeSession(await models[0]!.session());
  expect(await logit(models[0]!)).toBeCloseTo(reference, 2);
  expect(models[0]!.reestablished).toBe(1);

  // Gateway 0 goes away: listing is retried on the other replica, and model 0's next predict re-opens its session
  // there; model 1's session, already on the survivor, is untouched.
  await gateways[0]!.close();
  gateways = gateways.slice(1);
  expect((await client.listModels()).models.map((m) => m.id)).toContain('breast-cancer-lr');
  expect(await logit(models[0]!)).toBeCloseTo(reference, 2);
  expect(models[0]!.reestablished).toBe(2);
  await models[1]!.predict(sample);
  expect(models[1]!.reestablished).toBe(0);
  for (const m of models) await m.close();
}, 120_000);

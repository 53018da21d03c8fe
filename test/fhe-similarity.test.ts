/**
 * A similarity table served like any FHE model, end to end: the gateway loads a CSV table (fhe.models entry
 * `<name>.csv`), the SDK encrypts one query, the gateway's worker pool scores every row, and the client decrypts
 * and ranks them (top-k never leaves the client).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectFheModel, createVeilClient, type VeilClient } from '../client';
import { topK } from '../fhe';
import { startFheHttpStack, type FheHttpStack } from './support/start-fhe-http-stack';

const ROWS = 5000; // two result ciphertexts of 4,096 rows
const DIMS = 32;
let s = 12345;
const uniform = () => {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return ((s >>> 0) + 1) / 2 ** 32;
};
const gaussUnit = (): number[] => {
  const v = Array.from({ length: DIMS }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
  const n = Math.hypot(...v);
  return v.map((x) => Number((x / n).toFixed(6)));
};
const table = Array.from({ length: ROWS }, gaussUnit);
let dir: string;
let stack: FheHttpStack;
let client: VeilClient;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-simsearch-'));
  const file = path.join(dir, 'random-index.csv');
  fs.writeFileSync(file, table.map((r) => r.join(',')).join('\n') + '\n');
  stack = await startFheHttpStack({ models: [file], variants: ['blocks'], threads: 1 });
  client = createVeilClient({ target: stack.grpc.address });
}, 300_000);

afterAll(async () => {
  client?.close();
  await stack?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('ListModels lists the table with its row count and dimension', async () => {
  const { models } = await client.listModels();
  expect(models.find((m) => m.id === 'random-index')).toMatchObject({ modes: ['fhe'], inputSize: DIMS, outputSize: ROWS });
});

test('an encrypted query through the gateway ranks rows as plaintext does (top-1 equal, recall@10 ≥ 0.9)', async () => {
  const model = await connectFheModel({ client, modelId: 'random-index', variant: 'blocks' });
  try {
    for (let q = 0; q < 3; q++) {
      const query = gaussUnit();
      const { logits } = await model.predict([query]);
      expect(logits).toHaveLength(1);
      expect(logits[0]).toHaveLength(ROWS);
      const plain = table.map((r) => r.reduce((a, v, j) => a + v * query[j]!, 0));
      expect(topK(logits[0]!, 1)).toEqual(topK(plain, 1));
      const truth = topK(plain, 10);
      expect(topK(logits[0]!, 10).filter((i) => truth.includes(i)).length).toBeGreaterThanOrEqual(9);
    }
    await expect(model.predict([wrongDimension()])).rejects.toMatchObject({ code: 'invalid_argument', message: `sample 0 has ${DIMS + 1} features; model "random-index" takes ${DIMS}` });
  } finally {
    await model.close();
  }
}, 120_000);

const wrongDimension = () => new Array(DIMS + 1).fill(0.1);

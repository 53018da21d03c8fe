/**
 * Issue #11, the enterprise alternative without crypto: API keys carry budgets, enforced by the payment ledger's own
 * reservation rules. A gateway with payments on and auth.mode = api-keys (embedded anvil, SQLite ledger): a key with a
 * budget pays its FHE predictions and its TEE chat streams from it (no wallet, no voucher, no pause), the budget
 * stops it (budget_exhausted: HTTP 429, OpenAI type insufficient_quota), a key without a budget still has to pay with vouchers, and the
 * settlement worker never tries to claim a budget on chain.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { connectFheModel, createHttpFheClient, startVeilProxy, VeilClientError } from '../client';
import { createGateway, createLogger, loadConfig, type Gateway } from '../gateway';
import { generateApiKey, updateKeysFile } from '../gateway/auth';
import { loadDataset } from '../models';
import { budgetChannelId, DEFAULT_PRICE_TABLE } from '../payments';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 } as const;
const CHAT = 'toy-chat-kjv';
const PREDICT = 1_100n; // breast-cancer-lr: perCall 100 + 1 group × 1,000
const chat = DEFAULT_PRICE_TABLE.models[CHAT]!;

let dir: string;
let gateway: Gateway;
const keys: Record<'budgeted' | 'plain' | 'chatty', string> = { budgeted: '', plain: '', chatty: '' };
const ids: Record<keyof typeof keys, string> = { budgeted: '', plain: '', chatty: '' };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-budget-'));
  const keysFile = path.join(dir, 'api-keys.json');
  const budgets: Record<keyof typeof keys, string | undefined> = { budgeted: (2n * PREDICT + 500n).toString(), plain: undefined, chatty: '1000000' };
  for (const name of Object.keys(keys) as (keyof typeof keys)[]) {
    const key = generateApiKey();
    keys[name] = key.key;
    ids[name] = key.id;
    const budget = budgets[name];
    updateKeysFile(keysFile, (c) => c.keys.push({
      id: key.id, sha256: key.sha256, name, createdAt: '', models: '*', modes: ['fhe', 'tee'], rate: null, revokedAt: null, ...(budget ? { budget } : {}),
    }));
  }
  gateway = await createGateway(loadConfig({
    env: {},
    overrides: {
      dataDir: dir, grpc: { port: 0 }, http: { port: 0 }, fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 },
      tee: { models: [], languageModels: [CHAT] }, chain: { enabled: true }, auth: { mode: 'api-keys', keysFile },
      payments: { enabled: true, streamWindowTokens: 8 },
    },
  }), { logger: createLogger({ level: 'silent', format: 'json' }) });
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const charged = async (keyId: string) => (await gateway.payments!.ledger.channel(budgetChannelId(keyId)))?.charged ?? 0n;

test('FHE predictions are charged to the key\'s budget until it is spent; then budget_exhausted (429), never over it', async () => {
  const model = await connectFheModel({ client: createHttpFheClient({ baseUrl: gateway.httpUrl!, apiKey: keys.budgeted }), modelId: 'breast-cancer-lr', variant: 'blocks' });
  try {
    const samples = loadDataset('breast-cancer').test.features;
    for (let i = 0; i < 2; i++) expect((await model.predict([samples[i]!])).logits).toHaveLength(1);
    expect(await charged(ids.budgeted)).toBe(2n * PREDICT);
    // 500 left, a prediction may cost 1,100: refused before it runs.
    const refused = await model.predict([samples[2]!]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(VeilClientError);
    expect((refused as VeilClientError).code).toBe('budget_exhausted');
    expect(await charged(ids.budgeted)).toBe(2n * PREDICT);
    expect((await gateway.payments!.ledger.channel(budgetChannelId(ids.budgeted)))!.reserved).toBe(0n);
  } finally {
    await model.close();
  }
}, 120_000);

test('a key without a budget still has to pay with vouchers', async () => {
  const model = await connectFheModel({ client: createHttpFheClient({ baseUrl: gateway.httpUrl!, apiKey: keys.plain }), modelId: 'breast-cancer-lr', variant: 'blocks' });
  try {
    const refused = await model.predict([loadDataset('breast-cancer').test.features[0]!]).catch((e: unknown) => e);
    expect((refused as VeilClientError).code).toBe('payment_required');
  } finally {
    await model.close();
  }
}, 120_000);

test('a chat stream through veil proxy is paid window by window from the budget, with no top-up round trip', async () => {
  const proxy = await startVeilProxy({ gateway: gateway.httpUrl, apiKey: keys.chatty, policy: POLICY, allowSimulated: true, roots: { simulated: [...gateway.tee!.simulatedKeys] }, host: '127.0.0.1', port: 0 });
  try {
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused-by-veil', maxRetries: 0 });
    const stream = await openai.chat.completions.create({ model: CHAT, messages: [{ role: 'user', content: 'And God said' }], temperature: 0, max_tokens: 40, stream: true, stream_options: { include_usage: true } });
    let usage: OpenAI.CompletionUsage | null | undefined;
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usage!.completion_tokens).toBeGreaterThan(8);
    const cost = chat.perCall! + chat.perInputToken! * BigInt(usage!.prompt_tokens) + chat.perOutputToken! * BigInt(usage!.completion_tokens);
    expect(await charged(ids.chatty)).toBe(cost);
  } finally {
    await proxy.close();
  }
}, 120_000);

test('budgets are never claimed on chain: the settlement worker\'s candidates exclude them', async () => {
  expect(await charged(ids.budgeted)).toBeGreaterThan(0n);
  const claimable = await gateway.payments!.ledger.claimable(100);
  expect(claimable.filter((c) => c.channelId.startsWith('apikey:'))).toEqual([]);
});

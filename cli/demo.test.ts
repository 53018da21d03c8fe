import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createVeilClient } from '../client';
import { createGateway, createLogger, loadConfig } from '../gateway';
import { captureCli } from '../test/support/capture-cli';
import { resolveDemoModel, run } from './demo';

test('veil demo accepts the short model names the docs use', () => {
  expect(resolveDemoModel(undefined)).toBe('breast-cancer-lr');
  expect(resolveDemoModel('digits')).toBe('digits-mlp');
  expect(resolveDemoModel('lr')).toBe('breast-cancer-lr');
  expect(resolveDemoModel('digits-relu-mlp')).toBe('digits-relu-mlp');
});

test('error: bad flags exit 2 with usage; no gateway at the target exits 1 naming the address', async () => {
  expect((await captureCli(run, ['--latency-samples', '0'])).code).toBe(2);
  expect((await captureCli(run, ['--bogus'])).code).toBe(2);
  const down = await captureCli(run, ['--target', '127.0.0.1:9', '--latency-samples', '1']);
  expect(down.code).toBe(1);
  expect(down.err).toContain('127.0.0.1:9');
});

// `--input` is read by Veil's one CSV rule (models/read-numeric-csv.ts) before any connection: a bad file exits 2
// naming line and column, never a value (feature rows are user data), and nothing is sent anywhere.
describe('veil demo --mode tee --input', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'veil-demo-csv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const row = (j0 = 0, n = 30) => Array.from({ length: n }, (_, j) => ((j + j0) % 17).toFixed(1));
  const withCell = (column: number, cell: string) => row().map((c, j) => (j === column - 1 ? cell : c)).join(',');
  const demo = (text: string, extra: string[] = []) => {
    const file = path.join(dir, 'rows.csv');
    writeFileSync(file, text);
    return captureCli(run, ['--mode', 'tee', '--input', file, '--target', '127.0.0.1:9', '--latency-samples', '1', ...extra]);
  };

  test.each([
    ['an empty cell in the first row (not a header)', `${withCell(3, '')}\n${row(1).join(',')}\n`, /rows\.csv line 1, column 3: empty cell/],
    ['a word in a data row', `${row().join(',')}\r\n${withCell(9, 'patient-4711')}\r\n`, /rows\.csv line 2, column 9: not a finite number/],
    ['a quoted cell', `${withCell(1, '"4711"')}\n`, /rows\.csv line 1, column 1: quoted field/],
    ['a blank line inside the table', `${row().join(',')}\n\n${row(4711).join(',')}\n`, /rows\.csv line 2: blank line inside the table/],
    ['a ragged row', `${row().join(',')}\n${row(4711, 31).join(',')}\n`, /rows\.csv line 2: 31 columns, expected 30/],
  ])('error: %s exits 2 before connecting', async (_, text, message) => {
    const r = await demo(text);
    expect(r.err).toMatch(message);
    expect(r.err).not.toContain('4711');
    expect(r.err).not.toContain('127.0.0.1:9');
    expect(r.code).toBe(2);
  });

  test('error: rows must have the bundled model\'s feature count', async () => {
    const r = await demo(`${row().join(',')}\n`, ['--model', 'digits']);
    expect(r.err).toMatch(/rows\.csv line 1: 30 columns, expected 64/);
    expect(r.code).toBe(2);
  });

  test('a valid file (header, CRLF) reaches the gateway: one output per row, equal to plaintext', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'veil-demo-gw-'));
    const config = loadConfig({
      env: {},
      overrides: { grpc: { port: 0 }, http: { enabled: false }, fhe: { models: [] }, tee: { models: ['breast-cancer-lr'] }, chain: { enabled: false }, dataDir },
    });
    const gateway = await createGateway(config, { logger: createLogger({ level: 'silent', format: 'text' }) });
    try {
      const header = row().map((_, j) => `feature ${j + 1}`).join(',');
      const file = path.join(dir, 'good.csv');
      writeFileSync(file, `${header}\r\n${row(0).join(',')}\r\n${row(5).join(',')}\r\n${row(11).join(',')}\r\n`);
      const r = await captureCli(run, ['--mode', 'tee', '--input', file, '--target', gateway.address, '--latency-samples', '1', '--json']);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out);
      expect(report).toMatchObject({ mode: 'tee', samples: 3, signatureValid: true });
      expect(report.outputs).toHaveLength(3);
      expect(report.maxAbsError).toBeLessThan(1e-5);
    } finally {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

test('veil demo --mode chat streams a reply from the gateway\'s toy chat model, verifies the stream receipt and prints what was attested', async () => {
  const gateway = await createGateway(loadConfig({
    env: {},
    overrides: {
      grpc: { port: 0 }, http: { enabled: false }, fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 },
      // streamWindowMs 0: tokens are not held back to fill a window; the receipt's event count is checked against them.
      tee: { models: ['breast-cancer-lr'], languageModels: ['toy-chat-kjv'], streamWindowMs: 0 }, chain: { enabled: false },
    },
  }), { logger: createLogger({ level: 'silent', format: 'text' }) });
  try {
    const shown = await captureCli(run, ['--mode', 'chat', '--target', gateway.address, '--max-tokens', '16']);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^prompt +In the beginning\nreply +\S/m);
    expect(shown.out).toMatch(/platform +SIMULATED, self-signed/);
    expect(shown.out).toMatch(/receipt +valid — EIP-191 over the sealed request and all \d+ sealed events/);
    const json = await captureCli(run, ['--mode', 'chat', '--target', gateway.address, '--max-tokens', '16', '--json', '--prompt', 'And God said']);
    const report = JSON.parse(json.out) as { completion: string; usage: { completion_tokens: number }; receipt: { events: number }; nodeId: string };
    expect(report.nodeId).toBe('local');
    expect(report.completion.length).toBeGreaterThan(0);
    expect(report.usage.completion_tokens).toBeLessThanOrEqual(16);
    // Chunks ready together travel as one sealed event (PROTOCOL §10): at least a data event and the signed end, at
    // most one per chunk (role, each token, finish, usage) plus the end.
    expect(report.receipt.events).toBeGreaterThanOrEqual(2);
    expect(report.receipt.events).toBeLessThanOrEqual(report.usage.completion_tokens + 4);
    expect((await captureCli(run, ['--mode', 'chat', '--target', gateway.address, '--model', 'breast-cancer-lr'])).code).toBe(1);
    expect((await captureCli(run, ['--mode', 'chat', '--max-tokens', '0'])).code).toBe(2);
  } finally {
    await gateway.close();
  }
});

test('veil demo --mode both: the same test split through FHE and an attested TEE node, cross-checked with each other and plaintext — paid on the embedded dev chain', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'veil-demo-both-'));
  const gateway = await createGateway(loadConfig({
    env: {},
    overrides: {
      grpc: { port: 0 }, http: { enabled: false }, fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 },
      // The embedded dev chain and payments on, as `npm start` runs: every demo call is paid from dev account 1.
      tee: { models: ['breast-cancer-lr'], languageModels: ['toy-chat-kjv'] }, dataDir,
    },
  }), { logger: createLogger({ level: 'silent', format: 'text' }) });
  try {
    const r = await captureCli(run, ['--mode', 'both', '--model', 'lr', '--target', gateway.address, '--latency-samples', '2', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ mode: 'both', model: 'breast-cancer-lr', samples: 113, teeSignaturesValid: true, teeNode: 'local' });
    // Exact models: both private paths give every row plaintext's class.
    expect(report).toMatchObject({ fheVsTee: 1, fheVsPlaintext: 1, teeVsPlaintext: 1 });
    expect(report.fheAccuracy).toBe(report.plaintextAccuracy);
    expect(report.paid).toMatchObject({ channel: expect.stringMatching(/^0x[0-9a-f]{64}$/), payer: expect.stringContaining('(dev account 1), budget 10000000') });
    expect(BigInt(report.paid.amount)).toBeGreaterThan(0n);
    // A paid token stream over gRPC (InferStream: one voucher up front, charged what it delivered): exactly the price
    // table's 50 per call + 1 per prompt token + 5 per completion token of the signed usage.
    const chat = JSON.parse((await captureCli(run, ['--mode', 'chat', '--target', gateway.address, '--max-tokens', '12', '--json'])).out);
    expect(BigInt(chat.paid.amount)).toBe(50n + BigInt(chat.usage.prompt_tokens) + 5n * BigInt(chat.usage.completion_tokens));
    const shown = await captureCli(run, ['--mode', 'both', '--model', 'lr', '--target', gateway.address, '--latency-samples', '1']);
    expect(shown.out).toMatch(/FHE vs TEE +100\.00% of rows get the same class/);
    expect(shown.out).toMatch(/^paid +\d+ token units \(\d+\.\d{6} vUSD\), every receipt settled/m);
    expect((await captureCli(run, ['--mode', 'both', '--input', 'x.csv'])).code).toBe(2);
    // ListModels says which models are served both ways.
    const client = createVeilClient({ target: gateway.address });
    try {
      expect((await client.listModels()).models.find((m) => m.id === 'breast-cancer-lr')?.modes).toEqual(['fhe', 'tee']);
    } finally {
      client.close();
    }
  } finally {
    await gateway.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 180_000);

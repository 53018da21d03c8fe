/**
 * Issue #10: a TEE node killed in the middle of a streamed chat completion. The app (official `openai` client) must get
 * a clear error — never a stream that simply ends as if complete — and the proxy and gateway keep serving.
 */
import OpenAI from 'openai';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { startVeilProxy, type VeilProxy } from '../client';
import { createGateway, createLogger, loadConfig, type Gateway } from '../gateway';
import { startVeilWorker, type VeilWorkerProcess } from './support/start-veil-worker';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 } as const;
// The barely trained MQA toy rarely emits its end token, so a long completion runs to max_tokens: time to kill the node.
const MODEL = 'toy-chat-mqa-kjv';

describe('a node killed mid-stream', () => {
  let worker: VeilWorkerProcess;
  let gateway: Gateway;
  let proxy: VeilProxy;
  let openai: OpenAI;

  beforeAll(async () => {
    worker = await startVeilWorker(['--threads', '1', '--models', 'breast-cancer-lr', '--language-models', MODEL, '--language-host', 'in-process']);
    gateway = await createGateway(loadConfig({
      env: {},
      overrides: {
        grpc: { port: 0 }, http: { port: 0 }, fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 }, chain: { enabled: false },
        tee: { local: false, nodes: [worker.address], simulatedKeys: [worker.simulatedKey], healthCheckSeconds: 1 },
      },
    }), { logger: createLogger({ level: 'silent', format: 'text' }) });
    proxy = await startVeilProxy({ gateway: gateway.httpUrl!, policy: POLICY, allowSimulated: true, roots: { simulated: [...gateway.tee!.simulatedKeys] }, host: '127.0.0.1', port: 0, models: [MODEL] });
    openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await gateway?.close();
    worker?.child.kill('SIGKILL');
  });

  test('the client gets an error, not a silently truncated success; the gateway then reports the node unavailable', async () => {
    const stream = await openai.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: 'In the beginning' }], temperature: 0, max_tokens: 480, stream: true,
    });
    let chunks = 0;
    let finish: string | null = null;
    let failure: unknown;
    try {
      for await (const chunk of stream) {
        chunks++;
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunks === 3) worker.child.kill('SIGKILL');
      }
    } catch (err) {
      failure = err;
    }
    expect(chunks).toBeGreaterThanOrEqual(3);
    expect(finish).toBeNull(); // no chunk ever claimed the completion finished
    expect(failure).toBeInstanceOf(Error);
    expect(String((failure as Error).message)).toMatch(/no longer available|tee_stream_truncated|ended before its signed end/i);

    // The next request is refused clearly (the only node is gone), and the proxy still answers.
    await expect(openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 4 })).rejects.toMatchObject({ status: expect.any(Number) });
    expect((await fetch(`${proxy.url}/healthz`)).status).toBe(200);
  });
});

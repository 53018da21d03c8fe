/**
 * The SDK's operation calls straight to a real TEE node (no gateway): connectTeeModel over createTeeTransport (gRPC
 * TeeNode.Infer / TeeNode.InferStream) and over an in-process transport, against a node serving a fake language host.
 * The node, its sealing, stream sealer and receipts are the real ones; the model is a stand-in (llm/ tests the real one).
 */
import { createSimulatedProvider, DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { connectTeeModel, createTeeTransport, type TeePolicy, type TeeTransport } from '../client/tee';
import { isTeeError } from '../tee';
import { startTeeNodeServer, type TeeLanguageHost, type TeeNodeServer, type TeePool } from '../workers/tee';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY: TeePolicy = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 60 };
const emptyPool: TeePool = { modelIds: [], threads: 0, intraOpThreads: 0, queueSize: 0, run: () => Promise.reject(new Error('no tensor models')), close: async () => undefined };

class FakeLlmError extends Error {
  override name = 'LlmError';
  constructor(readonly code: string, message: string, readonly param?: string) {
    super(message);
  }
}

const host: TeeLanguageHost = {
  models: [{ id: 'toy-chat', kind: 'chat', contextLength: 16 }],
  async run(operation, _model, request) {
    const r = request as { messages?: { content: string }[]; n?: number };
    if (r.n !== undefined && r.n > 1) throw new FakeLlmError('unsupported_parameter', 'n must be 1', 'n');
    return { object: operation === 'embeddings' ? 'list' : 'chat.completion', echo: r.messages?.[0]?.content ?? null };
  },
  async *stream(_model, request) {
    const content = (request as { messages: { content: string }[] }).messages[0]!.content;
    if (content.split(' ').length > 16) throw new FakeLlmError('context_length_exceeded', 'the prompt is longer than the context', 'messages');
    for (const word of content.split(' ')) yield { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: word } }] };
  },
  async close() {},
};

describe('TeeModelClient.call / stream straight to a TEE node', () => {
  const provider = createSimulatedProvider();
  let worker: TeeNodeServer;
  beforeAll(async () => {
    worker = await startTeeNodeServer({ host: '127.0.0.1', port: 0, pool: emptyPool, ownsPool: false, evidenceSource: provider, languageHost: host, evidenceRefreshMs: 0 });
  });
  afterAll(() => worker.close());

  const transports: [string, () => TeeTransport][] = [
    ['gRPC TeeNode', () => createTeeTransport({ target: worker.address })],
    ['in process', () => ({ getEvidence: (r) => worker.node.getEvidence(r), infer: (r) => worker.node.infer(r), inferStream: (r, o) => worker.node.inferStream(r, o) })],
  ];

  test.each(transports)('%s: chat (unary and streamed), the node\'s refusals with their param', async (_name, make) => {
    const model = await connectTeeModel({ transport: make(), modelId: 'toy-chat', policy: POLICY, allowSimulated: true, roots: { simulated: [provider.verifierKey] } });
    const unary = await model.call('chat.completions', { model: 'toy-chat', messages: [{ role: 'user', content: 'hi there' }] });
    expect(unary.body).toEqual({ object: 'chat.completion', echo: 'hi there' });
    const chunks: string[] = [];
    for await (const chunk of model.stream({ model: 'toy-chat', messages: [{ role: 'user', content: 'a b c' }] })) {
      chunks.push((chunk as { choices: { delta: { content: string } }[] }).choices[0]!.delta.content);
    }
    expect(chunks).toEqual(['a', 'b', 'c']);
    const n = await model.call('chat.completions', { model: 'toy-chat', messages: [], n: 2 }).catch((e: unknown) => e);
    expect(isTeeError(n, 'unsupported_parameter')).toBe(true);
    expect(n).toMatchObject({ param: 'n' });
    const long = await (async () => {
      for await (const _ of model.stream({ model: 'toy-chat', messages: [{ role: 'user', content: 'w '.repeat(20) }] })) void _;
    })().catch((e: unknown) => e);
    expect(isTeeError(long, 'context_length_exceeded')).toBe(true);
    expect(long).toMatchObject({ param: 'messages' });
    model.close();
  });
});

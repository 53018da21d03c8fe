/**
 * Operation bodies and sealed streams through the whole relay (issue #10): client channel → gateway gRPC Tee.InferStream
 * → router → remote link → `veil worker`'s TeeNode.InferStream → node → language host, and back. The language host is a
 * fake (the real one is tested in llm/); everything else is real, over loopback gRPC.
 */
import * as grpc from '@grpc/grpc-js';
import { createSimulatedProvider, DEFAULT_SIMULATED_MEASUREMENT } from '../../attestation';
import { callServerStream, callUnary, loadVeilProto, type TeeInferResponse, type TeeStreamEvent } from '../../proto';
import {
  createHpkeSuite, createTeeChannel, createTeeSignatureVerifier, decodeTeeOperationResponse, encodeTeeOperationRequest, newRequestId, type TeeChannel,
} from '../../tee';
import { startTeeNodeServer, type TeeNodeServer } from '../../workers/tee';
import { createGrpcServer, type GrpcServer } from '../grpc';
import { createLogger } from '../logger';
import { createRemoteTeeLink } from './create-remote-tee-link';
import { createTeeRouter, type TeeRouter } from './create-tee-router';
import { createTeeService } from './create-tee-service';
import { createFakeLanguageHost, EMPTY_TEE_POOL } from '../../workers/tee/test-support/fake-language-host';

const MODEL = 'fake-chat';
const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const ATTESTATION = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 } as const;
const text = new TextEncoder();

const fakeHost = () => createFakeLanguageHost(MODEL);

type Chunk = { choices: Array<{ delta: { content: string } }> };
/** A data event's chunks (PROTOCOL §10): one chunk object, or an array of the chunks that were ready together. */
const chunksOf = (body: Uint8Array): Chunk[] => {
  const value = JSON.parse(Buffer.from(body).toString()) as Chunk | Chunk[];
  return Array.isArray(value) ? value : [value];
};
const emptyPool = EMPTY_TEE_POOL;

describe('sealed operation bodies and streams through the gateway relay', () => {
  let worker: TeeNodeServer;
  let host: ReturnType<typeof fakeHost>;
  let router: TeeRouter;
  let gateway: GrpcServer;
  let stub: grpc.Client;
  let channel: TeeChannel;
  let nodeId: string;
  const errors = { cancelled: () => new Error('cancelled'), deadlineExceeded: () => new Error('deadline'), fromStatus: (e: grpc.ServiceError) => Object.assign(new Error(e.details), { grpcCode: e.code, code: e.metadata.get('veil-error-code')[0], param: e.metadata.get('veil-error-param')[0] }) };

  beforeAll(async () => {
    host = fakeHost();
    worker = await startTeeNodeServer({ host: '127.0.0.1', port: 0, pool: emptyPool, ownsPool: false, languageHost: host, evidenceSource: createSimulatedProvider(), evidenceRefreshMs: 0 });
    const logger = createLogger({ level: 'error', format: 'json', write: () => undefined });
    router = createTeeRouter({
      links: [createRemoteTeeLink({ id: 'w1', address: worker.address, maxMessageBytes: 4 * 1024 * 1024 })], logger,
      policy: { attestation: ATTESTATION, allowSimulated: true, roots: { simulated: 'self-signed' } }, maxEvidenceAgeMs: 60_000, refreshMs: 0, healthCheckMs: 0, nodeTimeoutMs: 5_000,
    });
    await router.start();
    gateway = await createGrpcServer({ host: '127.0.0.1', port: 0, maxReceiveMessageBytes: 4 << 20, maxSendMessageBytes: 4 << 20, services: { Tee: createTeeService(router, logger) } });
    stub = new (loadVeilProto().services.Tee)(gateway.address, grpc.credentials.createInsecure());
    const routed = await callUnary<{ nodeId: string; evidence: { identity: { hpkePublicKey: Uint8Array } } }>(stub, 'GetEvidence', { modelId: MODEL, nonce: new Uint8Array(32).fill(1) }, {}, errors);
    nodeId = routed.nodeId;
    channel = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: routed.evidence.identity.hpkePublicKey, modelId: MODEL });
  });
  afterAll(async () => {
    stub?.close();
    await gateway?.close();
    await router?.close();
    await worker?.close();
  });

  const seal = async (operation: 'chat.completions' | 'embeddings', body: object) => {
    const requestId = newRequestId();
    const request = await channel.seal(encodeTeeOperationRequest({ requestId, timestampMs: Date.now(), modelId: MODEL, operation, body: text.encode(JSON.stringify(body)) }));
    return { requestId, request };
  };
  const streamOf = (sealedRequest: Uint8Array, signal?: AbortSignal) =>
    callServerStream<TeeStreamEvent>(stub, 'InferStream', { nodeId, modelId: MODEL, sealedRequest }, { signal }, errors);

  test('the router lists what the node serves, with kind and context length', () => {
    expect(router.models()).toEqual([{ id: MODEL, kind: 'chat', contextLength: 64, nodes: 1 }]);
  });

  test('a non-streamed operation is one sealed, signed response', async () => {
    const { requestId, request } = await seal('chat.completions', { model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    const response = await callUnary<TeeInferResponse>(stub, 'Infer', { nodeId, modelId: MODEL, sealedRequest: request.sealed }, {}, errors);
    createTeeSignatureVerifier(worker.node.identity.signingAddress).verify({ modelId: MODEL, requestBytes: request.sealed, responseBytes: response.sealedResponse, signature: response.signature });
    const body = decodeTeeOperationResponse(request.open(response.sealedResponse));
    expect(Buffer.from(body.requestId)).toEqual(Buffer.from(requestId));
    expect(JSON.parse(Buffer.from(body.body).toString())).toMatchObject({ object: 'chat.completion', echo: 'hi' });
  });

  test('a stream arrives event by event, in order, and its receipt covers the whole transcript', async () => {
    const { requestId, request } = await seal('chat.completions', { stream: true, messages: [{ role: 'user', content: 'In the beginning God' }] });
    const opener = request.openStream(requestId);
    const words: string[] = [];
    let last: TeeStreamEvent | undefined;
    let events = 0;
    for await (const event of streamOf(request.sealed)) {
      const opened = opener.open(event.sealedEvent);
      if (opened.kind === 'data') words.push(...chunksOf(opened.body).map((c) => c.choices[0]!.delta.content));
      else expect(opened.kind).toBe('end');
      last = event;
      events++;
    }
    expect(words).toEqual(['In', 'the', 'beginning', 'God']);
    expect(opener.ended).toBe(true);
    const { hash, count } = opener.transcript();
    expect(count).toBe(events);
    createTeeSignatureVerifier(worker.node.identity.signingAddress).verifyStream({ modelId: MODEL, requestBytes: request.sealed, transcriptHash: hash, count, signature: last!.signature! });
  });

  test('every event carries the node\'s signed usage so far; the router checks it against the attested key (PROTOCOL §12)', async () => {
    const { requestId, request } = await seal('chat.completions', { stream: true, messages: [{ role: 'user', content: 'In the beginning God' }] });
    const opener = request.openStream(requestId);
    const usages: { inputTokens: number; outputTokens: number }[] = [];
    const delivered: number[] = [];
    let words = 0;
    for await (const event of streamOf(request.sealed)) {
      expect(event.usage?.signature).toMatch(/^0x[0-9a-f]{130}$/);
      usages.push({ inputTokens: event.usage!.inputTokens, outputTokens: event.usage!.outputTokens });
      const opened = opener.open(event.sealedEvent);
      if (opened.kind === 'data') words += chunksOf(opened.body).length;
      delivered.push(words);
    }
    // The fake meters a token per word: 4 prompt tokens, and each event the words generated through its last chunk
    // (chunks ready together share one event); the end event repeats the total.
    expect(usages).toEqual(delivered.map((outputTokens) => ({ inputTokens: 4, outputTokens })));
    expect(usages.at(-1)).toEqual({ inputTokens: 4, outputTokens: 4 });
    const unary = await seal('chat.completions', { model: MODEL, messages: [{ role: 'user', content: 'a b c' }] });
    const response = await callUnary<TeeInferResponse>(stub, 'Infer', { nodeId, modelId: MODEL, sealedRequest: unary.request.sealed }, {}, errors);
    expect(response.usage).toMatchObject({ inputTokens: 3, outputTokens: 3 });
  });

  test('a node whose usage does not verify is quarantined, and the call fails as a node that went away', async () => {
    const { request } = await seal('chat.completions', { model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    const lying = createTeeRouter({
      links: [{
        id: 'liar', address: 'fake', maxMessageBytes: 0,
        getEvidence: (req, o) => worker.node.getEvidence(req, o),
        infer: async (req, o) => ({ ...(await worker.node.infer(req, o)), usage: { inputTokens: 1, outputTokens: 9_999, signature: `0x${'11'.repeat(65)}` } }),
        inferStream: (req, o) => worker.node.inferStream(req, o),
        close: () => undefined,
      }],
      logger: createLogger({ level: 'error', format: 'json', write: () => undefined }),
      policy: { attestation: ATTESTATION, allowSimulated: true, roots: { simulated: 'self-signed' } }, maxEvidenceAgeMs: 60_000, refreshMs: 0, healthCheckMs: 0, nodeTimeoutMs: 5_000,
    });
    await lying.start();
    try {
      await expect(lying.infer({ nodeId: 'liar', modelId: MODEL, sealedRequest: request.sealed }, { signal: new AbortController().signal, deadline: Date.now() + 5_000 }))
        .rejects.toMatchObject({ code: 'tee_node_unavailable' });
      expect(lying.nodes()[0]).toMatchObject({ state: 'quarantined', reason: 'bad_usage_signature' });
    } finally {
      await lying.close();
    }
  });

  test('a refusal before the first token is a typed status with its parameter; no stream starts', async () => {
    const { request } = await seal('chat.completions', { stream: true, messages: [{ role: 'user', content: 'fail-early' }] });
    await expect((async () => { for await (const _ of streamOf(request.sealed)) { /* none */ } })()).rejects.toMatchObject({ grpcCode: grpc.status.INVALID_ARGUMENT, code: 'unsupported_parameter', param: 'n' });
  });

  test('a failure after the first token is a sealed error event (generic text for internal failures), signed like an end', async () => {
    const { requestId, request } = await seal('chat.completions', { stream: true, messages: [{ role: 'user', content: 'fail-mid a b c' }] });
    const opener = request.openStream(requestId);
    const kinds: string[] = [];
    const words: string[] = [];
    let lastBody = '';
    for await (const event of streamOf(request.sealed)) {
      const opened = opener.open(event.sealedEvent);
      kinds.push(opened.kind);
      if (opened.kind === 'data') words.push(...chunksOf(opened.body).map((c) => c.choices[0]!.delta.content));
      lastBody = Buffer.from(opened.body).toString();
    }
    // The two chunks made before the failure are delivered, then the signed error event ends the stream.
    expect(words).toEqual(['fail-mid', 'a']);
    expect(kinds.at(-1)).toBe('error');
    expect(kinds.slice(0, -1).every((k) => k === 'data')).toBe(true);
    expect(JSON.parse(lastBody)).toEqual({ code: 'internal', message: 'internal error', param: null });
  });

  test('a client that cancels mid-stream stops generation in the node', async () => {
    const before = host.aborted;
    const { request } = await seal('chat.completions', { stream: true, messages: [{ role: 'user', content: 'slow' }] });
    const controller = new AbortController();
    let seen = 0;
    await expect((async () => {
      for await (const _ of streamOf(request.sealed, controller.signal)) if (++seen === 3) controller.abort();
    })()).rejects.toThrow('cancelled');
    for (let i = 0; i < 50 && host.aborted === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(host.aborted).toBe(before + 1);
  });

  test('streaming a non-stream request, or single-answering a stream request, is refused naming `stream`', async () => {
    const a = await seal('chat.completions', { messages: [{ role: 'user', content: 'x' }] });
    await expect((async () => { for await (const _ of streamOf(a.request.sealed)) { /* none */ } })()).rejects.toMatchObject({ code: 'invalid_argument', param: 'stream' });
    const b = await seal('chat.completions', { stream: true, messages: [{ role: 'user', content: 'x' }] });
    await expect(callUnary(stub, 'Infer', { nodeId, modelId: MODEL, sealedRequest: b.request.sealed }, {}, errors)).rejects.toMatchObject({ code: 'invalid_argument', param: 'stream' });
  });
});

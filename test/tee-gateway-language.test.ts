/**
 * The SDK's TeeModelClient.call / stream through the real gateway relay: connectTeeModel({ gateway }) → gateway gRPC
 * Tee (router, remote link) → `veil worker` node → a fake language host. Everything but the model is real.
 */
import * as grpc from '@grpc/grpc-js';
import { createSimulatedProvider, DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { connectTeeModel, isTeeError, type TeeModelClient, type TeePolicy } from '../client/tee';
import { createGrpcServer, type GrpcServer } from '../gateway/grpc';
import { createLogger } from '../gateway/logger';
import { createRemoteTeeLink } from '../gateway/tee/create-remote-tee-link';
import { createTeeRouter, type TeeRouter } from '../gateway/tee/create-tee-router';
import { createTeeService } from '../gateway/tee/create-tee-service';
import { startTeeNodeServer, type TeeNodeServer } from '../workers/tee';
import { createFakeLanguageHost, EMPTY_TEE_POOL } from '../workers/tee/test-support/fake-language-host';
import { loadVeilProto, type TeePaidStreamMessage } from '../proto';
import { createHpkeSuite, createTeeChannel, encodeTeeOperationRequest, newRequestId } from '../tee';

const MODEL = 'toy-chat';
const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY: TeePolicy = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 };
const fakeHost = () => createFakeLanguageHost(MODEL);
const emptyPool = EMPTY_TEE_POOL;


describe('TeeModelClient.call / stream through the gateway (gRPC)', () => {
  let worker: TeeNodeServer;
  let host: ReturnType<typeof fakeHost>;
  let router: TeeRouter;
  let gateway: GrpcServer;
  let model: TeeModelClient;

  beforeAll(async () => {
    host = fakeHost();
    const provider = createSimulatedProvider();
    worker = await startTeeNodeServer({ host: '127.0.0.1', port: 0, pool: emptyPool, ownsPool: false, languageHost: host, evidenceSource: provider, evidenceRefreshMs: 0 });
    const logger = createLogger({ level: 'error', format: 'json', write: () => undefined });
    router = createTeeRouter({
      links: [createRemoteTeeLink({ id: 'w1', address: worker.address, maxMessageBytes: 4 * 1024 * 1024 })], logger,
      policy: { attestation: { ...POLICY, measurements: 'any' }, allowSimulated: true, roots: { simulated: [provider.verifierKey] } }, maxEvidenceAgeMs: 60_000, refreshMs: 0, healthCheckMs: 0, nodeTimeoutMs: 5_000,
    });
    await router.start();
    gateway = await createGrpcServer({ host: '127.0.0.1', port: 0, maxReceiveMessageBytes: 4 << 20, maxSendMessageBytes: 4 << 20, services: { Tee: createTeeService(router, logger) } });
    model = await connectTeeModel({ gateway: gateway.address, modelId: MODEL, policy: POLICY, allowSimulated: true, roots: { simulated: [provider.verifierKey] } });
  });
  afterAll(async () => {
    model?.close();
    await gateway?.close();
    await router?.close();
    await worker?.close();
  });

  const words = async (content: string) => {
    const out: string[] = [];
    for await (const chunk of model.stream({ model: MODEL, messages: [{ role: 'user', content }] })) {
      out.push((chunk as { choices?: { delta: { content: string } }[] }).choices?.[0]?.delta.content ?? '');
    }
    return out;
  };

  test('call and stream: the enclave\'s answers, verified against the node the SDK attested', async () => {
    expect(model.nodeId).toBe('w1');
    expect(model.signingAddress.toLowerCase()).toBe(worker.node.identity.signingAddress.toLowerCase());
    expect((await model.call('chat.completions', { model: MODEL, messages: [{ role: 'user', content: 'hi' }] })).body).toMatchObject({ object: 'chat.completion', echo: 'hi' });
    expect(await words('In the beginning God')).toEqual(['In', 'the', 'beginning', 'God']);
  });

  test('Tee.InferStreamPaid on a gateway that does not charge: a plain relay of the sealed events; a top-up on it, or a first message without the request, is refused naming the field', async () => {
    const stub = new (loadVeilProto().services.Tee)(gateway.address, grpc.credentials.createInsecure());
    type Duplex = grpc.ClientDuplexStream<object, TeePaidStreamMessage>;
    const open = () => (stub as unknown as { InferStreamPaid(m: grpc.Metadata): Duplex }).InferStreamPaid(new grpc.Metadata());
    const collect = (call: Duplex) => new Promise<{ messages: TeePaidStreamMessage[]; status: grpc.StatusObject }>((resolve) => {
      const messages: TeePaidStreamMessage[] = [];
      call.on('data', (m: TeePaidStreamMessage) => messages.push(m));
      call.on('error', () => undefined);
      call.on('status', (status: grpc.StatusObject) => resolve({ messages, status }));
    });
    try {
      const hpkePublicKey = worker.node.identity.hpkePublicKey;
      const seal = async (content: string) => (await createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey, modelId: MODEL, reuseSession: false }).seal(encodeTeeOperationRequest({
        requestId: newRequestId(), timestampMs: Date.now(), modelId: MODEL, operation: 'chat.completions',
        body: new TextEncoder().encode(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], stream: true })),
      }))).sealed;

      const relayed = open();
      const done = collect(relayed);
      relayed.write({ request: { nodeId: 'w1', modelId: MODEL, sealedRequest: await seal('In the beginning') } });
      const { messages, status } = await done;
      expect(status.code).toBe(grpc.status.OK);
      expect(messages.length).toBeGreaterThanOrEqual(2);
      expect(messages.every((m) => m.event !== undefined && m.paymentRequired === undefined)).toBe(true);
      expect(messages.at(-1)!.event!.signature).toMatch(/^0x/);

      const topUp = open();
      const refusedTopUp = collect(topUp);
      topUp.write({ request: { nodeId: 'w1', modelId: MODEL, sealedRequest: await seal('slow') } });
      topUp.write({ paymentSignature: 'e30=' });
      const refused = await refusedTopUp;
      expect(refused.status.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(refused.status.metadata.get('veil-error-param')).toEqual(['payment_signature']);

      const noRequest = open();
      const refusedFirst = collect(noRequest);
      noRequest.write({ paymentSignature: 'e30=' });
      const first = await refusedFirst;
      expect(first.status.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(first.status.metadata.get('veil-error-param')).toEqual(['request']);
      expect(first.messages).toHaveLength(0);
    } finally {
      stub.close();
    }
  });

  test('a refusal before the first token keeps its code and param across both hops; a failure mid-stream is the enclave\'s signed error', async () => {
    const early = await words('too long').catch((e: unknown) => e);
    expect(isTeeError(early, 'context_length_exceeded')).toBe(true);
    expect(early).toMatchObject({ param: 'messages' });
    const mid = await words('fail-mid a b c').catch((e: unknown) => e);
    expect(isTeeError(mid, 'internal')).toBe(true);
    expect((mid as Error).message).not.toContain('/secret/path');
  });

  test('aborting mid-stream stops generation in the node', async () => {
    const before = host.aborted;
    const controller = new AbortController();
    let seen = 0;
    const error = await (async () => {
      for await (const _ of model.stream({ model: MODEL, messages: [{ role: 'user', content: 'slow' }] }, { signal: controller.signal })) if (++seen === 3) controller.abort();
    })().catch((e: unknown) => e);
    expect(isTeeError(error, 'cancelled')).toBe(true);
    for (let i = 0; i < 50 && host.aborted === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(host.aborted).toBe(before + 1);
  });
});

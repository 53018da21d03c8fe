/**
 * TeeModelClient.call / stream over the gateway's gRPC veil.v1.Tee (Infer, InferStream), against a tiny Tee server
 * whose "nodes" are real enclave identities: real sealing, real receipts, and the transport's limits (cancel on break,
 * abort, a connection cut mid-stream) exercised on the wire.
 */
import * as grpc from '@grpc/grpc-js';
import { recoverMessageAddress } from 'viem';
import { createSimulatedProvider, DEFAULT_SIMULATED_MEASUREMENT } from '../../attestation';
import { loadVeilProto, type TeeStreamEvent } from '../../proto';
import { createEnclaveIdentity, encodeTeeOperationResponse, isTeeError, type EnclaveIdentity, type OpenedTeeRequest } from '../../tee';
import { connectTeeModel, type TeePolicy, type TeeStreamReceipt } from './index';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY: TeePolicy = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 60 };
const utf8 = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const REQUEST = { model: 'toy-chat', messages: [{ role: 'user', content: 'one two three' }] };

type Behaviour = 'ok' | 'session-unknown' | 'node-gone' | 'cut' | 'no-end' | 'slow' | 'batched' | 'empty-batch';

function status(code: grpc.status, details: string, veilCode?: string): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (veilCode) metadata.set('veil-error-code', veilCode);
  return { code, details, metadata };
}

describe('TeeModelClient.call / stream over gRPC Tee.InferStream', () => {
  const provider = createSimulatedProvider();
  const roots = { simulated: [provider.verifierKey] };
  let identities: EnclaveIdentity[];
  let server: grpc.Server;
  let target: string;
  let behaviour: Behaviour[] = [];
  const seen = { cancelled: 0, streams: 0, handshakes: 0, nodes: [] as string[] };

  const open = async (call: { request: { nodeId: string; modelId: string; sealedRequest: Uint8Array } }) => {
    const identity = identities[call.request.nodeId === 'node-b' ? 1 : 0]!;
    seen.nodes.push(call.request.nodeId);
    const opened = await identity.open({ modelId: call.request.modelId, sealed: call.request.sealedRequest });
    if (opened.kind === 'handshake') seen.handshakes++;
    return { identity, opened };
  };
  const words = (opened: OpenedTeeRequest) => {
    const body = opened.body as { body: Uint8Array };
    const request = JSON.parse(Buffer.from(body.body).toString('utf8')) as { messages: { content: string }[] };
    return request.messages[0]!.content.split(' ');
  };

  beforeAll(async () => {
    identities = [await createEnclaveIdentity(), await createEnclaveIdentity()];
    const proto = loadVeilProto();
    server = new grpc.Server();
    let next = 0;
    server.addService(proto.services.Tee.service, {
      GetEvidence: (call: grpc.ServerUnaryCall<{ modelId: string; nonce: Uint8Array; excludeNodeIds: string[] }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const nodes = ['node-a', 'node-b'].filter((n) => !call.request.excludeNodeIds.includes(n));
        const nodeId = nodes[next++ % nodes.length]!;
        const identity = identities[nodeId === 'node-b' ? 1 : 0]!;
        void provider.getEvidence({ hpkePublicKey: identity.hpkePublicKey, signingAddress: identity.signingAddress, nonce: call.request.nonce }).then((envelope) => callback(null, {
          nodeId,
          evidence: { envelopeJson: JSON.stringify(envelope), identity: { hpkePublicKey: identity.hpkePublicKey, signingAddress: identity.signingAddress, hpkeSuite: '', protocol: 'veil-tee-v1' }, platform: 'simulated', modelIds: ['toy-chat'] },
        }));
      },
      Infer: (call: grpc.ServerUnaryCall<{ nodeId: string; modelId: string; sealedRequest: Uint8Array }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        void (async () => {
          const { identity, opened } = await open(call);
          const sealedResponse = identity.sealResponse(opened, encodeTeeOperationResponse({ requestId: opened.body.requestId, body: utf8({ object: 'list', data: [{ embedding: [words(opened).length] }] }), computeMicros: 7 }));
          const signature = await identity.sign({ modelId: call.request.modelId, requestBytes: call.request.sealedRequest, responseBytes: sealedResponse });
          callback(null, { sealedResponse, signature, signingAddress: identity.signingAddress, nodeMicros: 9, computeMicros: 7 });
        })();
      },
      InferStream: (call: grpc.ServerWritableStream<{ nodeId: string; modelId: string; sealedRequest: Uint8Array }, TeeStreamEvent>) => {
        seen.streams++;
        call.on('cancelled', () => seen.cancelled++);
        const mode = behaviour.shift() ?? 'ok';
        void (async () => {
          if (mode === 'session-unknown' || mode === 'node-gone') {
            // Refused before any event, as the gateway relays it (with its Veil code).
            const [code, veil] = mode === 'node-gone' ? [grpc.status.UNAVAILABLE, 'tee_node_unavailable'] : [grpc.status.FAILED_PRECONDITION, 'tee_session_unknown'];
            if (mode === 'session-unknown') await open(call).catch(() => undefined);
            call.emit('error', status(code, mode, veil));
            return;
          }
          const { identity, opened } = await open(call);
          const sealer = identity.createStreamSealer(opened);
          const chunks = words(opened).map((w) => ({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: w } }] }));
          if (mode === 'batched' || mode === 'empty-batch') {
            // PROTOCOL §10: chunks ready together travel as one data event holding an array of them.
            call.write({ sealedEvent: sealer.seal('data', utf8(mode === 'batched' ? chunks.slice(0, 2) : [])) });
            call.write({ sealedEvent: sealer.seal('data', utf8(chunks[2])) });
            call.write({ sealedEvent: sealer.seal('end', utf8({ compute_micros: 7 })), signature: await sealer.sign(), signingAddress: identity.signingAddress, nodeMicros: 9, computeMicros: 7 });
            call.end();
            return;
          }
          for (const [i, chunk] of chunks.entries()) {
            if (call.cancelled) return;
            call.write({ sealedEvent: sealer.seal('data', utf8(chunk)) });
            if (mode === 'cut' && i === 1) {
              call.emit('error', status(grpc.status.UNAVAILABLE, 'Connection dropped'));
              return;
            }
            if (mode === 'slow') await new Promise((r) => setTimeout(r, 200));
          }
          if (mode === 'no-end') {
            call.end();
            return;
          }
          const end = sealer.seal('end', utf8({ compute_micros: 7 }));
          call.write({ sealedEvent: end, signature: await sealer.sign(), signingAddress: identity.signingAddress, nodeMicros: 9, computeMicros: 7 });
          call.end();
        })();
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    target = `127.0.0.1:${port}`;
  });
  afterAll(() => server.forceShutdown());

  const connect = () => connectTeeModel({ gateway: target, modelId: 'toy-chat', policy: POLICY, allowSimulated: true, roots });
  const collect = async (iterable: AsyncIterable<object>) => {
    const out: object[] = [];
    for await (const chunk of iterable) out.push(chunk);
    return out;
  };

  test('stream: every chunk in order, then a receipt over the transcript that viem verifies against the attested signer', async () => {
    const model = await connect();
    const receipts: TeeStreamReceipt[] = [];
    const chunks = await collect(model.stream(REQUEST, { onReceipt: (r) => receipts.push(r) }));
    expect(chunks.map((c) => (c as { choices: { delta: { content: string } }[] }).choices[0]!.delta.content)).toEqual(['one', 'two', 'three']);
    expect(receipts).toHaveLength(1);
    expect(receipts[0]!.count).toBe(4);
    expect(receipts[0]!.text).toMatch(/^veil-v1-stream:toy-chat:[0-9a-f]{64}:[0-9a-f]{64}:4$/);
    expect((await recoverMessageAddress({ message: receipts[0]!.text, signature: receipts[0]!.signature as `0x${string}` })).toLowerCase()).toBe(model.signingAddress.toLowerCase());
    // call() rides the same channel (a session request now), with a version-2 body over Infer.
    const result = await model.call('embeddings', { model: 'toy-chat', messages: [{ content: 'a b' }] });
    expect(result.body).toEqual({ object: 'list', data: [{ embedding: [2] }] });
    expect(result.receipt.text).toMatch(/^veil-v1:toy-chat:/);
    model.close();
  });

  test('a data event holding several chunks yields each in order; the receipt counts events, not chunks', async () => {
    const model = await connect();
    const receipts: TeeStreamReceipt[] = [];
    behaviour = ['batched'];
    const chunks = await collect(model.stream(REQUEST, { onReceipt: (r) => receipts.push(r) }));
    expect(chunks.map((c) => (c as { choices: { delta: { content: string } }[] }).choices[0]!.delta.content)).toEqual(['one', 'two', 'three']);
    expect(receipts[0]!.count).toBe(3);
    behaviour = ['empty-batch'];
    const error = await collect(model.stream(REQUEST)).catch((e: unknown) => e);
    expect(isTeeError(error, 'internal')).toBe(true);
    model.close();
  });

  test('a session the node forgot is re-handshaken once, as a new request, before the stream begins', async () => {
    const model = await connect();
    await collect(model.stream(REQUEST));
    const handshakes = seen.handshakes;
    behaviour = ['session-unknown'];
    expect(await collect(model.stream(REQUEST))).toHaveLength(3);
    expect(seen.handshakes).toBe(handshakes + 1);
    model.close();
  });

  test('a node that goes away before the first event: re-attest another node, re-seal, stream from it', async () => {
    const model = await connect();
    const first = model.nodeId;
    behaviour = ['node-gone'];
    expect(await collect(model.stream(REQUEST))).toHaveLength(3);
    expect(model.nodeId).not.toBe(first);
    expect(model.failovers).toBe(1);
    model.close();
  });

  test('a connection cut mid-stream is tee_stream_truncated (never a short success); a clean end without the signed end too', async () => {
    const model = await connect();
    for (const mode of ['cut', 'no-end'] as const) {
      behaviour = [mode];
      const got: object[] = [];
      const error = await (async () => {
        for await (const chunk of model.stream(REQUEST)) got.push(chunk);
      })().catch((e: unknown) => e);
      expect(isTeeError(error, 'tee_stream_truncated')).toBe(true);
      expect(got.length).toBeGreaterThan(0);
    }
    model.close();
  });

  test('breaking out of the loop cancels the call on the wire; an abort mid-stream is cancelled', async () => {
    const model = await connect();
    const cancelled = seen.cancelled;
    behaviour = ['slow'];
    for await (const _ of model.stream(REQUEST)) break;
    for (let i = 0; i < 50 && seen.cancelled === cancelled; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen.cancelled).toBe(cancelled + 1);

    behaviour = ['slow'];
    const controller = new AbortController();
    const error = await (async () => {
      for await (const _ of model.stream(REQUEST, { signal: controller.signal })) controller.abort();
    })().catch((e: unknown) => e);
    expect(isTeeError(error, 'cancelled')).toBe(true);
    model.close();
  });
});

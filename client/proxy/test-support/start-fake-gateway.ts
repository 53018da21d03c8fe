/**
 * A stand-in for the gateway's HTTP wire (contract §C) with a REAL enclave identity behind it: it attests with
 * SIMULATED evidence bound to the caller's nonce, opens each sealed request, answers with a toy "model" (echo), and
 * seals and signs the answer exactly as a node does, so every check the proxy makes is a real cryptographic one.
 * `next` makes the next relayed answer misbehave the ways a hostile or broken relay can. Tests only.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply } from 'fastify';
import { createSimulatedProvider, type SimulatedEvidenceProvider } from '../../../attestation';
import { createEnclaveIdentity, encodeTeeOperationResponse, type EnclaveIdentity, type OpenedTeeRequest } from '../../../tee';

export type FakeGatewayMisbehaviour =
  | 'tamper' | 'drop' | 'reorder' | 'duplicate' | 'truncate' | 'cut' | 'gateway-error' | 'enclave-error' | 'bad-signature' | 'after-end'
  /** Runs the request (and stores its answer under the Idempotency-Key), then drops the connection instead of answering. */
  | 'lose-answer'
  /** Answers 503 tee_node_unavailable without running (the node went away). */
  | 'node-gone'
  /** Streams one event every 100 ms (to see the proxy cancel when its client leaves). */
  | 'slow'
  /** Answers with a properly sealed and signed body that names another request id. */
  | 'other-request';

export type FakeGateway = {
  readonly url: string;
  readonly provider: SimulatedEvidenceProvider;
  readonly identities: EnclaveIdentity[];
  /** How many times the toy model actually ran, per operation. */
  readonly runs: { chat: number; embeddings: number };
  /** Every sealed body relayed (hex), in order. */
  readonly sealedBodies: string[];
  /** Idempotency-Key replays the fake answered from its store. */
  replays: number;
  /** The next relayed request's misbehaviour (consumed by it). */
  next: FakeGatewayMisbehaviour | undefined;
  /** Evidence answers given (attestations). */
  attestations: number;
  /** Streams whose client (the proxy) went away before the last event was written. */
  abandonedStreams: number;
  /** Node `index` restarts: new keys under the same node id (what a restarted in-process node looks like). */
  restart(index: number): Promise<void>;
  close(): Promise<void>;
};

type Stored = { hash: string; status: number; headers: Record<string, string>; body: Buffer | string };

const utf8 = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const openAiError = (status: number, code: string, message: string, param: string | null = null) => ({ status, body: { error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param, code } } });

export async function startFakeGateway(options: { nodes?: number; simulated?: boolean } = {}): Promise<FakeGateway> {
  const provider = createSimulatedProvider();
  const identities = await Promise.all(Array.from({ length: options.nodes ?? 1 }, () => createEnclaveIdentity()));
  const nodeIds = identities.map((_, i) => `node-${String.fromCharCode(97 + i)}`);
  const store = new Map<string, Stored>();
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/vnd.veil.sealed', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  let roundRobin = 0;

  const fake: FakeGateway = {
    url: '',
    provider,
    identities,
    runs: { chat: 0, embeddings: 0 },
    sealedBodies: [],
    replays: 0,
    next: undefined,
    attestations: 0,
    abandonedStreams: 0,
    restart: async (index) => {
      identities[index] = await createEnclaveIdentity();
    },
    close: () => app.close(),
  };

  app.get('/v1/models', async () => ({
    object: 'list',
    data: [
      { id: 'toy-chat', object: 'model', created: 0, owned_by: 'veil', modes: ['tee'], kind: 'chat', context_length: 256 },
      { id: 'toy-embed', object: 'model', created: 0, owned_by: 'veil', modes: ['tee'], kind: 'embedding', context_length: 128 },
      { id: 'breast-cancer-lr', object: 'model', created: 0, owned_by: 'veil', modes: ['fhe', 'tee'], kind: 'tabular', context_length: 0 },
    ],
  }));

  app.get('/v1/attestation', async (request, reply) => {
    const query = request.query as { model?: string; nonce?: string; exclude?: string };
    if (query.model !== 'toy-chat' && query.model !== 'toy-embed') {
      const e = openAiError(404, 'model_not_found', `no model ${query.model}`, 'model');
      return reply.code(e.status).send(e.body);
    }
    const excluded = new Set((query.exclude ?? '').split(',').filter(Boolean));
    const candidates = nodeIds.map((id, i) => ({ id, i })).filter((n) => !excluded.has(n.id));
    if (candidates.length === 0) {
      const e = openAiError(503, 'no_attested_worker', 'no attested TEE node serves this model right now');
      return reply.code(e.status).send(e.body);
    }
    const { id, i } = candidates[roundRobin++ % candidates.length]!;
    const identity = identities[i]!;
    const envelope = await provider.getEvidence({ hpkePublicKey: identity.hpkePublicKey, signingAddress: identity.signingAddress, nonce: Buffer.from(query.nonce ?? '', 'hex') });
    fake.attestations++;
    return {
      node_id: id,
      evidence: {
        envelope_json: JSON.stringify(envelope),
        identity: { hpke_public_key: Buffer.from(identity.hpkePublicKey).toString('hex'), signing_address: identity.signingAddress, hpke_suite: 'x25519-hkdf-sha256-aes128gcm', protocol: 'veil-tee-v1' },
        platform: 'simulated',
        model_ids: ['toy-chat', 'toy-embed'],
        max_message_bytes: 0,
        models: [{ id: 'toy-chat', kind: 'chat', context_length: 256 }, { id: 'toy-embed', kind: 'embedding', context_length: 128 }],
      },
    };
  });

  const relay = (operation: 'chat.completions' | 'embeddings') => async (request: import('fastify').FastifyRequest, reply: FastifyReply) => {
    const sealed = request.body as Buffer;
    if (!Buffer.isBuffer(sealed)) {
      const e = openAiError(400, 'sealed_request_required', 'this endpoint takes sealed requests; run `veil proxy` and point your client at it');
      return reply.code(e.status).send(e.body);
    }
    fake.sealedBodies.push(sealed.toString('hex'));
    const misbehaviour = fake.next;
    fake.next = undefined;
    const key = request.headers['idempotency-key'] as string | undefined;
    const hash = createHash('sha256').update(sealed).digest('hex');
    if (key !== undefined) {
      const stored = store.get(key);
      if (stored && stored.hash !== hash) return reply.code(409).send(openAiError(409, 'idempotency_key_reused', 'other body').body);
      if (stored) {
        fake.replays++;
        return reply.code(stored.status).headers(stored.headers).send(stored.body);
      }
    }
    if (misbehaviour === 'node-gone') {
      const e = openAiError(503, 'tee_node_unavailable', 'the TEE node is no longer available');
      return reply.code(e.status).send(e.body);
    }
    const nodeIndex = nodeIds.indexOf(String(request.headers['x-veil-node']));
    const identity = identities[nodeIndex];
    const modelId = String(request.headers['x-veil-model']);
    if (!identity) return reply.code(503).send(openAiError(503, 'tee_node_unavailable', 'unknown node').body);
    let opened: OpenedTeeRequest;
    try {
      opened = await identity.open({ modelId, sealed: new Uint8Array(sealed) });
    } catch (err) {
      return reply.code(400).send(openAiError(400, (err as { code: string }).code, 'the sealed request did not open').body);
    }
    if (opened.body.version !== 2 || opened.body.operation !== operation) return reply.code(400).send(openAiError(400, 'invalid_argument', 'wrong operation').body);
    const body = JSON.parse(Buffer.from(opened.body.body).toString('utf8')) as Record<string, unknown>;
    const refusal = validate(operation, body);
    if (refusal) return reply.code(refusal.status).send(refusal.body);

    const remember = (answer: Omit<Stored, 'hash'>) => {
      if (key !== undefined) store.set(key, { hash, ...answer });
    };

    if (operation === 'embeddings') {
      fake.runs.embeddings++;
      return sendUnary(reply, identity, opened, modelId, sealed, embed(body), remember, misbehaviour);
    }
    fake.runs.chat++;
    if (body.stream !== true || request.headers['x-veil-stream'] !== '1') return sendUnary(reply, identity, opened, modelId, sealed, complete(body), remember, misbehaviour);
    return sendStream(reply, identity, opened, body, remember, misbehaviour);
  };
  app.post('/v1/chat/completions', relay('chat.completions'));
  app.post('/v1/embeddings', relay('embeddings'));

  async function sendUnary(
    reply: FastifyReply, identity: EnclaveIdentity, opened: OpenedTeeRequest, modelId: string, sealed: Buffer, answer: object,
    remember: (answer: Omit<Stored, 'hash'>) => void, misbehaviour: FakeGatewayMisbehaviour | undefined,
  ) {
    const requestId = misbehaviour === 'other-request' ? new Uint8Array(16).fill(7) : opened.body.requestId;
    const response = encodeTeeOperationResponse({ requestId, body: utf8(answer), computeMicros: 42 });
    const sealedResponse = identity.sealResponse(opened, response);
    const signature = await identity.sign({ modelId, requestBytes: new Uint8Array(sealed), responseBytes: sealedResponse });
    const headers = {
      'content-type': 'application/vnd.veil.sealed', 'x-veil-signature': signature, 'x-veil-signing-address': identity.signingAddress,
      'x-veil-node-micros': '100', 'x-veil-compute-micros': '42',
    };
    if (misbehaviour === 'tamper') sealedResponse[sealedResponse.length - 3]! ^= 1;
    remember({ status: 200, headers, body: Buffer.from(sealedResponse) });
    if (misbehaviour === 'lose-answer') {
      reply.hijack();
      reply.raw.destroy();
      return reply;
    }
    return reply.code(200).headers(headers).send(Buffer.from(sealedResponse));
  }

  async function sendStream(
    reply: FastifyReply, identity: EnclaveIdentity, opened: OpenedTeeRequest, body: Record<string, unknown>,
    remember: (answer: Omit<Stored, 'hash'>) => void, misbehaviour: FakeGatewayMisbehaviour | undefined,
  ) {
    const sealer = identity.createStreamSealer(opened);
    const frames: Uint8Array[] = [];
    const chunks = streamChunks(body);
    if (misbehaviour === 'enclave-error') {
      frames.push(sealer.seal('data', utf8(chunks[0])));
      frames.push(sealer.seal('error', utf8({ code: 'overloaded', message: 'the node ran out of capacity mid-generation', param: null })));
    } else {
      for (const chunk of chunks) frames.push(sealer.seal('data', utf8(chunk)));
      frames.push(sealer.seal('end', utf8({ compute_micros: 42 })));
    }
    let signature = await sealer.sign();
    if (misbehaviour === 'bad-signature') {
      const other = await createEnclaveIdentity();
      signature = await other.sign({ modelId: 'toy-chat', requestBytes: new Uint8Array(1), responseBytes: new Uint8Array(1) });
    }
    const last = frames.length - 1;
    const event = (frame: Uint8Array, i: number) => {
      const e = Buffer.from(frame).toString('base64');
      const data = i === last ? { e, signature, signing_address: identity.signingAddress, node_micros: 100, compute_micros: 42 } : { e };
      return `event: sealed\ndata: ${JSON.stringify(data)}\n\n`;
    };
    let events = frames.map(event);
    if (misbehaviour === 'tamper') {
      const altered = Buffer.from(frames[1]!);
      altered[altered.length - 5]! ^= 1;
      events[1] = event(altered, 1);
    }
    if (misbehaviour === 'drop') events.splice(1, 1);
    if (misbehaviour === 'reorder') [events[0], events[1]] = [events[1]!, events[0]!];
    if (misbehaviour === 'duplicate') events.splice(1, 0, events[0]!);
    if (misbehaviour === 'truncate') events = events.slice(0, last);
    if (misbehaviour === 'after-end') events.push(events[0]!);
    const headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
    remember({ status: 200, headers, body: events.join('') });
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, headers);
    // Chunked like a real relay: one write per event, CRLF line ends on every other one (SSE allows both).
    for (const [i, text] of events.entries()) {
      if ((misbehaviour === 'cut' || misbehaviour === 'gateway-error') && i === 2) break;
      if (raw.destroyed) {
        fake.abandonedStreams++;
        return reply;
      }
      raw.write(i % 2 === 1 ? text.replace(/\n/g, '\r\n') : text);
      await new Promise((resolve) => (misbehaviour === 'slow' ? setTimeout(resolve, 100) : setImmediate(resolve)));
    }
    if (misbehaviour === 'cut') {
      raw.destroy();
      return reply;
    }
    if (misbehaviour === 'gateway-error') raw.write(`event: error\ndata: ${JSON.stringify(openAiError(503, 'tee_node_unavailable', 'the TEE node went away mid-stream').body)}\n\n`);
    raw.end();
    return reply;
  }

  await app.listen({ host: '127.0.0.1', port: 0 });
  (fake as { url: string }).url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return fake;
}

/** The toy node's parameter checks: the codes a real node relays through the gateway. */
function validate(operation: string, body: Record<string, unknown>) {
  if (operation === 'chat.completions') {
    if (typeof body.n === 'number' && body.n > 1) return openAiError(400, 'unsupported_parameter', 'n > 1 is not supported', 'n');
    const words = (body.messages as { content: string }[] | undefined ?? []).reduce((n, m) => n + String(m.content).split(/\s+/).length, 0);
    if (words > 200) return openAiError(400, 'context_length_exceeded', `This model's maximum context length is 256 tokens; the messages use ${words}`, 'messages');
  }
  return undefined;
}

const replyWords = (body: Record<string, unknown>) => {
  const messages = body.messages as { role: string; content: string }[];
  return ['echo:', ...String(messages[messages.length - 1]!.content).split(/\s+/)];
};

const usageOf = (body: Record<string, unknown>, completion: number) => {
  const prompt = (body.messages as { content: string }[]).reduce((n, m) => n + String(m.content).split(/\s+/).length, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
};

function complete(body: Record<string, unknown>): object {
  const words = replyWords(body);
  return {
    id: 'chatcmpl-fake', object: 'chat.completion', created: 1, model: body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: words.join(' ') }, finish_reason: 'stop', logprobs: null }],
    usage: usageOf(body, words.length),
  };
}

function streamChunks(body: Record<string, unknown>): object[] {
  const words = replyWords(body);
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model: body.model };
  const chunks: object[] = words.map((w, i) => ({ ...base, choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: w } : { content: ` ${w}` }, finish_reason: null }] }));
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage) chunks.push({ ...base, choices: [], usage: usageOf(body, words.length) });
  return chunks;
}

function embed(body: Record<string, unknown>): object {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const data = inputs.map((text, index) => {
    const vector = [String(text).length, 1, 0.5, -0.25];
    const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  const tokens = inputs.reduce((n: number, t) => n + String(t).split(/\s+/).length, 0);
  return { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

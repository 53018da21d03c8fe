import type { GetTeeEvidenceResponse, TeeInferResponse } from '../../../proto';
import type { TeeCallContext } from '../../tee';
import { createLogger } from '../../logger';
import type { ServedFheModel } from '../../models/load-fhe-models';
import { createHttpServer, type CreateHttpServerOptions, type HttpServer } from '../create-http-server';
import type { HttpTeeModel, HttpTeeRouter, HttpTeeStreamEvent } from '../http-tee-router';

type InferParams = Parameters<HttpTeeRouter['infer']>[0];

/** A TEE router fake that counts and records every call; each behaviour can be replaced per test. */
export type FakeRouter = HttpTeeRouter & {
  calls: { infer: number; stream: number; evidence: number };
  seen: { params: InferParams; context: TeeCallContext }[];
  evidenceContexts: TeeCallContext[];
  onInfer: (params: InferParams, context: TeeCallContext) => Promise<TeeInferResponse>;
  onStream: (params: InferParams, context: TeeCallContext) => AsyncGenerator<HttpTeeStreamEvent>;
  teeModels: HttpTeeModel[];
};

export const EVIDENCE: GetTeeEvidenceResponse & { models: { id: string; kind: string; contextLength: number }[] } = {
  envelopeJson: '{"platform":"simulated"}',
  identity: { hpkePublicKey: new Uint8Array([1, 2, 3, 254]), signingAddress: '0xabc', hpkeSuite: 'x25519-hkdf-sha256-aes128gcm', protocol: 'veil-tee-v1' },
  platform: 'simulated',
  modelIds: ['toy-chat'],
  maxMessageBytes: 1024,
  models: [{ id: 'toy-chat', kind: 'chat', contextLength: 512 }],
};

/** A node stream: `count` data events, then the signed last one. */
export async function* nodeEvents(count: number, last = true): AsyncGenerator<HttpTeeStreamEvent> {
  for (let i = 0; i < count; i++) yield { sealedEvent: new Uint8Array([0x82, i]), signature: '', signingAddress: '', nodeMicros: 0, computeMicros: 0 };
  if (last) yield { sealedEvent: new Uint8Array([0x82, 0xff]), signature: '0xsig', signingAddress: '0xabc', nodeMicros: 900, computeMicros: 700 };
}

export function createFakeRouter(): FakeRouter {
  const router: FakeRouter = {
    calls: { infer: 0, stream: 0, evidence: 0 },
    seen: [],
    evidenceContexts: [],
    teeModels: [{ id: 'toy-chat', kind: 'chat', contextLength: 512, nodes: 1 }, { id: 'breast-cancer-lr', kind: 'tabular', contextLength: 0, nodes: 1 }] as HttpTeeModel[],
    onInfer: async (params) => ({
      sealedResponse: new Uint8Array([0x81, ...params.sealedRequest]), signature: '0xsig', signingAddress: '0xabc', nodeMicros: 1234, computeMicros: 1000,
    }),
    onStream: () => nodeEvents(2),
    async getEvidence(params, context) {
      router.calls.evidence++;
      router.evidenceContexts.push(context);
      return { nodeId: 'local', evidence: EVIDENCE };
    },
    infer(params, context) {
      router.calls.infer++;
      router.seen.push({ params, context });
      return router.onInfer(params, context);
    },
    inferStream(params, context) {
      router.calls.stream++;
      router.seen.push({ params, context });
      return router.onStream(params, context);
    },
    models: () => router.teeModels,
  };
  return router;
}

export const FHE_MODELS: ReadonlyMap<string, ServedFheModel> = new Map([['breast-cancer-lr', {} as ServedFheModel], ['digits-mlp', {} as ServedFheModel]]);

export type TestServer = HttpServer & { router: FakeRouter; lines: string[] };

/** A listening HTTP server on a free loopback port with a fake router; `lines` is what it logged. */
export async function startTestServer(over: Partial<CreateHttpServerOptions> = {}): Promise<TestServer> {
  const lines: string[] = [];
  const router = createFakeRouter();
  const server = await createHttpServer({
    host: '127.0.0.1', port: 0, bodyLimitBytes: 64 * 1024, deadlines: { defaultMs: 30_000, maxMs: 60_000 },
    logger: createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) }),
    fheModels: FHE_MODELS, tee: router, idempotency: { ttlMs: 60_000, maxEntries: 100, maxBytes: 1024 * 1024 },
    ...over,
  });
  return Object.assign(server, { router: (over.tee as FakeRouter | undefined) ?? router, lines });
}

export const SEALED = { 'content-type': 'application/vnd.veil.sealed', 'x-veil-model': 'toy-chat', 'x-veil-node': 'local' } as const;

export type CallResult = { statusCode: number; headers: Record<string, string>; body: string; rawPayload: Buffer; json(): any };

/**
 * One request to the listening server over a real socket. (fastify's `inject` cannot run under jest here: its
 * light-my-request loads the ESM-only `cookie` 2.x, which jest's CommonJS runtime cannot require.)
 */
export async function call(server: { url: string }, options: { method?: string; url: string; headers?: Record<string, string>; payload?: string | Buffer }): Promise<CallResult> {
  const res = await fetch(`${server.url}${options.url}`, { method: options.method ?? 'GET', headers: options.headers, body: options.payload });
  const rawPayload = Buffer.from(await res.arrayBuffer());
  const body = rawPayload.toString('utf8');
  return { statusCode: res.status, headers: Object.fromEntries(res.headers), body, rawPayload, json: () => JSON.parse(body) };
}

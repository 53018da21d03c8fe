import {
  decodeCiphertextGroups, encodeCiphertextGroups, type CiphertextGroup, type CreateSessionResponse, type GetFheSpecResponse,
  type ListModelsResponse, type PredictResponse,
} from '../proto';
import type { CallOptions, CreateFheSessionParameters, VeilClient } from './create-veil-client';
import { VeilClientError } from './veil-client-error';
import { isPayerError, isPaymentMismatch } from './payments';
import { traceHttpRequest } from './trace-http-request';

/** What `connectFheModel` needs from a gateway: met by the gRPC `VeilClient` and by `createHttpFheClient`. */
export type FheGatewayClient = Pick<VeilClient, 'listModels' | 'getFheSpec' | 'createFheSession' | 'predict' | 'closeSession'>;

export type HttpFheClientOptions = {
  /** The gateway's HTTP origin, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** An API key from `veil keys create`, sent as `authorization: Bearer <key>`. */
  apiKey?: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /**
   * Sent as `x-veil-affinity` with this client's session calls (create, predict, close), default a random token per
   * client. A balancer that hashes on it (deploy/nginx/veil.conf) keeps a session's calls on the replica that holds
   * its keys; it names nothing but this client object, and carries nothing of the data.
   */
  affinity?: string;
};

/** The header a balancer hashes FHE session calls on. */
export const AFFINITY_HEADER = 'x-veil-affinity';

type ErrorBody = { error?: { message?: unknown; code?: unknown; param?: unknown } };

/**
 * FHE mode over the gateway's HTTP surface (gateway/http/FHE-HTTP.md) with the same shape as the gRPC client, so
 * `connectFheModel({ client: createHttpFheClient({ baseUrl }) , modelId })` works unchanged: keys, encryption and
 * decryption stay in the SDK; predictions travel in the binary framing. Errors are `VeilClientError`s carrying the
 * gateway's stable code and `param`.
 */
export function createHttpFheClient(options: HttpFheClientOptions): FheGatewayClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const auth: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const affinity = { [AFFINITY_HEADER]: options.affinity ?? globalThis.crypto.randomUUID() };

  const call = async (path: string, init: RequestInit, opts: CallOptions = {}): Promise<Response> => {
    const signals = [opts.signal, opts.deadlineMs ? AbortSignal.timeout(opts.deadlineMs) : undefined].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    let response: Response;
    try {
      // The gateway's deadline for the call is the SDK's own (x-veil-deadline-ms); without one, the server's default.
      const deadline: Record<string, string> = opts.deadlineMs ? { 'x-veil-deadline-ms': String(Math.ceil(opts.deadlineMs)) } : {};
      response = await traceHttpRequest(init.method ?? 'GET', path, { ...auth, ...deadline, ...init.headers as Record<string, string> },
        (headers) => doFetch(`${base}${path}`, { ...init, headers, signal }), (r) => r.status);
    } catch (err) {
      if (opts.signal?.aborted) throw new VeilClientError('cancelled', 'the call was cancelled');
      if (signal?.aborted) throw new VeilClientError('deadline_exceeded', 'the deadline expired before the call finished');
      // The payer refusing to pay (budget, caps, foreign requirements) or catching an overcharge is not an outage.
      if (isPayerError(err) || isPaymentMismatch(err)) throw new VeilClientError(err.code, err.message, undefined, undefined, { cause: err });
      throw new VeilClientError('unavailable', `the gateway cannot be reached: ${(err as Error).message}`, undefined, undefined, { cause: err });
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  };

  return {
    async listModels(opts): Promise<ListModelsResponse> {
      const list = await (await call('/v1/fhe/models', {}, opts)).json() as { data: { id: string; description: string; variants: string[]; input_size: number; output_size: number; postprocess: string }[] };
      return {
        models: list.data.map((m) => ({
          id: m.id, description: m.description, modes: ['fhe'], inputSize: m.input_size, outputSize: m.output_size,
          postprocess: m.postprocess, fheVariants: m.variants,
        })),
      };
    },

    async getFheSpec(modelId, opts, variant = ''): Promise<GetFheSpecResponse> {
      const query = variant ? `?variant=${encodeURIComponent(variant)}` : '';
      const response = await call(`/v1/fhe/models/${encodeURIComponent(modelId)}/spec${query}`, {}, opts);
      const specJson = await response.text();
      const spec = JSON.parse(specJson) as {
        params: { polyModulusDegree: number; coeffModulusBits: number[]; scaleBits: number };
        batchCapacity: number; galoisSteps: number[]; needsRelinKeys: boolean;
      };
      return {
        modelId, variant: response.headers.get('x-veil-fhe-variant') ?? variant, specJson,
        specSha256: response.headers.get('x-veil-spec-sha256') ?? '',
        polyModulusDegree: spec.params.polyModulusDegree, coeffModulusBits: spec.params.coeffModulusBits, scaleBits: spec.params.scaleBits,
        batchCapacity: spec.batchCapacity, galoisSteps: spec.galoisSteps, needsRelinKeys: spec.needsRelinKeys,
      };
    },

    async createFheSession(params: CreateFheSessionParameters, opts): Promise<CreateSessionResponse> {
      const galois = params.galoisKeys ?? new Uint8Array(0);
      const relin = params.relinKeys ?? new Uint8Array(0);
      const response = await call('/v1/fhe/sessions', {
        method: 'POST',
        headers: {
          ...affinity,
          'content-type': 'application/octet-stream',
          'x-veil-model': params.modelId,
          'x-veil-fhe-variant': params.variant ?? '',
          'x-veil-spec-sha256': params.specSha256 ?? '',
          'x-veil-galois-keys-bytes': String(galois.byteLength),
          'x-veil-relin-keys-bytes': String(relin.byteLength),
        },
        // A Blob is sent with its content-length, which the gateway checks against the declared sizes.
        body: new Blob([galois as Uint8Array<ArrayBuffer>, relin as Uint8Array<ArrayBuffer>]),
      }, opts);
      const created = await response.json() as { id: string; bytes_received: number; ttl_seconds: number };
      return { sessionId: created.id, bytesReceived: created.bytes_received, ttlSeconds: created.ttl_seconds };
    },

    async predict(sessionId: string, groups: CiphertextGroup[], opts): Promise<PredictResponse> {
      const framed = encodeCiphertextGroups(groups);
      const response = await call(`/v1/fhe/sessions/${encodeURIComponent(sessionId)}/predict`, {
        method: 'POST',
        // The key makes a paid retry (by the caller, or through a balancer to another replica) a replay, not a new charge.
        headers: { ...affinity, 'content-type': 'application/octet-stream', accept: 'application/octet-stream', ...(opts?.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {}) },
        body: framed as Uint8Array<ArrayBuffer>,
      }, opts);
      const answer = decodeCiphertextGroups(new Uint8Array(await response.arrayBuffer()));
      return { groups: answer, evalMicros: Number(response.headers.get('x-veil-eval-micros') ?? 0) };
    },

    async closeSession(sessionId, opts): Promise<void> {
      await call(`/v1/fhe/sessions/${encodeURIComponent(sessionId)}`, { method: 'DELETE', headers: affinity }, opts);
    },
  };
}

/** The gateway's OpenAI-shaped error as a VeilClientError (a non-Veil answer keeps its HTTP status in the message). */
async function errorOf(response: Response): Promise<VeilClientError> {
  let body: ErrorBody | undefined;
  try {
    body = await response.json() as ErrorBody;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  const code = typeof e?.code === 'string' ? e.code : `http_${response.status}`;
  const message = typeof e?.message === 'string' ? e.message : `the gateway answered HTTP ${response.status}`;
  return new VeilClientError(code, message, undefined, typeof e?.param === 'string' ? e.param : undefined);
}

import * as grpc from '@grpc/grpc-js';
import {
  callUnary, loadVeilProto, MIN_KEY_CHUNK_BYTES, runWithLimits, traceGrpcCalls, type CallLimitErrors, type CiphertextGroup, type CreateSessionRequest, type CreateSessionResponse,
  type GetFheSpecResponse, type GetRegistryResponse, type ListModelsResponse, type ListTeeNodesResponse, type PredictResponse,
} from '../proto';
import { apiKeyInterceptors } from './api-key-interceptor';
import { fromServiceError, VeilClientError } from './veil-client-error';

export type VeilClientOptions = {
  /** host:port of the gateway, e.g. `127.0.0.1:50051`. */
  target: string;
  /** Channel credentials: plaintext by default; `grpc.credentials.createSsl(caPem)` for a TLS gateway. */
  credentials?: grpc.ChannelCredentials;
  /** An API key from `veil keys create`, sent as `authorization: Bearer <key>` on every call. */
  apiKey?: string;
  /** Must cover the largest message the client sends (a predict with many groups). */
  maxMessageBytes?: number;
  /** More grpc-js client interceptors, run after the API key's (e.g. a payer adding `payment-signature`). */
  interceptors?: grpc.Interceptor[];
};

export type CallOptions = { deadlineMs?: number; signal?: AbortSignal };

export type CreateFheSessionParameters = {
  modelId: string;
  /** The FHE variant the keys were made for (empty: the default, `blocks`). */
  variant?: string;
  specSha256?: string;
  galoisKeys?: Uint8Array;
  relinKeys?: Uint8Array;
  /** Bytes per streamed chunk: at least MIN_KEY_CHUNK_BYTES (the server refuses smaller ones), under its message-size limit. */
  chunkBytes?: number;
};

export type VeilClient = {
  listModels(options?: CallOptions): Promise<ListModelsResponse>;
  getFheSpec(modelId: string, options?: CallOptions, variant?: string): Promise<GetFheSpecResponse>;
  /** What calls cost and where to pay (Models.GetPricing; the same JSON as HTTP GET /v1/pricing). */
  getPricing(options?: CallOptions): Promise<Record<string, unknown>>;
  createFheSession(params: CreateFheSessionParameters, options?: CallOptions): Promise<CreateSessionResponse>;
  predict(sessionId: string, groups: CiphertextGroup[], options?: CallOptions): Promise<PredictResponse>;
  closeSession(sessionId: string, options?: CallOptions): Promise<void>;
  /** The on-chain registry the gateway publishes its enclaves' attestations to. */
  getTrustRegistry(options?: CallOptions): Promise<GetRegistryResponse>;
  /** The gateway's TEE nodes: state, platform, measurement, and the evidence it verified and published. */
  listTeeNodes(options?: CallOptions): Promise<ListTeeNodesResponse>;
  close(): void;
};

const DEFAULT_CHUNK = 1024 * 1024;

/**
 * A thin typed client for the veil.v1 gRPC API. Errors surface as `VeilClientError` carrying the gateway's
 * stable code. For end-to-end encrypted inference use `connectFheModel`, which builds on this.
 */
export function createVeilClient(options: VeilClientOptions): VeilClient {
  const proto = loadVeilProto();
  const channelOptions = {
    'grpc.max_send_message_length': options.maxMessageBytes ?? 256 * 1024 * 1024,
    'grpc.max_receive_message_length': options.maxMessageBytes ?? 256 * 1024 * 1024,
    // Responses are ciphertexts of 64 KB–17 MB. With HTTP/2's default 64 KiB receive window even the smallest one
    // stalls on a WINDOW_UPDATE round trip; a larger window saves ~0.5–1 ms per call (measured on loopback).
    'grpc-node.flow_control_window': 8 * 1024 * 1024,
  };
  const credentials = options.credentials ?? grpc.credentials.createInsecure();
  const keyed = apiKeyInterceptors(options.apiKey).interceptors ?? [];
  const extra = options.interceptors ?? [];
  // First, so its client span covers every other interceptor's work (a payer's retry included). Through the
  // OpenTelemetry API only: an app that installs no tracer gets no span and sends no traceparent.
  const auth = { interceptors: [traceGrpcCalls('veil-client'), ...keyed, ...extra] };
  const models = new proto.services.Models(options.target, credentials, { ...channelOptions, ...auth });
  // Share the channel between the stubs.
  const shared = { ...channelOptions, ...auth, channelOverride: models.getChannel() };
  const fhe = new proto.services.Fhe(options.target, credentials, shared);
  const trust = new proto.services.Trust(options.target, credentials, shared);
  const tee = new proto.services.Tee(options.target, credentials, shared);

  const errors = { ...CALL_ERRORS, fromStatus: fromServiceError };
  const limits = (opts: CallOptions) => ({ deadline: opts.deadlineMs ? Date.now() + opts.deadlineMs : undefined, signal: opts.signal });
  const unary = <Res>(stub: grpc.Client, method: string, request: unknown, opts: CallOptions = {}): Promise<Res> =>
    callUnary<Res>(stub, method, request, limits(opts), errors);

  return {
    listModels: (opts) => unary(models, 'ListModels', {}, opts),
    getFheSpec: (modelId, opts, variant = '') => unary(models, 'GetFheSpec', { modelId, variant }, opts),
    getPricing: async (opts) => {
      const { pricingJson } = await unary<{ pricingJson: string }>(models, 'GetPricing', {}, opts);
      try {
        return JSON.parse(pricingJson) as Record<string, unknown>;
      } catch (cause) {
        throw new VeilClientError('internal', 'the gateway\'s pricing is not valid JSON', undefined, undefined, { cause });
      }
    },
    predict: (sessionId, groups, opts) => unary(fhe, 'Predict', { sessionId, groups }, opts),
    closeSession: async (sessionId, opts) => {
      await unary(fhe, 'CloseSession', { sessionId }, opts);
    },
    getTrustRegistry: (opts) => unary(trust, 'GetRegistry', {}, opts),
    listTeeNodes: (opts) => unary(tee, 'ListNodes', {}, opts),
    createFheSession: (params, opts = {}) => runWithLimits((signal) =>
      new Promise<CreateSessionResponse>((resolve, reject) => {
        const callOptions: grpc.CallOptions = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
        const call = (fhe as unknown as { CreateSession: Function }).CreateSession(
          callOptions,
          (err: grpc.ServiceError | null, response: CreateSessionResponse) => (err ? reject(fromServiceError(err)) : resolve(response)),
        ) as grpc.ClientWritableStream<CreateSessionRequest>;
        signal.addEventListener('abort', () => call.cancel(), { once: true });
        const chunk = params.chunkBytes ?? DEFAULT_CHUNK;
        if (!Number.isInteger(chunk) || chunk < MIN_KEY_CHUNK_BYTES) {
          call.cancel();
          reject(new VeilClientError('invalid_argument', `chunkBytes must be an integer of at least ${MIN_KEY_CHUNK_BYTES}`));
          return;
        }
        void (async () => {
          const write = (message: CreateSessionRequest) =>
            new Promise<void>((done) => (call.write(message) ? done() : call.once('drain', done)));
          await write({
            header: {
              modelId: params.modelId,
              variant: params.variant ?? '',
              galoisKeysBytes: params.galoisKeys?.byteLength ?? 0,
              relinKeysBytes: params.relinKeys?.byteLength ?? 0,
              specSha256: params.specSha256 ?? '',
            },
          });
          for (const [kind, bytes] of [['KIND_GALOIS', params.galoisKeys], ['KIND_RELIN', params.relinKeys]] as const) {
            if (!bytes) continue;
            for (let offset = 0; offset < bytes.byteLength; offset += chunk) {
              await write({ chunk: { kind, data: bytes.subarray(offset, offset + chunk) } });
            }
          }
          call.end();
        })().catch((err) => {
          call.cancel();
          reject(err);
        });
      }), limits(opts), errors),
    close: () => {
      for (const stub of [fhe, trust, tee]) stub.close();
      models.close();
    },
  };
}

const CALL_ERRORS: CallLimitErrors = {
  cancelled: () => new VeilClientError('cancelled', 'the call was cancelled', grpc.status.CANCELLED),
  deadlineExceeded: () => new VeilClientError('deadline_exceeded', 'the deadline expired before the call finished', grpc.status.DEADLINE_EXCEEDED),
};

import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  callUnary, loadVeilProto, MIN_KEY_CHUNK_BYTES, runWithLimits, traceGrpcCalls, type CallLimitErrors, type CiphertextGroup, type CreateSessionRequest, type CreateSessionResponse,
  type GetFheSpecResponse, type GetRegistryResponse, type ListModelsResponse, type ListTeeNodesResponse, type PredictResponse,
} from '../proto';
import { apiKeyInterceptors } from './api-key-interceptor';
import { balancedTarget, isMultiAddressTarget, ROUND_ROBIN_SERVICE_CONFIG } from './balanced-target';
import { DEFAULT_RETRY_POLICY, isUnavailable, retryUnavailable, type RetryPolicy } from './retry-unavailable';
import { fromServiceError, VeilClientError } from './veil-client-error';

/**
 * Where the gateway is: one `target` (`host:port`, or a `dns:///name:port` / `ipv4:a:p,b:p` target naming several
 * replicas), or several replicas as `targets` (IP:port each). Several addresses are balanced by grpc-js round_robin.
 * Only `targets` keeps an FHE session on the replica that opened it; behind one multi-address `target` a session's
 * calls follow the balancer, and a call that lands elsewhere costs `connectFheModel` a key re-upload.
 */
export type VeilClientTarget =
  | { /** host:port of the gateway, e.g. `127.0.0.1:50051`, or a grpc-js target naming several addresses. */ target: string; targets?: never }
  | { /** Gateway replicas as IP:port, e.g. `['10.0.0.1:50051', '10.0.0.2:50051']`. */ targets: readonly string[]; target?: never };

export type VeilClientOptions = VeilClientTarget & {
  /** Channel credentials: plaintext by default; `grpc.credentials.createSsl(caPem)` for a TLS gateway. */
  credentials?: grpc.ChannelCredentials;
  /** An API key from `veil keys create`, sent as `authorization: Bearer <key>` on every call. */
  apiKey?: string;
  /** Must cover the largest message the client sends (a predict with many groups). */
  maxMessageBytes?: number;
  /** More grpc-js client interceptors, run after the API key's (e.g. a payer adding `payment-signature`). */
  interceptors?: grpc.Interceptor[];
  /**
   * Idempotent calls (everything but streams of keys already half sent) that fail UNAVAILABLE are sent again, to the
   * next replica when there are several. Default: 4 attempts, 50 ms backoff doubling.
   */
  retry?: Partial<RetryPolicy>;
};

export type CallOptions = {
  deadlineMs?: number;
  signal?: AbortSignal;
  /**
   * Predict only: the call's retry key (gRPC metadata `idempotency-key`). A paid call retried under the same key —
   * by this client after UNAVAILABLE, or by the caller — is charged once, whichever replica answers. Default: a fresh
   * key per predict call, kept across this client's own retries.
   */
  idempotencyKey?: string;
};

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
 *
 * Replicas (`targets`, or a multi-address target): stateless calls are balanced round robin and retried on the next
 * replica when one is UNAVAILABLE. An FHE session lives on the replica that created it, so CreateSession picks a
 * replica (in turn, skipping ones that just failed) and that session's Predict and CloseSession go to it; when it has
 * gone, Predict fails `unavailable` or `session_not_found`, and `connectFheModel` opens a new session elsewhere.
 *
 * @example
 * const client = createVeilClient({ targets: ['10.0.0.1:50051', '10.0.0.2:50051'] });
 */
export function createVeilClient(options: VeilClientOptions): VeilClient {
  const proto = loadVeilProto();
  const replicas = options.targets ? [...options.targets] : [options.target];
  const target = options.targets ? balancedTarget(options.targets) : options.target;
  const balanced = options.targets !== undefined || isMultiAddressTarget(target);
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
  const lb = balanced ? { 'grpc.service_config': ROUND_ROBIN_SERVICE_CONFIG } : {};
  const models = new proto.services.Models(target, credentials, { ...channelOptions, ...lb, ...auth });
  // Share the channel between the stubs.
  const shared = { ...channelOptions, ...auth, channelOverride: models.getChannel() };
  const fhe = new proto.services.Fhe(target, credentials, shared);
  const trust = new proto.services.Trust(target, credentials, shared);
  const tee = new proto.services.Tee(target, credentials, shared);
  // Session calls need one replica each: a channel per replica (made when first used), or the one channel.
  const pinned: (grpc.Client | undefined)[] = options.targets ? replicas.map(() => undefined) : [fhe];
  const pinnedStub = (i: number) => (pinned[i] ??= new proto.services.Fhe(balancedTarget([replicas[i]!]), credentials, { ...channelOptions, ...auth }));
  const sessionHome = new Map<string, number>();
  /** Replicas that just failed UNAVAILABLE, until when: new sessions avoid them. */
  const downUntil = new Map<number, number>();
  let turn = 0;

  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const errors = { ...CALL_ERRORS, fromStatus: fromServiceError };
  const limits = (opts: CallOptions) => ({ deadline: opts.deadlineMs ? Date.now() + opts.deadlineMs : undefined, signal: opts.signal });
  /** One deadline over every attempt: a retry never extends the caller's budget. */
  const retried = <Res>(opts: CallOptions, attempt: (limits: { deadline?: number; signal?: AbortSignal }, n: number) => Promise<Res>): Promise<Res> => {
    const l = limits(opts);
    return retryUnavailable((n) => attempt(l, n), policy, opts.signal);
  };
  const unary = <Res>(stub: grpc.Client, method: string, request: unknown, opts: CallOptions = {}, metadata?: grpc.Metadata): Promise<Res> =>
    retried(opts, (l) => callUnary<Res>(stub, method, request, l, errors, metadata));

  /** The session's replica, or the balanced channel for a session this client did not open. */
  const homeOf = (sessionId: string) => {
    const home = sessionHome.get(sessionId);
    return home === undefined ? fhe : pinnedStub(home);
  };
  const markDown = (sessionId: string, err: unknown) => {
    const home = sessionHome.get(sessionId);
    if (home !== undefined && isUnavailable(err)) downUntil.set(home, Date.now() + 5_000);
    return err;
  };
  /** The replica for a new session: the next in turn, skipping ones that just failed unless all did. */
  const nextReplica = () => {
    const now = Date.now();
    for (let k = 0; k < replicas.length; k++) {
      const i = (turn + k) % replicas.length;
      if ((downUntil.get(i) ?? 0) <= now) {
        turn = i + 1;
        return i;
      }
    }
    return turn++ % replicas.length;
  };

  const createSession = (stub: grpc.Client, params: CreateFheSessionParameters, l: { deadline?: number; signal?: AbortSignal }) => runWithLimits((signal) =>
    new Promise<CreateSessionResponse>((resolve, reject) => {
      const callOptions: grpc.CallOptions = l.deadline ? { deadline: l.deadline } : {};
      const call = (stub as unknown as { CreateSession: Function }).CreateSession(
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
    }), l, errors);

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
    predict: (sessionId, groups, opts = {}) => {
      // Evaluation has no side effect but its charge, and the key makes a paid retry a replay of the first commit.
      const metadata = new grpc.Metadata();
      metadata.set('idempotency-key', opts.idempotencyKey ?? randomUUID());
      return unary<PredictResponse>(homeOf(sessionId), 'Predict', { sessionId, groups }, opts, metadata).catch((err: unknown) => {
        throw markDown(sessionId, err);
      });
    },
    closeSession: async (sessionId, opts) => {
      await unary(homeOf(sessionId), 'CloseSession', { sessionId }, opts).catch((err: unknown) => {
        throw markDown(sessionId, err);
      });
      sessionHome.delete(sessionId);
    },
    getTrustRegistry: (opts) => unary(trust, 'GetRegistry', {}, opts),
    listTeeNodes: (opts) => unary(tee, 'ListNodes', {}, opts),
    // A new session has no state anywhere yet: an attempt that failed UNAVAILABLE is sent whole to the next replica.
    createFheSession: (params, opts = {}) => retried(opts, async (l) => {
      const replica = options.targets ? nextReplica() : 0;
      try {
        const created = await createSession(pinnedStub(replica), params, l);
        if (sessionHome.size >= MAX_TRACKED_SESSIONS) sessionHome.delete(sessionHome.keys().next().value!);
        if (options.targets) sessionHome.set(created.sessionId, replica);
        return created;
      } catch (err) {
        if (isUnavailable(err)) downUntil.set(replica, Date.now() + 5_000);
        throw err;
      }
    }),
    close: () => {
      for (const stub of [fhe, trust, tee]) stub.close();
      for (const stub of pinned) if (stub !== fhe) stub?.close();
      models.close();
    },
  };
}

/** Sessions whose replica this client remembers (oldest forgotten first: an expired session is not worth more). */
const MAX_TRACKED_SESSIONS = 10_000;

const CALL_ERRORS: CallLimitErrors = {
  cancelled: () => new VeilClientError('cancelled', 'the call was cancelled', grpc.status.CANCELLED),
  deadlineExceeded: () => new VeilClientError('deadline_exceeded', 'the deadline expired before the call finished', grpc.status.DEADLINE_EXCEEDED),
};

/**
 * One FHE serving stack for tests of FHE over HTTP: a real worker pool and session store, ONE set of Fhe handlers
 * shared by a gRPC server (createFheService) and a fastify app (registerFheRoutes), as the gateway wires them.
 * The fastify app stands in for the HTTP core (gateway/http server): an error handler rendering toOpenAIError with
 * x-request-id, and a CallContext per request whose signal aborts when the connection closes before the answer;
 * the principal is taken from `x-test-principal` (API keys are the core's), and `authorize` stands in for the API-key
 * guard: principal `tee-only` may not use FHE mode, `digits-only` may use only the model `digits-mlp`.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { createLogger, toOpenAIError, VeilError } from '../../gateway';
import { SessionStore } from '../../gateway/fhe/session-store';
import { createFheHandlers, createFheService, createGrpcServer, createModelsService, type FheServiceOptions, type GrpcServer } from '../../gateway/grpc';
import type { CallContext } from '../../gateway/grpc/call-context';
import { registerFheRoutes } from '../../gateway/http/register-fhe-routes';
import { loadFheModels, type ServedFheModel } from '../../gateway/models/load-fhe-models';
import { createFhePool, type FhePool } from '../../workers';

export type FheHttpStack = {
  models: ReadonlyMap<string, ServedFheModel>;
  pool: FhePool;
  sessions: SessionStore;
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  grpc: GrpcServer;
  close(): Promise<void>;
};

export type StartFheHttpStackOptions = {
  models?: string[];
  variants?: string[];
  /** The fastify app's bodyLimit (what the HTTP core would set from http.bodyLimitBytes). */
  bodyLimit?: number;
  maxPredictBytes?: number;
  fhe?: Partial<Omit<FheServiceOptions, 'models' | 'sessions' | 'pool' | 'logger'>>;
  /** A stand-in worker pool (default: a real one, 1 thread). */
  pool?: FhePool;
  /** Threads and per-worker key cache of the real pool (default 1 and 256 MB). */
  threads?: number;
  keyCacheBytes?: number;
};

export async function startFheHttpStack(options: StartFheHttpStackOptions = {}): Promise<FheHttpStack> {
  const logger = createLogger({ level: 'silent', format: 'json' });
  const models = loadFheModels(options.models ?? ['breast-cancer-lr'], options.variants ?? ['blocks', 'feature-major']);
  const pool = options.pool ?? await createFhePool({
    plans: Object.fromEntries([...models.values()].flatMap((m) => [...m.variants.values()].map((v) => [v.planKey, v.plan]))),
    threads: options.threads ?? 1, maxQueue: 16, keyCacheBytes: options.keyCacheBytes ?? 256 * 1024 * 1024,
  });
  const sessions = new SessionStore({
    ttlMs: 60_000, maxBytes: 4 * 1024 ** 3, maxSessions: 100, maxSessionsPerCaller: 100, sessionCostBytes: 1024,
    onEvict: (s) => pool.forgetSession(s.key),
  });
  const fheOptions: FheServiceOptions = {
    models, sessions, pool, logger,
    maxSessionKeyBytes: 512 * 1024 * 1024, maxGroupsPerRequest: 16, sessionTtlSeconds: 60,
    maxConcurrentUploads: 8, maxUploadsPerCaller: 8, uploadIdleTimeoutMs: 2_000, uploadTimeoutSeconds: 60,
    ...options.fhe,
  };
  const handlers = createFheHandlers(fheOptions);
  const grpc = await createGrpcServer({
    host: '127.0.0.1', port: 0, maxReceiveMessageBytes: 64 * 1024 * 1024, maxSendMessageBytes: 64 * 1024 * 1024,
    services: { Models: createModelsService(models, [], logger), Fhe: createFheService(fheOptions, handlers) },
  });

  const app = Fastify({ bodyLimit: options.bodyLimit ?? 1024 * 1024 });
  const contexts = new WeakMap<FastifyRequest, CallContext>();
  app.addHook('onRequest', async (request, reply) => {
    const controller = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) controller.abort();
    };
    reply.raw.on('close', onClose);
    const context: CallContext = {
      requestId: randomUUID(), signal: controller.signal, deadline: 0,
      principal: typeof request.headers['x-test-principal'] === 'string' ? request.headers['x-test-principal'] : undefined,
      peer: request.ip,
      payment: { signature: undefined, idempotencyKey: undefined },
      dispose: () => reply.raw.removeListener('close', onClose),
    };
    contexts.set(request, context);
    reply.header('x-request-id', context.requestId);
  });
  app.setErrorHandler((err, _request, reply) => {
    const { status, body } = toOpenAIError(err);
    void reply.status(status).send(body);
  });
  const contextOf = (request: FastifyRequest) => contexts.get(request)!;
  registerFheRoutes(app, {
    handlers, models, contextOf, maxPredictBytes: options.maxPredictBytes,
    authorize(request, scope, modelParam = 'model') {
      const { principal } = contextOf(request);
      if (principal === 'tee-only') throw new VeilError('permission_denied', 'this key may not use FHE mode');
      if (principal === 'digits-only' && scope.model !== undefined && scope.model !== 'digits-mlp') {
        throw new VeilError('permission_denied', 'this key may not use this model', { param: modelParam });
      }
    },
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });

  return {
    models, pool, sessions, app, baseUrl: address, grpc,
    async close() {
      await app.close();
      await grpc.close();
      await pool.close();
    },
  };
}

import { TlsFilesError } from '../proto';
import { createFhePool, type FhePool } from '../workers';
import { createApiKeyGuard, resolveKeysFile, type ApiKeyGuard } from './auth';
import type { VeilConfig } from './config';
import { SessionStore } from './fhe/session-store';
import { startTrustRegistry, type TrustRegistry } from './chain/start-trust-registry';
import { startPayments, type PricingInfo, type StartedPayments } from './payments';
import { DEFAULT_PRICE_TABLE } from '../payments';
import { createFheHandlers, createFheService, createGrpcServer, createModelsService, createTrustService, type GrpcServer } from './grpc';
import { createHttpServer, registerFheRoutes, type HttpServer } from './http';
import { createLogger, type Logger } from './logger';
import { observeFhePool, observePayments, observeTeeNodes, startTelemetry } from './telemetry';
import { loadFheModels, type ServedFheModel } from './models/load-fhe-models';
import { startTeeRouting, type StartTeeRoutingParameters, type TeeRouting } from './tee';

export type Gateway = {
  /** host:port of the gRPC listener. */
  address: string;
  /** `http(s)://host:port` of the HTTP API (undefined when http.enabled is false). */
  httpUrl: string | undefined;
  models: ReadonlyMap<string, ServedFheModel>;
  /** The on-chain registry the gateway publishes attestations to, when enabled. */
  trust: TrustRegistry | undefined;
  logger: Logger;
  /** TEE mode (undefined when tee.enabled is false): node table, quarantine state. */
  tee: TeeRouting | undefined;
  /** Billing (undefined when payments.enabled is false): the ledger, the settlement worker, where payments go. */
  payments: StartedPayments | undefined;
  close(): Promise<void>;
};

export type CreateGatewayDependencies = {
  logger?: Logger;
  /** Test seams of the TEE router (clock, timers). */
  teeRouter?: StartTeeRoutingParameters['router'];
  /** Where the standard OTEL_* tracing variables are read (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
};

/**
 * Builds and starts the gateway from a validated config: compiles the served models, starts and warms the FHE
 * worker pool, connects the trust registry, attests the TEE nodes (publishing each attestation on-chain), and only
 * then listens — so the first request is as fast as the thousandth. Whatever started is stopped, in reverse
 * order, if a later step fails and on close.
 */
export async function createGateway(config: VeilConfig, deps: CreateGatewayDependencies = {}): Promise<Gateway> {
  const logger = deps.logger ?? createLogger({ level: config.log.level, format: config.log.format });
  const started = performance.now();
  // A bad combination stops startup before anything is started.
  const tls = gatewayTls(config.grpc, 'grpc');
  const httpTls = gatewayTls(config.http, 'http');
  const models = loadFheModels(config.fhe.models, config.fhe.variants);
  for (const m of models.values()) {
    for (const v of m.variants.values()) {
      const { spec } = v.plan;
      logger.info('model compiled', {
        model: m.id, mode: 'fhe', variant: v.variant, N: spec.params.polyModulusDegree, depth: spec.stats.depth,
        batchCapacity: spec.batchCapacity, rotations: spec.stats.rotations,
      });
    }
  }

  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const telemetry = await startTelemetry(config.telemetry, logger, { env: deps.env });
    stops.push(() => telemetry.close());

    const pool: FhePool = await createFhePool({
      plans: Object.fromEntries([...models.values()].flatMap((m) => [...m.variants.values()].map((v) => [v.planKey, v.plan]))),
      threads: config.fhe.workers,
      maxQueue: config.fhe.maxQueue,
      keyCacheBytes: config.fhe.workerKeyCacheBytes,
      splitSingleGroups: config.fhe.splitSingleGroups,
      onWorkerError: (err) => logger.error('fhe worker failed', { reason: err.message }),
      tracing: telemetry.tracing,
    });
    stops.push(() => pool.close());
    stops.push(observeFhePool(pool));
    logger.info('fhe workers ready', { threads: pool.threads, ms: Math.round(performance.now() - started) });

    const sessions = new SessionStore({
      ttlMs: config.fhe.sessionTtlSeconds * 1000,
      maxBytes: config.fhe.sessionStoreBytes,
      maxSessions: config.fhe.maxSessions,
      maxSessionsPerCaller: config.fhe.maxSessionsPerCaller,
      sessionCostBytes: config.fhe.sessionCostBytes,
      onEvict: (s, reason) => {
        pool.forgetSession(s.key); // every worker frees the keys before its next task
        // Session ids are bearer tokens while auth is off: logs carry the store's internal number, never the id.
        logger.info('fhe session dropped', { session: s.key, reason });
      },
    });
    const sweeper = setInterval(() => sessions.sweep(), 30_000);
    sweeper.unref();
    stops.push(() => clearInterval(sweeper));

    const trust = await startTrustRegistry(config, { logger });
    if (trust) stops.push(() => trust.close());

    // auth.mode = api-keys: every veil.v1 call needs a key from the keys file (re-read when it changes).
    let guard: ApiKeyGuard | undefined;
    if (config.auth.mode === 'api-keys') {
      const keys = createApiKeyGuard({ file: resolveKeysFile(config.auth.keysFile, config.dataDir), logger });
      guard = keys;
      stops.push(() => keys.close());
    }

    // issue #11: billing, when payments.enabled, on the chain the trust registry connected to.
    const registry = trust?.info();
    const payments: StartedPayments | undefined = await startPayments(config, {
      logger, chain: registry ? { rpcUrl: registry.rpcUrl, embedded: registry.embedded } : undefined,
      budgetOf: guard ? (keyId) => guard!.budgetOf(keyId) : undefined,
    });
    if (payments) stops.push(() => payments.close());
    if (payments) stops.push(observePayments(payments.ledger));

    // TEE mode: every node is attested by the gateway itself before it listens; each successful attestation
    // (first and on every refresh) is published to the registry. The publisher never throws into serving.
    const tee = config.tee.enabled
      ? await startTeeRouting({
        config: config.tee, logger, router: deps.teeRouter, payments,
        onAttested: trust ? (node) => void trust.publishAttestation(node) : undefined,
      })
      : undefined;
    if (tee) stops.push(() => tee.close());
    if (tee) stops.push(observeTeeNodes(() => tee.nodes()));

    const pricing: PricingInfo = payments
      ? {
        enabled: true, prices: payments.prices,
        payTo: {
          network: payments.info.network, contract: payments.info.contract, token: payments.info.token, receiver: payments.info.receiver,
          minWithdrawDelay: config.payments.minWithdrawDelaySeconds,
          // Only the embedded dev chain's URL (loopback, no credentials): an operator's chain.rpcUrl may carry an API key.
          ...(payments.info.embedded ? { rpcUrl: payments.info.rpcUrl } : {}),
        },
      }
      : { enabled: false, prices: DEFAULT_PRICE_TABLE };

    // One set of FHE handlers for gRPC and HTTP: one upload-slot pool, one rule for sizes, timeouts and ownership.
    const fheOptions = {
      models, sessions, pool, logger,
      maxSessionKeyBytes: config.fhe.maxSessionKeyBytes,
      maxGroupsPerRequest: config.fhe.maxGroupsPerRequest,
      sessionTtlSeconds: config.fhe.sessionTtlSeconds,
      maxConcurrentUploads: config.fhe.maxConcurrentUploads,
      maxUploadsPerCaller: config.fhe.maxUploadsPerCaller,
      uploadIdleTimeoutMs: config.fhe.uploadIdleTimeoutMs,
      uploadTimeoutSeconds: config.fhe.uploadTimeoutSeconds,
      payments,
    };
    const fheHandlers = createFheHandlers(fheOptions);

    const server: GrpcServer = await createGrpcServer({
      host: config.grpc.host,
      port: config.grpc.port,
      maxReceiveMessageBytes: config.grpc.maxReceiveMessageBytes,
      maxSendMessageBytes: config.grpc.maxSendMessageBytes,
      guard,
      tls,
      onTlsReload: (e) => (e.accepted
        ? logger.info('tls certificate reloaded', { fingerprint256: e.fingerprint256 })
        : logger.error('tls files changed but cannot be used; still serving the previous certificate', { reason: e.reason })),
      services: {
        Models: createModelsService(models, tee ? config.tee.models : [], logger, pricing),
        Trust: createTrustService(trust ? () => trust.info() : () => undefined, logger),
        Fhe: createFheService(fheOptions, fheHandlers),
        ...(tee ? { Tee: tee.service } : {}),
      },
    });
    stops.push(() => server.close()); // on a failed start; a started gateway drains it first (below)
    const listeners: { close(graceMs: number): Promise<void> }[] = [server];

    // issue #10: the HTTP API beside gRPC — same guard, same TEE router, same served FHE models.
    let http: HttpServer | undefined;
    if (config.http.enabled) {
      if (!guard && !isLoopback(config.http.host)) {
        logger.warn('the HTTP API listens beyond this machine without API keys (auth.mode=off): anyone who reaches it may call', { host: config.http.host });
      }
      http = await createHttpServer({
        host: config.http.host,
        port: config.http.port,
        bodyLimitBytes: config.http.bodyLimitBytes,
        deadlines: { defaultMs: config.http.defaultDeadlineMs, maxMs: config.http.maxDeadlineMs },
        idempotency: { ttlMs: config.http.idempotencyTtlSeconds * 1000, maxEntries: config.http.idempotencyMaxEntries, maxBytes: config.http.idempotencyMaxBytes },
        logger, guard, tls: httpTls,
        onTlsReload: (e) => (e.accepted
          ? logger.info('http tls certificate reloaded', { fingerprint256: e.fingerprint256 })
          : logger.error('http tls files changed but cannot be used; still serving the previous certificate', { reason: e.reason })),
        fheModels: models,
        tee: tee?.router,
        pricing,
        payments,
        registerFheRoutes: (app, tools) => registerFheRoutes(app, { handlers: fheHandlers, models, contextOf: tools.contextOf, authorize: tools.authorize }),
      });
      const served = http;
      stops.push(() => served.close());
      listeners.push(served);
    }
    logger.info('gateway listening', {
      grpc: server.address, http: http?.url ?? 'off', tls: server.tls ? server.tls.fingerprint256 : 'off', auth: config.auth.mode,
      models: [...models.keys()].join(','), ms: Math.round(performance.now() - started),
    });

    // Graceful shutdown (what Kubernetes expects of SIGTERM): both listeners stop accepting at once and share one grace
    // period for what is in flight (health answers NOT_SERVING from the first moment); only then are the TEE links,
    // the ledger (its last charges committed), the pool and the exporters stopped.
    const graceMs = config.shutdownGraceSeconds * 1000;
    stops.push(async () => {
      const draining = performance.now();
      await Promise.all(listeners.map((l) => l.close(graceMs)));
      logger.info('listeners drained', { ms: Math.round(performance.now() - draining) });
    });
    let closing: Promise<void> | undefined;
    return {
      address: server.address,
      httpUrl: http?.url,
      models,
      trust,
      tee,
      payments,
      logger,
      close() {
        closing ??= stopAll().then(() => logger.info('gateway stopped'));
        return closing;
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** <section>.tlsCertFile / <section>.tlsKeyFile: both "none" is plaintext; one without the other is refused. */
function gatewayTls(files: { tlsCertFile: string; tlsKeyFile: string }, section: 'grpc' | 'http'): { certFile: string; keyFile: string } | undefined {
  const cert = files.tlsCertFile === 'none' ? undefined : files.tlsCertFile;
  const key = files.tlsKeyFile === 'none' ? undefined : files.tlsKeyFile;
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new TlsFilesError(`${section}.tlsCertFile and ${section}.tlsKeyFile must be set together (or both "none" for plaintext)`);
  }
  return { certFile: cert, keyFile: key };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

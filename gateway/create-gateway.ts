import { createFhePool, type FhePool } from '../workers';
import type { VeilConfig } from './config';
import { SessionStore } from './fhe/session-store';
import { createFheService, createGrpcServer, createModelsService, type GrpcServer } from './grpc';
import { createLogger, type Logger } from './logger';
import { loadFheModels, type ServedFheModel } from './models/load-fhe-models';

export type Gateway = {
  /** host:port of the gRPC listener. */
  address: string;
  models: ReadonlyMap<string, ServedFheModel>;
  logger: Logger;
  close(): Promise<void>;
};

export type CreateGatewayDependencies = { logger?: Logger };

/**
 * Builds and starts the gateway from a validated config: compiles the served models, starts and warms the
 * worker pool, then listens. Nothing is listening until every worker is ready, so the first request is as
 * fast as the thousandth.
 */
export async function createGateway(config: VeilConfig, deps: CreateGatewayDependencies = {}): Promise<Gateway> {
  const logger = deps.logger ?? createLogger({ level: config.log.level, format: config.log.format });
  const started = performance.now();
  const models = loadFheModels(config.fhe.models);
  for (const m of models.values()) {
    const { spec } = m.plan;
    logger.info('model compiled', {
      model: m.id, mode: 'fhe', N: spec.params.polyModulusDegree, depth: spec.stats.depth,
      batchCapacity: spec.batchCapacity, rotations: spec.stats.rotations,
    });
  }

  const plans = Object.fromEntries([...models.values()].map((m) => [m.id, m.plan]));
  const pool: FhePool = await createFhePool({
    plans,
    threads: config.fhe.workers,
    maxQueue: config.fhe.maxQueue,
    keyCacheBytes: config.fhe.workerKeyCacheBytes,
  });
  logger.info('fhe workers ready', { threads: pool.threads, ms: Math.round(performance.now() - started) });

  const sessions = new SessionStore({
    ttlMs: config.fhe.sessionTtlSeconds * 1000,
    maxBytes: config.fhe.sessionStoreBytes,
    onEvict: (s, reason) => logger.info('fhe session dropped', { sessionId: s.id, reason }),
  });
  const sweeper = setInterval(() => sessions.sweep(), 30_000);
  sweeper.unref();

  let server: GrpcServer;
  try {
    server = await createGrpcServer({
      host: config.grpc.host,
      port: config.grpc.port,
      maxReceiveMessageBytes: config.grpc.maxReceiveMessageBytes,
      maxSendMessageBytes: config.grpc.maxSendMessageBytes,
      services: {
        models: createModelsService(models, logger),
        fhe: createFheService({
          models, sessions, pool, logger,
          maxSessionKeyBytes: config.fhe.maxSessionKeyBytes,
          maxGroupsPerRequest: config.fhe.maxGroupsPerRequest,
          sessionTtlSeconds: config.fhe.sessionTtlSeconds,
        }),
      },
    });
  } catch (err) {
    clearInterval(sweeper);
    await pool.close();
    throw err;
  }
  logger.info('gateway listening', { grpc: server.address, models: [...models.keys()].join(','), ms: Math.round(performance.now() - started) });

  let closing: Promise<void> | undefined;
  return {
    address: server.address,
    models,
    logger,
    close() {
      closing ??= (async () => {
        clearInterval(sweeper);
        await server.close();
        await pool.close();
        logger.info('gateway stopped');
      })();
      return closing;
    },
  };
}

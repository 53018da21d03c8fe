import type { FastifyInstance } from 'fastify';
import { VeilError } from '../errors';

export type RegisterHealthRoutesOptions = {
  /** How many models could be served right now (FHE models, plus models of healthy attested TEE nodes). */
  servableModels: () => number;
  /** Whether the server is listening (false before `listen` and once closing). */
  listening: () => boolean;
};

/**
 * `/healthz`: the process is up (answers while it answers anything). `/readyz`: it is listening and at least one
 * model is servable; otherwise 503 `unavailable`, so a load balancer sends traffic elsewhere. Both are open without
 * an API key, as gRPC health is.
 */
export function registerHealthRoutes(app: FastifyInstance, options: RegisterHealthRoutesOptions): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    if (!options.listening()) throw new VeilError('unavailable', 'the gateway is not listening (starting or stopping)');
    const models = options.servableModels();
    if (models === 0) throw new VeilError('unavailable', 'no model is servable right now (no FHE models, no healthy attested TEE node)');
    return { status: 'ready', models };
  });
}

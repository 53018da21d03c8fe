import type { FastifyInstance } from 'fastify';
import { pricingBody, type PricingInfo } from '../payments';

/** `GET /v1/pricing` (pricingBody). Open to any caller allowed on /v1: prices are not secret. */
export function registerPricingRoutes(app: FastifyInstance, info: PricingInfo): void {
  const body = pricingBody(info);
  app.get('/v1/pricing', async () => body);
}

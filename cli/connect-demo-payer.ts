import type * as grpc from '@grpc/grpc-js';
import { connectGatewayPayer, createVeilClient, DEV_PAYER_BUDGET, isDevChainPricing, type GatewayPayer } from '../client';

/**
 * What `veil demo` pays with (issue #11): nothing when the gateway does not charge; on the development chain a gateway
 * publishes (`npm start`'s embedded anvil), a fresh channel from dev account 1 with a budget of DEV_PAYER_BUDGET, so
 * the zero-config demo shows money flowing. A gateway charging on any other chain is refused by name: a demo never
 * spends a real wallet's money.
 */
export async function connectDemoPayer(target: string, connection: { apiKey?: string; credentials?: grpc.ChannelCredentials }): Promise<GatewayPayer | undefined> {
  const client = createVeilClient({ target, apiKey: connection.apiKey, credentials: connection.credentials });
  let pricing: Record<string, unknown>;
  try {
    pricing = await client.getPricing({ deadlineMs: 10_000 });
  } finally {
    client.close();
  }
  if (pricing.enabled !== true) return undefined;
  if (!isDevChainPricing(pricing) || typeof pricing.rpcUrl !== 'string') {
    throw new Error(`the gateway charges for calls on ${String(pricing.network)}: veil demo pays only on a development chain the gateway publishes; pay with the SDK's payer (connectGatewayPayer) or \`veil proxy --pay\``);
  }
  return connectGatewayPayer({ pricing, maxSpend: DEV_PAYER_BUDGET });
}

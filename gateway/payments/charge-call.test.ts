import { DEFAULT_PRICE_TABLE, X402_VERSION, type PaymentGate } from '../../payments';
import type { CallContext } from '../grpc/call-context';
import { chargeCall } from './charge-call';

const CHANNEL = `0x${'ab'.repeat(32)}`;
const ADDRESS = `0x${'11'.repeat(20)}`;
/** A well-formed PAYMENT-SIGNATURE naming `channelId` (the gate, faked here, would verify its signature). */
const voucherHeader = (channelId: string) => Buffer.from(JSON.stringify({
  x402Version: X402_VERSION, accepted: { scheme: 'veil-channel', network: 'eip155:31337' },
  payload: {
    config: { payer: ADDRESS, payerAuthorizer: ADDRESS, receiver: ADDRESS, token: ADDRESS, withdrawDelay: 3600, salt: `0x${'22'.repeat(32)}` },
    voucher: { channelId, maxClaimableAmount: '1100', signature: `0x${'33'.repeat(65)}` },
  },
})).toString('base64');

/** The request ids the gate was asked to admit. */
async function admittedIds(calls: { peer: string; signature?: string; key?: string }[]): Promise<string[]> {
  const ids: string[] = [];
  const gate = {
    admit: async ({ requestId }: { requestId: string }) => {
      ids.push(requestId);
      return { kind: 'paid', channelId: CHANNEL, payer: '0x1', ceiling: 1100n, commit: async () => ({ receipt: {}, response: { success: true } }), release: async () => undefined };
    },
  } as unknown as PaymentGate;
  for (const c of calls) {
    const context: CallContext = {
      requestId: `r-${ids.length}`, signal: new AbortController().signal, deadline: 0, principal: undefined, peer: c.peer,
      payment: { signature: c.signature, idempotencyKey: c.key }, dispose: () => undefined,
    };
    await chargeCall({ gate, prices: DEFAULT_PRICE_TABLE }, context, { resource: 'fhe:breast-cancer-lr', modelId: 'breast-cancer-lr', ceilingUsage: { calls: 1, ciphertextGroups: 1 } },
      async () => ({ value: 1, usage: { calls: 1, ciphertextGroups: 1 } }));
  }
  return ids;
}

test('a voucher-paid retry is the same request from any address (another replica, another balancer hop): scoped by its channel', async () => {
  const header = voucherHeader(CHANNEL.toUpperCase().replace('0X', '0x'));
  const [first, retry] = await admittedIds([{ peer: '10.1.0.1', signature: header, key: 'k1' }, { peer: '10.2.0.1', signature: header, key: 'k1' }]);
  expect(first).toBe(`idem:channel:${CHANNEL}:k1`);
  expect(retry).toBe(first);
});

test('without a voucher the key stays the caller\'s (peer or API key); without a key every call is its own request', async () => {
  const [a, b, c] = await admittedIds([{ peer: '10.1.0.1', key: 'k1' }, { peer: '10.2.0.1', key: 'k1' }, { peer: '10.1.0.1', signature: voucherHeader(CHANNEL) }]);
  expect(a).toBe('idem:peer:10.1.0.1:k1');
  expect(b).toBe('idem:peer:10.2.0.1:k1'); // another caller's key is not this caller's retry
  expect(c).toMatch(/^req:r-2$/);
  // A header that does not decode is refused by the gate; its scope falls back to the caller.
  expect((await admittedIds([{ peer: '10.1.0.1', signature: 'not-x402', key: 'k2' }]))[0]).toBe('idem:peer:10.1.0.1:k2');
});

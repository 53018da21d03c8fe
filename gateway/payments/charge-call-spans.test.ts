import { DEFAULT_PRICE_TABLE, type PaymentGate } from '../../payments';
import { recordSpans } from '../../test/support/record-spans';
import { chargeCall } from './charge-call';
import type { CallContext } from '../grpc/call-context';

const { spans } = recordSpans();

const context = (): CallContext => ({
  requestId: 'r1', signal: new AbortController().signal, deadline: 0, principal: undefined, peer: '127.0.0.1',
  payment: { signature: 'c2lnbmF0dXJl', idempotencyKey: undefined }, dispose: () => undefined,
});

test('payment verification and the commit are spans, with the resource and admission kind only', async () => {
  const gate = {
    admit: async () => ({
      kind: 'paid' as const, channelId: '0xchannel', payer: '0x0000000000000000000000000000000000000001', ceiling: 1100n,
      commit: async () => ({ receipt: {} as never, response: { success: true } as never }),
      release: async () => undefined,
    }),
  } as unknown as PaymentGate;
  spans.length = 0;
  const value = await chargeCall({ gate, prices: DEFAULT_PRICE_TABLE }, context(), { resource: 'fhe:breast-cancer-lr', modelId: 'breast-cancer-lr', ceilingUsage: { calls: 1, ciphertextGroups: 1 } }, async () => ({ value: 42, usage: { calls: 1, ciphertextGroups: 1 } }));
  expect(value).toBe(42);
  expect(spans.map((s) => s.name)).toEqual(['veil.payment.verify', 'veil.payment.commit']);
  expect(spans[0]!.attributes).toEqual({ 'veil.payment.resource': 'fhe:breast-cancer-lr', 'veil.payment.admission': 'paid' });
  // Nothing of the PAYMENT-SIGNATURE (a signed voucher) is recorded.
  expect(JSON.stringify(spans)).not.toContain('c2lnbmF0dXJl');
});

test('a refused payment marks the verification span with the code only', async () => {
  const gate = { admit: async () => Promise.reject(Object.assign(new Error('voucher 0xdeadbeef is short'), { code: 'payment_required' })) } as unknown as PaymentGate;
  spans.length = 0;
  await expect(chargeCall({ gate, prices: DEFAULT_PRICE_TABLE }, context(), { resource: 'fhe:breast-cancer-lr', modelId: 'breast-cancer-lr', ceilingUsage: { calls: 1 } }, async () => ({ value: 1, usage: { calls: 1 } }))).rejects.toThrow();
  expect(spans).toEqual([{ name: 'veil.payment.verify', attributes: { status: { code: 2, message: 'payment_required' } } }]);
});

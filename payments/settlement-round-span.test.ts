import { recordSpans } from '../test/support/record-spans';
import { createSettlementWorker } from './create-settlement-worker';
import type { PaymentLedger } from './payment-ledger';

const { spans } = recordSpans();

test('each settlement round is a span with the number of channels it claimed (never amounts or vouchers)', async () => {
  const claimable = [{ channelId: '0xaa', config: {} as never, amount: 700n, signedMax: 800n, signature: '0xsig-secret', claimedOnchain: 0n }];
  const ledger = {
    pendingClaims: async () => [],
    claimable: async () => claimable.splice(0),
    recordClaim: async () => undefined,
    settleClaim: async () => undefined,
  } as unknown as PaymentLedger;
  const worker = createSettlementWorker({
    ledger, thresholdAmount: 1n, intervalMs: 3_600_000, receiptOf: async () => 'mined',
    claim: async (_claims, onSent) => onSent('0x01'),
  });
  try {
    expect(await worker.run('all')).toMatchObject({ claimed: 1 });
  } finally {
    await worker.stop();
  }
  expect(spans).toEqual([{ name: 'veil.settlement.round', attributes: { 'veil.settlement.channels': 1 } }]);
  expect(JSON.stringify(spans)).not.toContain('sig-secret');
});

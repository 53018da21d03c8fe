/**
 * The receipt the gate sends (PAYMENT-RESPONSE) states the channel's cumulative charge right after THIS call's commit,
 * so a payer can check that the total grew by exactly this call's charge even when calls on one channel commit
 * concurrently.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { channelId, signVoucher, type ChannelConfig } from '../chain';
import { createPaymentGate } from './create-payment-gate';
import { openSqliteLedger } from './open-sqlite-ledger';
import { encodeX402, X402_VERSION } from './x402-messages';

const session = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const deployment = { chainId: 31337, contractAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3' as const };
const receiver = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as const;
const token = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' as const;
const config: ChannelConfig = { payer: session.address, payerAuthorizer: session.address, receiver, token, withdrawDelay: 3600, salt: `0x${'22'.repeat(32)}` };
const id = channelId({ ...deployment, config });
const zero = '0x0000000000000000000000000000000000000000' as const;

test('concurrent commits: each receipt carries the cumulative charge at its own commit, not a later total', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'veil-gate-receipt-'));
  const ledger = await openSqliteLedger({ file: join(dir, 'ledger.sqlite') });
  try {
    const gate = createPaymentGate({
      ledger, deployment, receiver, token, minWithdrawDelaySeconds: 900,
      readChannel: async () => ({
        channelId: id, open: true, closed: false, deposited: 1_000n, claimed: 0n, remaining: 1_000n, authorizer: session.address,
        withdrawReadyAt: 0n, pendingAuthorizer: zero, rotationReadyAt: 0n, block: 1n,
      }),
    });
    const header = async (amount: bigint) => {
      const voucher = await signVoucher(session, { ...deployment, channelId: id, maxClaimableAmount: amount });
      return encodeX402({ x402Version: X402_VERSION, accepted: { scheme: 'veil-channel', network: 'eip155:31337' }, payload: { config, voucher } });
    };
    const a = await gate.admit({ requestId: 'a', resource: 'm', ceiling: 10n, header: await header(10n) });
    const b = await gate.admit({ requestId: 'b', resource: 'm', ceiling: 10n, header: await header(20n) });
    if (a.kind !== 'paid' || b.kind !== 'paid') throw new Error('expected two paid admissions');
    // both commits start before either reads the channel back: a's later read would already include b's charge
    const [ra, rb] = await Promise.all([a.commit(5n), b.commit(7n)]);
    expect(ra.response.extra).toMatchObject({ chargedAmount: '5', channelState: { charged: '5' } });
    expect(rb.response.extra).toMatchObject({ chargedAmount: '7', channelState: { charged: '12' } });
    expect(ra.receipt.cumulative).toBe(5n);
  } finally {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

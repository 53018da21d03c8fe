import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { channelId, signVoucher, type ChannelConfig } from '../chain';
import { isPaymentError } from './payment-error';
import { verifyVoucher } from './verify-voucher';

const session = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const other = privateKeyToAccount('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a');
const deployment: { chainId: number; contractAddress: Address } = { chainId: 31337, contractAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const receiver = '0x70997970C51812dc3A010C7d01b50e79d17dc79C' as const;
const token = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' as const;
const config: ChannelConfig = { payer: session.address, payerAuthorizer: session.address, receiver, token, withdrawDelay: 3600, salt: `0x${'11'.repeat(32)}` };
const id = channelId({ ...deployment, config });

async function payment(amount: bigint, signer = session, dep = deployment, cfg = config) {
  const v = await signVoucher(signer, { ...dep, channelId: channelId({ ...dep, config: cfg }), maxClaimableAmount: amount });
  return { config: cfg, voucher: { channelId: v.channelId, maxClaimableAmount: v.maxClaimableAmount, signature: v.signature } };
}
const verify = async (p: Awaited<ReturnType<typeof payment>>, extra = {}) => verifyVoucher({ ...deployment, payment: p, receiver, token, minWithdrawDelay: 900, ...extra });

describe('verifyVoucher', () => {
  test('a voucher viem signed recovers its signer (the native recovery hashes exactly as EIP-712 says)', async () => {
    expect(await verify(await payment(1_500n))).toEqual({ channelId: id, maxClaimableAmount: 1_500n, signer: session.address });
    expect((await verify(await payment(7n, other))).signer).toBe(other.address); // which key may sign is the chain's to say
  });

  test('an altered amount recovers another address, never the signer', async () => {
    const p = await payment(1_500n);
    const forged = { ...p, voucher: { ...p.voucher, maxClaimableAmount: 1_000_000n } };
    expect((await verify(forged)).signer).not.toBe(session.address);
  });

  test('wrong chain, contract, receiver, token, short delay or another channel id: voucher_wrong_network', async () => {
    const cases = [
      await payment(5n, session, { ...deployment, chainId: 1 }),
      await payment(5n, session, { ...deployment, contractAddress: '0x0000000000000000000000000000000000000001' }),
    ];
    for (const p of cases) expect(isPaymentError(await verify(p).catch((e: unknown) => e), 'voucher_wrong_network')).toBe(true);
    const p = await payment(5n);
    expect(await verify(p, { receiver: other.address }).catch((e: unknown) => e)).toMatchObject({ code: 'voucher_wrong_network', message: /another receiver/ });
    expect(await verify(p, { token: other.address }).catch((e: unknown) => e)).toMatchObject({ code: 'voucher_wrong_network', message: /another token/ });
    expect(await verify(p, { minWithdrawDelay: 7200 }).catch((e: unknown) => e)).toMatchObject({ code: 'voucher_wrong_network', message: /withdraw delay/ });
    const swapped = { ...p, config: { ...config, salt: `0x${'22'.repeat(32)}` as const } };
    expect(await verify(swapped).catch((e: unknown) => e)).toMatchObject({ code: 'voucher_wrong_network', message: /channel id/ });
  });

  test('malformed and high-S signatures are refused (the contract would refuse them too)', async () => {
    const p = await payment(5n);
    const sig = p.voucher.signature;
    const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    const v = parseInt(sig.slice(130), 16);
    const highS = `${sig.slice(0, 66)}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
    expect(await verify({ ...p, voucher: { ...p.voucher, signature: highS } }).catch((e: unknown) => e)).toMatchObject({ code: 'voucher_signature_invalid' });
    const badV = `${sig.slice(0, 130)}1f` as Hex;
    expect(await verify({ ...p, voucher: { ...p.voucher, signature: badV } }).catch((e: unknown) => e)).toMatchObject({ code: 'voucher_signature_invalid' });
  });
});

import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { recoverTypedDataAddress, verifyMessage } from 'viem';
import { PAYMENT_CHANNEL_TYPES, paymentChannelsDomain, signVoucher } from '../../chain';
import { createSessionKey } from './create-session-key';

const deployment = { chainId: 31337, contractAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3' as const };
const channelId = `0x${'ab'.repeat(32)}` as const;

test('native vouchers are byte-identical to viem’s for the same key, and recover to the key’s address', async () => {
  for (let i = 0; i < 20; i++) {
    const privateKey = generatePrivateKey();
    const native = createSessionKey({ privateKey });
    const viem = privateKeyToAccount(privateKey);
    expect(native.address.toLowerCase()).toBe(viem.address.toLowerCase());
    const amount = BigInt(i) * 1_000_003n;
    const a = await signVoucher(native, { ...deployment, channelId, maxClaimableAmount: amount });
    const b = await signVoucher(viem, { ...deployment, channelId, maxClaimableAmount: amount });
    expect(a.signature).toBe(b.signature);
    const signer = await recoverTypedDataAddress({
      domain: paymentChannelsDomain(deployment.chainId, deployment.contractAddress), types: PAYMENT_CHANNEL_TYPES, primaryType: 'Voucher',
      message: { channelId, maxClaimableAmount: amount }, signature: a.signature,
    });
    expect(signer).toBe(viem.address);
  }
});

test('a fresh key each time; messages verify; transactions and bad keys are refused', async () => {
  const k = createSessionKey();
  expect(createSessionKey().address).not.toBe(k.address);
  expect(await verifyMessage({ address: k.address, message: 'hi', signature: await k.signMessage({ message: 'hi' }) })).toBe(true);
  await expect(k.signTransaction({ to: k.address, value: 1n } as never)).rejects.toThrow(/never transactions/);
  expect(() => createSessionKey({ privateKey: `0x${'00'.repeat(32)}` })).toThrow(/not a valid secp256k1 key/);
  expect(() => createSessionKey({ privateKey: '0x12' })).toThrow(/32 bytes of hex/);
  expect(JSON.stringify(k)).not.toMatch(/[0-9a-f]{64}/); // nothing of the key is on the account object
});

import { hashMessage, recoverMessageAddress, verifyMessage } from 'viem';
import { addressOf, createReceiptSigner, digestOf, parseReceiptSignature, recoverPublicKey } from './secp256k1-receipts';

test('native receipts are standard EIP-191 signatures: viem verifies and recovers them', async () => {
  const signer = createReceiptSigner();
  for (const message of ['veil-v1:m:aa:bb', '', 'ünïcode ✓']) {
    const signature = signer.sign(message);
    expect(signature).toMatch(/^0x[0-9a-f]{128}(1b|1c)$/);
    expect(await verifyMessage({ address: signer.address, message, signature })).toBe(true);
    expect((await recoverMessageAddress({ message, signature })).toLowerCase()).toBe(signer.address);
    const parsed = parseReceiptSignature(signature)!;
    expect(addressOf(recoverPublicKey(parsed.compact, parsed.recid, digestOf(message))!)).toBe(signer.address);
  }
});

test('each signer has its own key, and its key is not reachable from the object', () => {
  const a = createReceiptSigner();
  const b = createReceiptSigner();
  expect(a.address).not.toBe(b.address);
  expect(Object.keys(a).sort()).toEqual(['address', 'sign']);
  expect(JSON.stringify(a)).not.toMatch(/[0-9a-f]{64}/);
});

test('error: malformed signatures are reported as undefined, not thrown', () => {
  expect(parseReceiptSignature('0x12')).toBeUndefined();
  expect(parseReceiptSignature(`0x${'00'.repeat(64)}05`)).toBeUndefined();
  expect(recoverPublicKey(new Uint8Array(64), 0, new Uint8Array(32))).toBeUndefined();
});

test('digestOf is viem\'s hashMessage byte for byte (ASCII, empty, multi-byte UTF-8, long)', () => {
  for (const message of ['veil-v1-usage:m:ab:3:12:34', '', 'ünïcode ✓ 𝄞', 'x'.repeat(1000)]) {
    expect(Buffer.from(digestOf(message)).toString('hex')).toBe(hashMessage(message).slice(2));
  }
});

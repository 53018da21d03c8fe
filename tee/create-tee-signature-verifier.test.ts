import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { verifyMessage } from 'viem';
import { createTeeSignatureVerifier } from './create-tee-signature-verifier';
import { teeSignatureText } from './tee-signature';
import { isTeeError } from './tee-error';

const account = privateKeyToAccount(generatePrivateKey());
const other = privateKeyToAccount(generatePrivateKey());
const exchange = (i: number) => ({ modelId: 'breast-cancer-lr', requestBytes: Buffer.from(`request ${i}`), responseBytes: Buffer.from(`response ${i}`) });
const sign = (i: number, by = account) => by.signMessage({ message: teeSignatureText(exchange(i)) });
const code = (fn: () => void) => {
  try {
    fn();
  } catch (err) {
    return isTeeError(err) ? err.code : 'other';
  }
  return 'ok';
};

describe('createTeeSignatureVerifier', () => {
  test('accepts every genuine receipt (recovery first, then the cached key); viem verifyMessage agrees', async () => {
    const verifier = createTeeSignatureVerifier(account.address);
    expect(verifier.keyCached).toBe(false);
    for (let i = 0; i < 20; i++) {
      const signature = await sign(i);
      expect(code(() => verifier.verify({ ...exchange(i), signature }))).toBe('ok');
      expect(await verifyMessage({ address: account.address, message: teeSignatureText(exchange(i)), signature })).toBe(true);
    }
    expect(verifier.keyCached).toBe(true);
  });

  test('error: wrong signer, altered bytes, altered signature and malformed signatures are refused before and after caching', async () => {
    const fresh = createTeeSignatureVerifier(account.address);
    expect(code(() => fresh.verify({ ...exchange(1), signature: '0x1234' }))).toBe('tee_bad_signature');
    // A foreign signer never gets its key cached.
    const foreign = await sign(1, other);
    expect(code(() => fresh.verify({ ...exchange(1), signature: foreign }))).toBe('tee_bad_signature');
    expect(fresh.keyCached).toBe(false);
    const good = await sign(2);
    expect(code(() => fresh.verify({ ...exchange(2), signature: good }))).toBe('ok');
    expect(fresh.keyCached).toBe(true);

    const s3 = await sign(3);
    expect(code(() => fresh.verify({ ...exchange(3), signature: foreign }))).toBe('tee_bad_signature');
    expect(code(() => fresh.verify({ ...exchange(4), signature: s3 }))).toBe('tee_bad_signature');
    const tampered = { ...exchange(3), responseBytes: Buffer.from('response 3!') };
    expect(code(() => fresh.verify({ ...tampered, signature: s3 }))).toBe('tee_bad_signature');
    const flipped = `${s3.slice(0, 40)}${s3[40] === 'a' ? 'b' : 'a'}${s3.slice(41)}`;
    expect(code(() => fresh.verify({ ...exchange(3), signature: flipped }))).toBe('tee_bad_signature');
    const zeroR = `0x${'0'.repeat(64)}${s3.slice(66)}`;
    expect(code(() => fresh.verify({ ...exchange(3), signature: zeroR }))).toBe('tee_bad_signature');
    expect(code(() => fresh.verify({ ...exchange(3), signature: s3 }))).toBe('ok');
  });
});

import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { verifyMessage } from 'viem';
import { createTeeSignatureVerifier } from './create-tee-signature-verifier';
import { teeSignatureText } from './tee-signature';
import { teeUsageText, verifyTeeUsage } from './tee-usage';
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

  test('usage statements: genuine ones pass (as verifyTeeUsage says), altered counts, events or request never, before or after caching', async () => {
    const verifier = createTeeSignatureVerifier(account.address);
    const usage = (events: number, outputTokens: number) => ({ modelId: 'toy-chat', requestHash: Buffer.alloc(32, 7), events, inputTokens: 5, outputTokens });
    for (let events = 1; events <= 3; events++) {
      const signature = await account.signMessage({ message: teeUsageText(usage(events, events * 2)) });
      expect(code(() => verifyTeeUsage({ ...usage(events, events * 2), signature, signingAddress: account.address }))).toBe('ok');
      expect(code(() => verifier.verifyUsage({ ...usage(events, events * 2), signature }))).toBe('ok');
      expect(code(() => verifier.verifyUsage({ ...usage(events, events * 2 + 1), signature }))).toBe('tee_bad_signature');
      expect(code(() => verifier.verifyUsage({ ...usage(events + 1, events * 2), signature }))).toBe('tee_bad_signature');
      expect(code(() => verifier.verifyUsage({ ...usage(events, events * 2), requestHash: Buffer.alloc(32, 8), signature }))).toBe('tee_bad_signature');
    }
    expect(verifier.keyCached).toBe(true);
    const foreign = await other.signMessage({ message: teeUsageText(usage(1, 2)) });
    expect(code(() => verifier.verifyUsage({ ...usage(1, 2), signature: foreign }))).toBe('tee_bad_signature');
    expect(code(() => createTeeSignatureVerifier(account.address).verifyUsage({ ...usage(1, 2), signature: foreign }))).toBe('tee_bad_signature');
  });

  test('error: the high-S twin of a genuine signature is refused, on the first (recovering) check as on later ones', async () => {
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const good = await sign(5);
    const s = BigInt(`0x${good.slice(66, 130)}`);
    const v = parseInt(good.slice(130), 16);
    const twin = `${good.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`;
    const fresh = createTeeSignatureVerifier(account.address);
    expect(code(() => fresh.verify({ ...exchange(5), signature: twin }))).toBe('tee_bad_signature');
    expect(code(() => fresh.verify({ ...exchange(5), signature: good }))).toBe('ok');
    expect(code(() => fresh.verify({ ...exchange(5), signature: twin }))).toBe('tee_bad_signature');
  });
});

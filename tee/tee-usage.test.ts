import { createHash } from 'node:crypto';
import { verifyMessage, type Hex } from 'viem';
import { createEnclaveIdentity } from './create-enclave-identity';
import { createHpkeSuite } from './create-hpke-suite';
import { createTeeChannel, newRequestId } from './create-tee-channel';
import { encodeTeeOperationRequest } from './tee-operation-codec';
import { isTeeError } from './tee-error';
import { teeUsageText, verifyTeeUsage } from './tee-usage';

const MODEL = 'toy-chat-kjv';

async function opened() {
  const identity = await createEnclaveIdentity();
  const channel = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: identity.hpkePublicKey, modelId: MODEL, reuseSession: false });
  const request = await channel.seal(encodeTeeOperationRequest({ requestId: newRequestId(), timestampMs: Date.now(), modelId: MODEL, operation: 'chat.completions', body: new TextEncoder().encode('{}') }));
  const open = await identity.open({ modelId: MODEL, sealed: request.sealed });
  return { identity, open, requestHash: createHash('sha256').update(request.sealed).digest() };
}

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (err) {
    if (isTeeError(err)) return err.code;
    throw err;
  }
};

describe('signed usage (PROTOCOL.md §12)', () => {
  test('a node signs counts bound to its request and stream position; the relay verifies them against the attested key', async () => {
    const { identity, open, requestHash } = await opened();
    const signature = identity.signUsage(open, 3, { inputTokens: 12, outputTokens: 7 });
    const text = teeUsageText({ modelId: MODEL, requestHash, events: 3, inputTokens: 12, outputTokens: 7 });
    expect(text).toBe(`veil-v1-usage:${MODEL}:${requestHash.toString('hex')}:3:12:7`);
    // Standard EIP-191: any third party (the client, an auditor) checks it with an ordinary library.
    await expect(verifyMessage({ address: identity.signingAddress, message: text, signature: signature as Hex })).resolves.toBe(true);
    const base = { modelId: MODEL, requestHash, events: 3, inputTokens: 12, outputTokens: 7, signature, signingAddress: identity.signingAddress };
    expect(codeOf(() => verifyTeeUsage(base))).toBe('no error');
    // A relay that inflates a count, moves it to another stream position or another call, or names another key fails.
    expect(codeOf(() => verifyTeeUsage({ ...base, outputTokens: 8 }))).toBe('tee_bad_signature');
    expect(codeOf(() => verifyTeeUsage({ ...base, events: 4 }))).toBe('tee_bad_signature');
    expect(codeOf(() => verifyTeeUsage({ ...base, requestHash: Buffer.alloc(32, 1) }))).toBe('tee_bad_signature');
    expect(codeOf(() => verifyTeeUsage({ ...base, signingAddress: '0x0000000000000000000000000000000000000001' }))).toBe('tee_bad_signature');
    expect(codeOf(() => verifyTeeUsage({ ...base, signature: '0x1234' }))).toBe('tee_bad_signature');
  });

  test('refuses counts that are not non-negative integers and a request hash of the wrong size', () => {
    const requestHash = Buffer.alloc(32);
    expect(codeOf(() => teeUsageText({ modelId: MODEL, requestHash, events: 0, inputTokens: -1, outputTokens: 0 }))).toBe('invalid_input');
    expect(codeOf(() => teeUsageText({ modelId: MODEL, requestHash, events: 0.5, inputTokens: 0, outputTokens: 0 }))).toBe('invalid_input');
    expect(codeOf(() => teeUsageText({ modelId: MODEL, requestHash: Buffer.alloc(31), events: 0, inputTokens: 0, outputTokens: 0 }))).toBe('invalid_input');
    expect(codeOf(() => teeUsageText({ modelId: 'a:b', requestHash, events: 0, inputTokens: 0, outputTokens: 0 }))).not.toBe('no error');
  });
});

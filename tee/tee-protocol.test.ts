import { inspect } from 'node:util';
import { createHpkeSuite } from './create-hpke-suite';
import { createEnclaveIdentity } from './create-enclave-identity';
import { createTeeChannel, newRequestId } from './create-tee-channel';
import { decodeTeeResponseBody, encodeTeeRequestBody, encodeTeeResponseBody } from './tee-body-codec';
import { teeSignatureText, verifyTeeSignature } from './tee-signature';
import { isTeeError } from './tee-error';

const MODEL = 'breast-cancer-lr';
const inputs = { x: { dims: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6.5]) } };

async function setup(reuseSession = true) {
  const identity = await createEnclaveIdentity();
  const channel = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: identity.hpkePublicKey, modelId: MODEL, reuseSession });
  const body = () => encodeTeeRequestBody({ requestId: newRequestId(), timestampMs: Date.now(), modelId: MODEL, inputs });
  /** What the node does: open, answer with doubled inputs, seal. */
  const answer = async (sealed: Uint8Array, modelId = MODEL) => {
    const opened = await identity.open({ modelId, sealed });
    if (opened.body.version !== 1) throw new Error('expected a tensor body');
    const x = opened.body.inputs.x!;
    const out = encodeTeeResponseBody({ requestId: opened.body.requestId, outputs: { y: { dims: x.dims, data: x.data.map((v) => v * 2) } }, computeMicros: 7 });
    return { opened, sealedResponse: identity.sealResponse(opened, out) };
  };
  return { identity, channel, body, answer };
}

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    if (isTeeError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a TeeError');
}

describe('veil-tee-v1 channel', () => {
  test('handshake then session requests round-trip; one X25519 setup per channel', async () => {
    const { channel, body, answer, identity } = await setup();
    for (let i = 0; i < 3; i++) {
      const request = await channel.seal(body());
      expect(request.kind).toBe(i === 0 ? 'handshake' : 'session');
      const { opened, sealedResponse } = await answer(request.sealed);
      expect(opened.body.modelId).toBe(MODEL);
      expect(opened.body.version === 1 && Array.from(opened.body.inputs.x!.data)).toEqual([1, 2, 3, 4, 5, 6.5]);
      const response = decodeTeeResponseBody(request.open(sealedResponse));
      expect(Array.from(response.outputs.y!.data)).toEqual([2, 4, 6, 8, 10, 13]);
      expect(response.requestId).toEqual(opened.body.requestId);
    }
    expect(identity.sessionCount).toBe(1);
  });

  test('one-shot mode: every request is a handshake', async () => {
    const { channel, body, answer } = await setup(false);
    for (let i = 0; i < 2; i++) {
      const request = await channel.seal(body());
      expect(request.kind).toBe('handshake');
      decodeTeeResponseBody(request.open((await answer(request.sealed)).sealedResponse));
    }
  });

  test('concurrent first requests share one handshake', async () => {
    const { channel, body, answer } = await setup();
    const first = channel.seal(body());
    const second = channel.seal(body());
    const r1 = await first;
    r1.open((await answer(r1.sealed)).sealedResponse);
    const r2 = await second;
    expect([r1.kind, r2.kind]).toEqual(['handshake', 'session']);
    r2.open((await answer(r2.sealed)).sealedResponse);
  });

  test('error: any flipped bit of a sealed request is refused', async () => {
    const { channel, body, answer } = await setup();
    const handshake = await channel.seal(body());
    for (const index of [0, 5, 40, handshake.sealed.length - 1]) {
      const tampered = handshake.sealed.slice();
      tampered[index]! ^= 0x01;
      expect(await refusal(answer(tampered))).toBe('tee_decrypt_failed');
    }
    handshake.open((await answer(handshake.sealed)).sealedResponse);
    const session = await channel.seal(body());
    const tampered = session.sealed.slice();
    tampered[tampered.length - 3]! ^= 0x80;
    expect(await refusal(answer(tampered))).toBe('tee_decrypt_failed');
  });

  test('error: the gateway cannot swap the model id (info/aad bind it)', async () => {
    const { channel, body, answer } = await setup();
    const request = await channel.seal(body());
    expect(await refusal(answer(request.sealed, 'digits-relu-mlp'))).toBe('tee_decrypt_failed');
  });

  test('error: a tampered response, or a response to another request, is refused', async () => {
    const { channel, body, answer } = await setup();
    const r1 = await channel.seal(body());
    const { sealedResponse } = await answer(r1.sealed);
    const tampered = sealedResponse.slice();
    tampered[20]! ^= 0x01;
    expect(await refusal(() => r1.open(tampered))).toBe('tee_decrypt_failed');
    r1.open(sealedResponse);
    const r2 = await channel.seal(body());
    const r3 = await channel.seal(body());
    const a2 = await answer(r2.sealed);
    await answer(r3.sealed);
    expect(await refusal(() => r3.open(a2.sealedResponse))).toBe('tee_decrypt_failed');
  });

  test('error: a session the node does not hold is tee_session_unknown', async () => {
    const first = await setup();
    const r1 = await first.channel.seal(first.body());
    r1.open((await first.answer(r1.sealed)).sealedResponse);
    const r2 = await first.channel.seal(first.body());
    const other = await setup();
    // Same key would be needed to even try: model a restarted node by a fresh identity keyed differently.
    expect(await refusal(other.identity.open({ modelId: MODEL, sealed: r2.sealed }))).toBe('tee_session_unknown');
  });

  test('signature: the enclave key signs the exact sealed bytes; anything else is refused', async () => {
    const { channel, body, answer, identity } = await setup();
    const request = await channel.seal(body());
    const { sealedResponse } = await answer(request.sealed);
    const exchange = { modelId: MODEL, requestBytes: request.sealed, responseBytes: sealedResponse };
    expect(teeSignatureText(exchange)).toMatch(/^veil-v1:breast-cancer-lr:[0-9a-f]{64}:[0-9a-f]{64}$/);
    const signature = await identity.sign(exchange);
    await verifyTeeSignature({ ...exchange, signature, signingAddress: identity.signingAddress });
    const tampered = sealedResponse.slice();
    tampered[12]! ^= 1;
    expect(await refusal(verifyTeeSignature({ ...exchange, responseBytes: tampered, signature, signingAddress: identity.signingAddress }))).toBe('tee_bad_signature');
    const impostor = await createEnclaveIdentity();
    const forged = await impostor.sign(exchange);
    expect(await refusal(verifyTeeSignature({ ...exchange, signature: forged, signingAddress: identity.signingAddress }))).toBe('tee_bad_signature');
    expect(await refusal(verifyTeeSignature({ ...exchange, signature: '0x1234', signingAddress: identity.signingAddress }))).toBe('tee_bad_signature');
  });

  test('the identity shows only public parts', async () => {
    const identity = await createEnclaveIdentity();
    const json = JSON.parse(JSON.stringify(identity)) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(['hpkePublicKey', 'hpkeSuite', 'signingAddress']);
    expect(json.hpkePublicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(inspect(identity)).toContain(identity.signingAddress);
    expect(inspect(identity, { showHidden: true })).not.toMatch(/privateKey|CryptoKey/);
  });
});

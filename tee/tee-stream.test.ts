import { verifyMessage, type Hex } from 'viem';
import { createHpkeSuite } from './create-hpke-suite';
import { createEnclaveIdentity } from './create-enclave-identity';
import { createTeeChannel, newRequestId } from './create-tee-channel';
import { createTeeSignatureVerifier } from './create-tee-signature-verifier';
import { decodeAnyTeeRequestBody, decodeTeeOperationResponse, encodeTeeOperationRequest, encodeTeeOperationResponse } from './tee-operation-codec';
import { encodeTeeRequestBody } from './tee-body-codec';
import { teeStreamSignatureText } from './tee-signature';
import { isTeeError } from './tee-error';

const MODEL = 'toy-chat-kjv';
const text = new TextEncoder();
const json = (value: unknown) => text.encode(JSON.stringify(value));

async function setup(reuseSession = true) {
  const identity = await createEnclaveIdentity();
  const channel = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: identity.hpkePublicKey, modelId: MODEL, reuseSession });
  const ask = async () => {
    const requestId = newRequestId();
    const request = await channel.seal(encodeTeeOperationRequest({ requestId, timestampMs: Date.now(), modelId: MODEL, operation: 'chat.completions', body: json({ stream: true }) }));
    return { requestId, request };
  };
  /** What a node does: open, stream three chunks and an end, sign. */
  const stream = async (sealed: Uint8Array, chunks = ['In', ' the', ' beginning']) => {
    const opened = await identity.open({ modelId: MODEL, sealed });
    const sealer = identity.createStreamSealer(opened);
    const frames = chunks.map((c) => sealer.seal('data', json({ delta: c })));
    frames.push(sealer.seal('end', json({ compute_micros: 5 })));
    return { frames, signature: await sealer.sign(), opened };
  };
  return { identity, channel, ask, stream };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isTeeError(err)) return err.code;
    throw err;
  }
  return 'no error';
}

describe('veil-tee-v1 streams (PROTOCOL.md §10)', () => {
  test('events open in order, across handshake and session requests, and the receipt verifies (also with viem)', async () => {
    const { identity, ask, stream } = await setup();
    for (let i = 0; i < 2; i++) {
      const { requestId, request } = await ask();
      expect(request.kind).toBe(i === 0 ? 'handshake' : 'session');
      const { frames, signature, opened } = await stream(request.sealed);
      expect(opened.body.version).toBe(2);
      const opener = request.openStream(requestId);
      const bodies = frames.map((f) => opener.open(f));
      expect(bodies.map((b) => b.kind)).toEqual(['data', 'data', 'data', 'end']);
      expect(bodies.map((b) => b.index)).toEqual([0, 1, 2, 3]);
      expect(JSON.parse(Buffer.from(bodies[1]!.body).toString())).toEqual({ delta: ' the' });
      expect(opener.ended).toBe(true);
      const { hash, count } = opener.transcript();
      expect(count).toBe(4);
      createTeeSignatureVerifier(identity.signingAddress).verifyStream({ modelId: MODEL, requestBytes: request.sealed, transcriptHash: hash, count, signature });
      const message = teeStreamSignatureText({ modelId: MODEL, requestBytes: request.sealed, transcriptHash: hash, count });
      expect(message).toMatch(/^veil-v1-stream:toy-chat-kjv:[0-9a-f]{64}:[0-9a-f]{64}:4$/);
      await expect(verifyMessage({ address: identity.signingAddress, message, signature: signature as Hex })).resolves.toBe(true);
    }
  });

  test('a dropped, repeated, reordered or altered event is refused as tee_stream_invalid', async () => {
    const { ask, stream } = await setup(false);
    const cases: Array<(frames: Uint8Array[]) => Uint8Array[]> = [
      (f) => [f[0]!, f[2]!], // dropped
      (f) => [f[0]!, f[0]!], // repeated
      (f) => [f[1]!, f[0]!], // reordered
      (f) => { const bad = f[1]!.slice(); bad[bad.length - 1]! ^= 1; return [f[0]!, bad]; }, // altered ciphertext
      (f) => { const bad = f[1]!.slice(); bad[12] = 0; return [bad]; }, // event 1 relabelled as the due event 0: AEAD refuses
      (f) => [...f, f[3]!], // after the end
    ];
    for (const mutate of cases) {
      const { requestId, request } = await ask();
      const { frames } = await stream(request.sealed);
      const opener = request.openStream(requestId);
      const order = mutate(frames);
      const codes = order.map((f) => code(() => opener.open(f)));
      // Everything before the defect opens; the defect itself is refused.
      expect(codes.filter((c) => c !== 'no error')).toEqual(['tee_stream_invalid']);
    }
  });

  test('events of another stream (same channel) do not open in this one', async () => {
    const { ask, stream } = await setup();
    const a = await ask();
    const fa = await stream(a.request.sealed);
    a.request.openStream(a.requestId).open(fa.frames[0]!); // establishes the session, so b is a session request
    const b = await ask();
    const fb = await stream(b.request.sealed);
    const opener = b.request.openStream(b.requestId);
    expect(code(() => opener.open(fa.frames[0]!))).toBe('tee_stream_invalid');
    expect(opener.open(fb.frames[0]!).index).toBe(0);
  });

  test('a receipt over a truncated transcript does not verify', async () => {
    const { identity, ask, stream } = await setup();
    const { requestId, request } = await ask();
    const { frames, signature } = await stream(request.sealed);
    const opener = request.openStream(requestId);
    frames.slice(0, 2).forEach((f) => opener.open(f));
    expect(opener.ended).toBe(false);
    const { hash, count } = opener.transcript();
    expect(code(() => createTeeSignatureVerifier(identity.signingAddress).verifyStream({ modelId: MODEL, requestBytes: request.sealed, transcriptHash: hash, count, signature }))).toBe('tee_bad_signature');
  });

  test('one answer per request: a streamed request cannot also get a single response, and a stream ends once', async () => {
    const { identity, ask } = await setup();
    const { request } = await ask();
    const opened = await identity.open({ modelId: MODEL, sealed: request.sealed });
    const sealer = identity.createStreamSealer(opened);
    expect(code(() => identity.sealResponse(opened, json({})))).toBe('internal');
    await expect(sealer.sign()).rejects.toThrow(/after its last event/);
    sealer.seal('error', json({ code: 'cancelled' }));
    expect(code(() => sealer.seal('data', json({})))).toBe('tee_stream_invalid');
    await expect(sealer.sign()).resolves.toMatch(/^0x[0-9a-f]{130}$/);
  });

  test('operation bodies: both versions decode by their version; anything else is invalid_input', () => {
    const requestId = newRequestId();
    const v2 = decodeAnyTeeRequestBody(encodeTeeOperationRequest({ requestId, timestampMs: 5, modelId: MODEL, operation: 'embeddings', body: json({ input: 'x' }) }));
    expect(v2).toMatchObject({ version: 2, operation: 'embeddings', timestampMs: 5, modelId: MODEL });
    const v1 = decodeAnyTeeRequestBody(encodeTeeRequestBody({ requestId, timestampMs: 5, modelId: MODEL, inputs: { x: { dims: [1], data: new Float32Array([1]) } } }));
    expect(v1.version).toBe(1);
    expect(code(() => decodeAnyTeeRequestBody(new Uint8Array([0x86, 0x03, 0, 0, 0, 0, 0])))).toBe('invalid_input');
    expect(code(() => encodeTeeOperationRequest({ requestId, timestampMs: 5, modelId: MODEL, operation: 'completions' as never, body: json({}) }))).toBe('invalid_input');
    const response = decodeTeeOperationResponse(encodeTeeOperationResponse({ requestId, body: json({ ok: 1 }), computeMicros: 3.4 }));
    expect(response.computeMicros).toBe(3);
    expect(code(() => decodeTeeOperationResponse(new Uint8Array([0x84, 0x02, 0x40, 0x40, 0x00])))).toBe('invalid_input');
  });
});

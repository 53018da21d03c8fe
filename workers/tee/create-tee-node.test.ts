import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createSimulatedProvider, type AttestationEnvelope } from '../../attestation';
import { loadVeilProto } from '../../proto';
import { createHpkeSuite, createTeeChannel, encodeTeeOperationRequest, encodeTeeRequestBody, isTeeError, newRequestId, verifyTeeUsage } from '../../tee';
import { WorkerTaskError } from '../task-envelope';
import { createTeeNode, type TeeEvidenceSource } from './create-tee-node';
import type { TeePool, TeeRunParameters } from './create-tee-pool';
import { startTeeNodeServer } from './start-tee-node-server';
import type { TeeLanguageHost } from './tee-language-host';
import { EMPTY_TEE_POOL } from './test-support/fake-language-host';

const MODEL = 'm';

/** A pool whose behaviour each test scripts; it records the signals it was handed. */
function fakePool(run: (params: TeeRunParameters) => Promise<Awaited<ReturnType<TeePool['run']>>>): TeePool & { calls: TeeRunParameters[] } {
  const calls: TeeRunParameters[] = [];
  return {
    calls,
    run: (params) => (calls.push(params), run(params)),
    threads: 1, intraOpThreads: 1, modelIds: [MODEL], queueSize: 0,
    close: async () => undefined,
  };
}

const ok = async () => ({ outputs: { y: { dims: [1], data: new Float32Array([1]) } }, computeMicros: 1 });

async function sealFor(hpkePublicKey: Uint8Array) {
  const channel = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey, modelId: MODEL, reuseSession: false });
  return (await channel.seal(encodeTeeRequestBody({ requestId: newRequestId(), timestampMs: Date.now(), modelId: MODEL, inputs: { x: { dims: [1], data: new Float32Array([2]) } } }))).sealed;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isTeeError(err)) return err.code;
    throw err;
  }
}

describe('createTeeNode', () => {
  test('platform is read live from the evidence source (configfs-tsm learns it on its first report)', async () => {
    const simulated = createSimulatedProvider();
    const source: TeeEvidenceSource & { platform: string } = {
      platform: 'unknown',
      async getEvidence(params) {
        source.platform = 'sev-snp';
        return simulated.getEvidence(params) as Promise<AttestationEnvelope>;
      },
    };
    const node = createTeeNode({ pool: fakePool(ok), evidenceSource: source, evidenceRefreshMs: 0 });
    expect(node.platform).toBe('unknown');
    await node.start(); // fetches the first evidence
    expect(node.platform).toBe('sev-snp');
    await node.stop();
  });

  test('a request the pool refused as overloaded leaves no trace in the replay guard (its retry is not a replay)', async () => {
    let refuse = true;
    const pool = fakePool(async () => {
      if (refuse) throw new WorkerTaskError('overloaded', 'full');
      return ok();
    });
    const node = createTeeNode({ pool, evidenceRefreshMs: 0 });
    await node.start();
    const sealed = await sealFor(node.identity.hpkePublicKey);
    expect(await codeOf(node.infer({ modelId: MODEL, sealedRequest: sealed }))).toBe('overloaded');
    refuse = false;
    expect(await codeOf(node.infer({ modelId: MODEL, sealedRequest: sealed }))).toBe('ok');
    // Once it ran, the same bytes are a replay.
    expect(await codeOf(node.infer({ modelId: MODEL, sealedRequest: sealed }))).toBe('tee_replay');
    await node.stop();
  });

  test('cancellation: an aborted call skips the work that has not started, and the pool gets the signal', async () => {
    const pool = fakePool(ok);
    const node = createTeeNode({ pool, evidenceRefreshMs: 0 });
    await node.start();
    const sealed = await sealFor(node.identity.hpkePublicKey);
    expect(await codeOf(node.infer({ modelId: MODEL, sealedRequest: sealed }, { signal: AbortSignal.abort() }))).toBe('cancelled');
    expect(await codeOf(node.getEvidence({ nonce: new Uint8Array(32) }, { signal: AbortSignal.abort() }))).toBe('cancelled');
    expect(pool.calls).toHaveLength(0);
    await node.stop();
  });

  test('over gRPC, a call the gateway cancels reaches the node: the waiting task is cancelled, not run', async () => {
    let seen: AbortSignal | undefined;
    const pool = fakePool((params) => new Promise((resolve, reject) => {
      seen = params.signal;
      params.signal?.addEventListener('abort', () => reject(new WorkerTaskError('cancelled', 'cancelled')), { once: true });
    }));
    const server = await startTeeNodeServer({ host: '127.0.0.1', port: 0, pool, evidenceRefreshMs: 0 });
    const proto = loadVeilProto();
    const stub = new proto.services.TeeNode(server.address, grpc.credentials.createInsecure());
    try {
      const sealed = await sealFor(server.node.identity.hpkePublicKey);
      const call = (stub as unknown as { Infer: Function }).Infer({ modelId: MODEL, sealedRequest: sealed }, () => undefined) as grpc.ClientUnaryCall;
      for (let i = 0; i < 100 && !seen; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(seen?.aborted).toBe(false);
      call.cancel();
      for (let i = 0; i < 100 && !seen?.aborted; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(seen?.aborted).toBe(true);
    } finally {
      stub.close();
      await server.close();
    }
  });

  test('a stream seals the chunks that are ready together as one event, each event signed with the counts through its last chunk', async () => {
    let step!: () => void;
    const stepped = new Promise<void>((resolve) => (step = resolve));
    const chunk = (content: string) => ({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] });
    const host: TeeLanguageHost = {
      models: [{ id: 'chat', kind: 'chat', contextLength: 64 }],
      run: () => Promise.reject(new Error('not used')),
      async *stream(_model, _request, _signal, meter) {
        meter?.({ promptTokens: 3, completionTokens: 0 });
        yield chunk(''); // the role chunk, ready with the first token
        meter?.({ promptTokens: 3, completionTokens: 1 });
        yield chunk('In');
        await stepped; // the next model step
        meter?.({ promptTokens: 3, completionTokens: 2 });
        yield chunk(' the');
        yield { object: 'chat.completion.chunk', choices: [], usage: { completion_tokens: 2 } };
      },
      close: async () => undefined,
    };
    const node = createTeeNode({ pool: EMPTY_TEE_POOL, languageHost: host, evidenceRefreshMs: 0 });
    await node.start();
    try {
      const channel = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: node.identity.hpkePublicKey, modelId: 'chat', reuseSession: false });
      const requestId = newRequestId();
      const body = new TextEncoder().encode(JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'x' }] }));
      const request = await channel.seal(encodeTeeOperationRequest({ requestId, timestampMs: Date.now(), modelId: 'chat', operation: 'chat.completions', body }));
      const opener = request.openStream(requestId);
      const events = node.inferStream({ modelId: 'chat', sealedRequest: request.sealed });
      const opened: { kind: string; body: unknown; usage: [number, number] }[] = [];
      for await (const event of events) {
        const e = opener.open(event.sealedEvent);
        opened.push({ kind: e.kind, body: JSON.parse(Buffer.from(e.body).toString()), usage: [event.usage!.inputTokens, event.usage!.outputTokens] });
        verifyTeeUsage({ modelId: 'chat', requestHash: createHash('sha256').update(request.sealed).digest(), events: opened.length, ...event.usage!, signingAddress: node.identity.signingAddress });
        if (opened.length === 1) step(); // the second step only runs once the first event is out: nothing waited for it
      }
      expect(opened.map((e) => e.kind)).toEqual(['data', 'data', 'end']);
      expect(opened[0]!.body).toEqual([chunk(''), chunk('In')]);
      expect(opened[1]!.body).toEqual([chunk(' the'), { object: 'chat.completion.chunk', choices: [], usage: { completion_tokens: 2 } }]);
      expect(opened.map((e) => e.usage)).toEqual([[3, 1], [3, 2], [3, 2]]);
    } finally {
      await node.stop();
    }
  });
});

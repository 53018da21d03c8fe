import * as grpc from '@grpc/grpc-js';
import { createSimulatedProvider, type AttestationEnvelope } from '../../attestation';
import { loadVeilProto } from '../../proto';
import { createHpkeSuite, createTeeChannel, encodeTeeRequestBody, isTeeError, newRequestId } from '../../tee';
import { WorkerTaskError } from '../task-envelope';
import { createTeeNode, type TeeEvidenceSource } from './create-tee-node';
import type { TeePool, TeeRunParameters } from './create-tee-pool';
import { startTeeNodeServer } from './start-tee-node-server';

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
});

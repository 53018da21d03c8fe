import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { createHpkeSuite, createTeeChannel, encodeTeeRequestBody, isTeeError, newRequestId } from '../../tee';
import { startTeeNodeServer, type TeeNodeServer } from '../../workers/tee';
import { scriptedPool, TEST_MODEL, TEST_POLICY } from '../../test/support/scripted-tee-node';
import { createLogger } from '../logger';
import { classifyNodeCallError, createRemoteTeeLink } from './create-remote-tee-link';
import { createTeeRouter } from './create-tee-router';

const KiB = 1024;
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => (isTeeError(e) ? `tee:${e.code}` : e.code ?? String(e)));

describe('classifyNodeCallError', () => {
  const status = (code: grpc.status, veil?: string) => {
    const metadata = new grpc.Metadata();
    if (veil) metadata.set('veil-error-code', veil);
    return { code, details: 'x', metadata };
  };
  test.each([
    [grpc.status.UNAVAILABLE, true, 'tee:unavailable'],
    [grpc.status.DEADLINE_EXCEEDED, false, 'tee:unavailable'],
    [grpc.status.DEADLINE_EXCEEDED, true, 'deadline_exceeded'],
    [grpc.status.RESOURCE_EXHAUSTED, true, 'message_too_large'],
    [grpc.status.INVALID_ARGUMENT, true, 'invalid_argument'],
    [grpc.status.CANCELLED, true, 'cancelled'],
    [grpc.status.INTERNAL, true, 'internal'],
    [grpc.status.UNIMPLEMENTED, false, 'internal'],
  ])('status %s (channel ready: %s) → %s; only transport failures say the node is gone', async (code, ready, expected) => {
    expect(await codeOf(Promise.reject(classifyNodeCallError(status(code), ready)))).toBe(expected);
  });
  test('a node\'s own coded refusal keeps its code', async () => {
    expect(await codeOf(Promise.reject(classifyNodeCallError(status(grpc.status.UNAVAILABLE, 'overloaded'), true)))).toBe('tee:overloaded');
  });
});

describe('createRemoteTeeLink', () => {
  const servers: TeeNodeServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close(100);
  });
  const serve = async (maxMessageBytes: number, run?: Parameters<typeof scriptedPool>[0]) => {
    const s = await startTeeNodeServer({ host: '127.0.0.1', port: 0, pool: scriptedPool(run), evidenceRefreshMs: 0, maxMessageBytes });
    servers.push(s);
    return s;
  };

  test('an oversized message is message_too_large (not the node being gone); a slow node on a live channel is deadline_exceeded', async () => {
    const small = await serve(64 * KiB, () => new Promise(() => undefined));
    const link = createRemoteTeeLink({ id: 'n', address: small.address, maxMessageBytes: 1024 * KiB });
    try {
      expect(await codeOf(link.infer({ modelId: TEST_MODEL, sealedRequest: new Uint8Array(200 * KiB) }, { deadline: Date.now() + 5_000 }))).toBe('message_too_large');
      // The channel is up (evidence answered); a properly sealed request then reaches the pool, which never answers.
      const evidence = await link.getEvidence({ nonce: new Uint8Array(0) }, { deadline: Date.now() + 5_000 });
      const channel = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: evidence.identity!.hpkePublicKey, modelId: TEST_MODEL, reuseSession: false });
      const sealed = (await channel.seal(encodeTeeRequestBody({ requestId: newRequestId(), timestampMs: Date.now(), modelId: TEST_MODEL, inputs: { x: { dims: [1], data: new Float32Array(1) } } }))).sealed;
      expect(await codeOf(link.infer({ modelId: TEST_MODEL, sealedRequest: sealed }, { deadline: Date.now() + 300 }))).toBe('deadline_exceeded');
    } finally {
      link.close();
    }
  });

  test('a client cancelling a relayed call cancels the gateway→node call, and the node stops the queued work', async () => {
    let seen: AbortSignal | undefined;
    const s = await serve(1024 * KiB, (params) => new Promise((_resolve, reject) => {
      seen = params.signal;
      params.signal?.addEventListener('abort', () => reject(Object.assign(new Error('cancelled'), { code: 'cancelled' })), { once: true });
    }));
    const r = createTeeRouter({
      links: [createRemoteTeeLink({ id: 'n', address: s.address, maxMessageBytes: 1024 * KiB })], logger: createLogger({ level: 'silent', format: 'json' }),
      policy: TEST_POLICY, maxEvidenceAgeMs: 60_000, refreshMs: 0, healthCheckMs: 0, nodeTimeoutMs: 5_000,
    });
    await r.start();
    try {
      const { evidence } = await r.getEvidence({ modelId: TEST_MODEL, nonce: new Uint8Array(32).fill(5) }, { deadline: 0 });
      const channel = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: evidence.identity!.hpkePublicKey, modelId: TEST_MODEL, reuseSession: false });
      const sealed = (await channel.seal(encodeTeeRequestBody({ requestId: newRequestId(), timestampMs: Date.now(), modelId: TEST_MODEL, inputs: { x: { dims: [1], data: new Float32Array(1) } } }))).sealed;
      const client = new AbortController();
      const pending = r.infer({ nodeId: 'n', modelId: TEST_MODEL, sealedRequest: sealed }, { deadline: 0, signal: client.signal });
      for (let i = 0; i < 200 && !seen; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(seen?.aborted).toBe(false);
      client.abort();
      expect(await codeOf(pending)).toBe('cancelled');
      for (let i = 0; i < 200 && !seen?.aborted; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(seen?.aborted).toBe(true);
      expect(r.nodes()[0]!.state).toBe('healthy');
    } finally {
      await r.close();
    }
  });

  test('a peer that accepts TCP but never speaks gRPC times out as unreachable (deadline before connect)', async () => {
    const sockets: net.Socket[] = [];
    const hole = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    const link = createRemoteTeeLink({ id: 'n', address: `127.0.0.1:${(hole.address() as net.AddressInfo).port}`, maxMessageBytes: 64 * KiB });
    try {
      expect(await codeOf(link.getEvidence({ nonce: new Uint8Array(0) }, { deadline: Date.now() + 300 }))).toBe('tee:unavailable');
    } finally {
      link.close();
      for (const s of sockets) s.destroy();
      hole.close();
    }
  });

  test('issue #9: one oversized request no longer quarantines nodes one after another; the limit mismatch is logged loudly', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) });
    const a = await serve(64 * KiB);
    const b = await serve(64 * KiB);
    const links = [a, b].map((s, i) => createRemoteTeeLink({ id: `remote-${i + 1}`, address: s.address, maxMessageBytes: 1024 * KiB }));
    const r = createTeeRouter({ links, logger, policy: TEST_POLICY, maxEvidenceAgeMs: 60_000, refreshMs: 0, healthCheckMs: 0, nodeTimeoutMs: 5_000 });
    await r.start();
    try {
      expect(r.nodes().map((n) => [n.state, n.maxMessageBytes])).toEqual([['healthy', 64 * KiB], ['healthy', 64 * KiB]]);
      expect(lines.filter((l) => l.includes('message limit differs'))).toHaveLength(2);
      for (const nodeId of ['remote-1', 'remote-2', 'remote-1']) {
        expect(await codeOf(r.infer({ nodeId, modelId: TEST_MODEL, sealedRequest: new Uint8Array(200 * KiB) }, { deadline: 0 }))).toBe('message_too_large');
      }
      expect(r.nodes().map((n) => n.state)).toEqual(['healthy', 'healthy']);
    } finally {
      await r.close();
    }
  });
});

/**
 * The router's DoS bounds (issue #9): no client can quarantine nodes, GetEvidence is rate-limited per caller and
 * coalesced, client evidence traffic cannot starve the gateway's own attestation, and the attesting flag never sticks.
 */
import { TeeError } from '../../tee';
import type { TeeNode } from '../../workers/tee';
import { startScriptedNode, TEST_MODEL, TEST_POLICY } from '../../test/support/scripted-tee-node';
import { createLogger } from '../logger';
import { createLocalTeeLink } from './create-local-tee-link';
import { createTeeRouter, type CreateTeeRouterOptions } from './create-tee-router';
import type { TeeLink } from './tee-link';

const lines: string[] = [];
const logger = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) });
const nodes: TeeNode[] = [];
afterAll(async () => {
  for (const n of nodes) await n.stop();
});

async function node(): Promise<TeeNode> {
  const n = await startScriptedNode();
  nodes.push(n);
  return n;
}

const router = (links: TeeLink[], extra: Partial<CreateTeeRouterOptions> = {}) =>
  createTeeRouter({
    links, logger, policy: TEST_POLICY, maxEvidenceAgeMs: 60_000, refreshMs: 0, healthCheckMs: 0, nodeTimeoutMs: 5_000, ...extra,
  });

const nonce = (n: number) => new Uint8Array(32).fill(n);
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e));

/** Wraps a link: `hold` makes client-nonce evidence calls wait until released; counts what reached the node. */
function instrumented(inner: TeeLink) {
  const clientNonces = new Set<string>();
  const stats = { clientCalls: 0, clientInFlight: 0, maxClientInFlight: 0, gatewayCalls: 0, signals: [] as AbortSignal[] };
  let hold: Promise<void> | undefined;
  let releaseHold = () => undefined as void;
  const link: TeeLink = {
    ...inner,
    async getEvidence(request, options) {
      const hex = Buffer.from(request.nonce).toString('hex');
      if (!clientNonces.has(hex)) {
        stats.gatewayCalls++;
        return inner.getEvidence(request, options);
      }
      stats.clientCalls++;
      stats.clientInFlight++;
      stats.maxClientInFlight = Math.max(stats.maxClientInFlight, stats.clientInFlight);
      if (options.signal) stats.signals.push(options.signal);
      try {
        if (hold) await hold;
        return await inner.getEvidence(request, options);
      } finally {
        stats.clientInFlight--;
      }
    },
  };
  return {
    link, stats,
    client: (n: Uint8Array) => (clientNonces.add(Buffer.from(n).toString('hex')), n),
    hold: () => (hold = new Promise<void>((resolve) => (releaseHold = resolve))),
    release: () => {
      hold = undefined;
      releaseHold();
    },
  };
}

describe('TEE router bounds', () => {
  test('the attesting flag is cleared even when the link throws synchronously (the node is re-attested later)', async () => {
    const local = createLocalTeeLink('n', await node());
    let broken = true;
    const link: TeeLink = {
      ...local,
      getEvidence: (r, o) => {
        if (broken) throw new TeeError('unavailable', 'synchronous failure');
        return local.getEvidence(r, o);
      },
    };
    const r = router([link]);
    await r.start();
    expect(r.nodes()[0]).toMatchObject({ state: 'quarantined', reason: 'unreachable' });
    broken = false;
    await r.probe();
    expect(r.nodes()[0]).toMatchObject({ state: 'healthy', reason: '' });
    await r.close();
  });

  test('GetEvidence is rate-limited per caller on the injected clock (rate_limited), other callers unaffected', async () => {
    let t = Date.now();
    const r = router([createLocalTeeLink('n', await node())], { now: () => t, evidenceLimits: { perCallerPerMinute: 60, burst: 2, concurrencyPerNode: 4 } });
    await r.start();
    const ask = (caller: string, i: number) => codeOf(r.getEvidence({ modelId: TEST_MODEL, nonce: nonce(i) }, { deadline: 0, caller }));
    expect([await ask('key:a', 1), await ask('key:a', 2), await ask('key:a', 3)]).toEqual(['ok', 'ok', 'rate_limited']);
    expect(await ask('key:b', 4)).toBe('ok');
    t += 1_000; // one token per second
    expect(await ask('key:a', 5)).toBe('ok');
    expect(await ask('key:a', 6)).toBe('rate_limited');
    await r.close();
  });

  test('identical concurrent asks (same node, same nonce) make one node call; distinct nonces do not coalesce', async () => {
    const w = instrumented(createLocalTeeLink('n', await node()));
    const r = router([w.link], { evidenceLimits: { perCallerPerMinute: 6_000, burst: 100, concurrencyPerNode: 4 } });
    await r.start();
    w.hold();
    const same = w.client(nonce(9));
    const asks = Array.from({ length: 6 }, () => r.getEvidence({ modelId: TEST_MODEL, nonce: same }, { deadline: 0, caller: 'key:a' }));
    const other = r.getEvidence({ modelId: TEST_MODEL, nonce: w.client(nonce(10)) }, { deadline: 0, caller: 'key:a' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    w.release();
    const results = await Promise.all([...asks, other]);
    expect(new Set(results.map((x) => x.evidence.envelopeJson)).size).toBe(2);
    expect(w.stats.clientCalls).toBe(2);
    await r.close();
  });

  test('a coalesced call survives one waiter cancelling, and is cancelled on the node only when every waiter left', async () => {
    const w = instrumented(createLocalTeeLink('n', await node()));
    const r = router([w.link], { evidenceLimits: { perCallerPerMinute: 6_000, burst: 100, concurrencyPerNode: 4 } });
    await r.start();
    w.hold();
    const n1 = w.client(nonce(11));
    const c1 = new AbortController();
    const first = r.getEvidence({ modelId: TEST_MODEL, nonce: n1 }, { deadline: 0, signal: c1.signal });
    const second = r.getEvidence({ modelId: TEST_MODEL, nonce: n1 }, { deadline: 0 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    c1.abort();
    expect(await codeOf(first)).toBe('cancelled');
    expect(w.stats.signals[0]!.aborted).toBe(false);
    w.release();
    expect(await codeOf(second)).toBe('ok');

    w.hold();
    const n2 = w.client(nonce(12));
    const c2 = new AbortController();
    const c3 = new AbortController();
    const a = r.getEvidence({ modelId: TEST_MODEL, nonce: n2 }, { deadline: 0, signal: c2.signal });
    const b = r.getEvidence({ modelId: TEST_MODEL, nonce: n2 }, { deadline: 0, signal: c3.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    c2.abort();
    c3.abort();
    expect([await codeOf(a), await codeOf(b)]).toEqual(['cancelled', 'cancelled']);
    expect(w.stats.signals[1]!.aborted).toBe(true);
    w.release();
    await r.close();
  });

  test('client evidence traffic cannot starve re-attestation: a bounded number in flight per node, the gateway\'s own call passes at once', async () => {
    const w = instrumented(createLocalTeeLink('n', await node()));
    const r = router([w.link], { evidenceLimits: { perCallerPerMinute: 60_000, burst: 1_000, concurrencyPerNode: 2 } });
    await r.start();
    w.hold();
    const flood = Array.from({ length: 40 }, (_, i) => codeOf(r.getEvidence({ modelId: TEST_MODEL, nonce: w.client(nonce(100 + i)) }, { deadline: 0, caller: `peer:${i}` })));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(w.stats.maxClientInFlight).toBe(2);
    const gatewayBefore = w.stats.gatewayCalls;
    await r.refresh(); // not held: it never queues behind client asks
    expect(w.stats.gatewayCalls).toBe(gatewayBefore + 1);
    expect(r.nodes()[0]!.state).toBe('healthy');
    w.release();
    const codes = await Promise.all(flood);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(2);
    expect(new Set(codes.filter((c) => c !== 'ok'))).toEqual(new Set(['overloaded']));
    await r.close();
  });

  test('a link that throws synchronously on a client ask does not leak its in-flight slot', async () => {
    const local = createLocalTeeLink('n', await node());
    let calls = 0;
    const link: TeeLink = {
      ...local,
      getEvidence: (r, o) => {
        // The router's own attestation (first call) works; the first client ask throws synchronously.
        if (++calls === 2) throw new TeeError('invalid_input', 'synchronous refusal');
        return local.getEvidence(r, o);
      },
    };
    const r = router([link], { evidenceLimits: { perCallerPerMinute: 6_000, burst: 100, concurrencyPerNode: 1 } });
    await r.start();
    expect(await codeOf(r.getEvidence({ modelId: TEST_MODEL, nonce: nonce(40) }, { deadline: 0 }))).toBe('invalid_input');
    expect(await codeOf(r.getEvidence({ modelId: TEST_MODEL, nonce: nonce(41) }, { deadline: 0 }))).toBe('ok');
    await r.close();
  });

  test('a slow answer on a relayed call is relayed (deadline_exceeded), it does not quarantine the node', async () => {
    const local = createLocalTeeLink('n', await node());
    const link: TeeLink = { ...local, infer: async () => { throw new (await import('../errors')).VeilError('deadline_exceeded'); } };
    const r = router([link]);
    await r.start();
    expect(await codeOf(r.infer({ nodeId: 'n', modelId: TEST_MODEL, sealedRequest: new Uint8Array(64) }, { deadline: 0 }))).toBe('deadline_exceeded');
    expect(r.nodes()[0]!.state).toBe('healthy');
    await r.close();
  });
});

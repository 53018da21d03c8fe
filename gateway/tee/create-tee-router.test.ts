import { createSimulatedProvider, DEFAULT_SIMULATED_MEASUREMENT } from '../../attestation';
import { BUNDLED_MODELS } from '../../models';
import { TeeError } from '../../tee';
import { createTeeNode, createTeePool, type TeeNode, type TeePool } from '../../workers/tee';
import { createLogger } from '../logger';
import { createLocalTeeLink } from './create-local-tee-link';
import { createTeeRouter, type CreateTeeRouterOptions } from './create-tee-router';
import type { TeeLink } from './tee-link';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
// Router mechanics only: each test node has a fresh key, so the envelope's own key is accepted knowingly here (key
// pinning itself is tested in start-tee-routing.test.ts).
const ATTESTATION = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 } as const;

/** A link whose node can be swapped or taken down, counting every call that reaches it. */
function switchable(id: string, initial: TeeNode) {
  let node = initial;
  let down = false;
  const calls = { getEvidence: 0, infer: 0 };
  const link: TeeLink = {
    id,
    address: 'test',
    maxMessageBytes: 0,
    getEvidence: (r, o) => (calls.getEvidence++, down ? Promise.reject(new TeeError('unavailable', 'down')) : createLocalTeeLink(id, node).getEvidence(r, o)),
    infer: (r, o) => (calls.infer++, down ? Promise.reject(new TeeError('unavailable', 'down')) : createLocalTeeLink(id, node).infer(r, o)),
    inferStream: (r, o) => createLocalTeeLink(id, node).inferStream(r, o),
    close: () => undefined,
  };
  return { link, calls, setDown: (d: boolean) => (down = d), swap: (n: TeeNode) => (node = n) };
}

describe('createTeeRouter', () => {
  let pool: TeePool;
  const nodes: TeeNode[] = [];
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) });
  const newNode = async (measurement?: Uint8Array) => {
    const node = createTeeNode({ pool, ownsPool: false, evidenceSource: createSimulatedProvider(measurement ? { measurement } : {}), evidenceRefreshMs: 0 });
    await node.start();
    nodes.push(node);
    return node;
  };
  const router = (links: TeeLink[], extra: Partial<CreateTeeRouterOptions> = {}) =>
    createTeeRouter({
      links, logger, policy: { attestation: ATTESTATION, allowSimulated: true, roots: { simulated: 'self-signed' } }, maxEvidenceAgeMs: 60_000, refreshMs: 0, healthCheckMs: 0, nodeTimeoutMs: 5_000, ...extra,
    });
  const nonce = new Uint8Array(32).fill(7);
  const ctx = { deadline: 0 };

  beforeAll(async () => {
    pool = await createTeePool({ models: { 'breast-cancer-lr': BUNDLED_MODELS['breast-cancer-lr'].file }, threads: 1 });
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await pool.close();
  });

  test('quarantine: a node whose evidence fails the policy is never routed to, not even by node id', async () => {
    const good = switchable('good', await newNode());
    const bad = switchable('bad', await newNode(new Uint8Array(48).fill(1)));
    const r = router([good.link, bad.link]);
    await r.start();
    expect(r.nodes().map((n) => [n.nodeId, n.state, n.reason])).toEqual([['good', 'healthy', ''], ['bad', 'quarantined', 'measurement_not_allowed']]);
    for (let i = 0; i < 6; i++) expect((await r.getEvidence({ modelId: 'breast-cancer-lr', nonce }, ctx)).nodeId).toBe('good');
    await expect(r.infer({ nodeId: 'bad', modelId: 'breast-cancer-lr', sealedRequest: new Uint8Array(40) }, ctx)).rejects.toMatchObject({ code: 'tee_node_unavailable' });
    await expect(r.getEvidence({ modelId: 'breast-cancer-lr', nonce, excludeNodeIds: ['good'] }, ctx)).rejects.toMatchObject({ code: 'no_attested_worker' });
    // Only the gateway's own attestation call ever reached the bad node.
    expect(bad.calls).toEqual({ getEvidence: 1, infer: 0 });
    expect(lines.join('\n')).toContain('"reason":"measurement_not_allowed"');
    await r.close();
  });

  test('simulated evidence is quarantined unless the routing policy allows it', async () => {
    const r = createTeeRouter({
      links: [switchable('sim', await newNode()).link], logger, policy: { attestation: ATTESTATION, allowSimulated: false },
      maxEvidenceAgeMs: 60_000, refreshMs: 0, healthCheckMs: 0, nodeTimeoutMs: 5_000,
    });
    await r.start();
    expect(r.nodes()[0]).toMatchObject({ state: 'quarantined', reason: 'simulated_forbidden' });
    await r.close();
  });

  test('health: a node that stops answering is quarantined by the probe and re-attested when it answers again', async () => {
    const s = switchable('n', await newNode());
    const r = router([s.link]);
    await r.start();
    s.setDown(true);
    await r.probe();
    expect(r.nodes()[0]).toMatchObject({ state: 'quarantined', reason: 'unreachable' });
    await expect(r.getEvidence({ modelId: 'breast-cancer-lr', nonce }, ctx)).rejects.toMatchObject({ code: 'no_attested_worker' });
    s.setDown(false);
    await r.probe();
    expect(r.nodes()[0]).toMatchObject({ state: 'healthy', reason: '' });
    await r.close();
  });

  test('a restarted node (new keys) is quarantined until re-attested; its evidence is never handed out unverified', async () => {
    const s = switchable('n', await newNode());
    const r = router([s.link]);
    await r.start();
    const before = r.nodes()[0]!.signingAddress;
    const replacement = await newNode();
    s.swap(replacement);
    await r.probe();
    const after = r.nodes()[0]!;
    expect(after.state).toBe('healthy');
    expect(after.signingAddress).toBe(replacement.identity.signingAddress.toLowerCase());
    expect(after.signingAddress).not.toBe(before);
    expect(lines.join('\n')).toContain('"reason":"identity_changed"');
    await r.close();
  });

  test('expiry and refresh: verified evidence expires on the injected clock, and the refresh schedule re-attests', async () => {
    let t = Date.now();
    const scheduled: { fn: () => void; ms: number }[] = [];
    const timers = { setInterval: (fn: () => void, ms: number) => scheduled.push({ fn, ms }), clearInterval: () => undefined };
    const r = router([switchable('n', await newNode()).link], { now: () => t, timers, refreshMs: 30_000, healthCheckMs: 1_000, maxEvidenceAgeMs: 45_000 });
    await r.start();
    expect(scheduled.map((s) => s.ms)).toEqual([30_000, 1_000]);
    t += 46_000;
    expect(r.nodes()[0]).toMatchObject({ state: 'quarantined', reason: 'evidence_expired' });
    await expect(r.getEvidence({ modelId: 'breast-cancer-lr', nonce }, ctx)).rejects.toMatchObject({ code: 'no_attested_worker' });
    // The simulated evidence is issued on the real clock; bring the router's clock back before the scheduled refresh.
    t = Date.now();
    scheduled[0]!.fn();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.nodes()[0]).toMatchObject({ state: 'healthy' });
    await r.close();
  });
});

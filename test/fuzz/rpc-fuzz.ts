/**
 * Property-based fuzzing of every veil.v1 RPC of the gateway (Models, Fhe, Tee, Trust) and of `veil worker`
 * (TeeNode): seeded fast-check cases built from real protocol material, sent as raw bytes, judged per answer, with
 * liveness, node-health, crash and RSS checks along the way. Failing properties are shrunk to a minimal counterexample
 * by replaying the failing case's fast-check path.
 *
 * @example const outcome = await fuzzGateway({ seed: 1, casesPerService: 100 });
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import fc from 'fast-check';
import type { ListTeeNodesResponse, PredictResponse, TeeInferResponse, CreateSessionResponse, GetRoutedTeeEvidenceResponse } from '../../proto';
import { createFuzzMaterial, FUZZ_MODEL, type FuzzMaterial } from './create-fuzz-material';
import { FUZZ_PROPERTIES, judgeAnswer, outcomeOf, type FuzzProperty, type Violation } from './judge-answer';
import { FUZZ_REGRESSIONS } from './fuzz-regressions';
import { serviceCaseArbitrary, type FuzzCase, type FuzzService } from './rpc-case-arbitraries';
import { keylessSession, runFuzzCase, SkippedCase, type CaseRun, type FuzzState } from './run-fuzz-case';
import { startFuzzTargets, WORKER_MAX_MESSAGE_BYTES, type FuzzTarget, type FuzzTargets, type StartFuzzTargetsOptions } from './start-fuzz-targets';
import type { RpcName } from './veil-codec';
import { createWireClient } from './wire-client';

const MiB = 1024 * 1024;
export const GATEWAY_SERVICES: readonly FuzzService[] = ['Models', 'Fhe', 'Tee', 'Trust'];
export const WORKER_SERVICES: readonly FuzzService[] = ['TeeNode'];

export type FuzzOptions = {
  seed: number;
  /** Cases per service (each service's RPCs share them equally). */
  casesPerService: number;
  services?: readonly FuzzService[];
  /** Reuse running targets (the caller closes them); otherwise started and closed here. */
  targets?: FuzzTargets;
  targetOptions?: StartFuzzTargetsOptions;
  /** Cases in flight at once. Default 2. */
  concurrency?: number;
  /** A full liveness check (valid request of every service) after every this many cases. Default 25. */
  livenessEvery?: number;
  /** Deadline of every call. Default 10 s (valid calls answer in well under 1 s; oversized ones in a few). */
  deadlineMs?: number;
  /** RSS above this fails `rss_bounded` (an in-process target: growth above this). Defaults: gateway 1.5 GiB, worker 1 GiB. */
  rssBoundBytes?: { gateway: number; worker: number };
  /** Replay FUZZ_REGRESSIONS of the fuzzed services: 'all' (default), 'first' only (not the ones that break the FHE worker for good), or none. */
  regressions?: 'all' | 'first' | 'none';
  /** Messages over a size limit sent per RPC (each costs seconds); later ones are counted as skipped. Default 3. */
  maxOversizedPerRpc?: number;
  /** Shrink each failing property's first counterexample for at most this long (0 = no shrinking). Default 60 s. */
  shrinkMs?: number;
  /** Only these properties are shrunk (default: all that failed). */
  shrinkProperties?: readonly FuzzProperty[];
  onProgress?: (done: number, total: number) => void;
};

export type FuzzExample = { service: FuzzService; rpc: RpcName; index: number; path?: string; case: string; answer: string; detail: string };

export type FuzzOutcome = {
  seed: number;
  casesPerService: number;
  services: FuzzService[];
  cases: number;
  durationMs: number;
  /** rpc → outcome (ok, a Veil code, `untyped STATUS`, `client deadline`, `client cancelled`) → count. */
  table: Partial<Record<RpcName, Record<string, number>>>;
  /** Answer times per RPC (ms), to see where a run spends its time. */
  timing: Partial<Record<RpcName, { calls: number; totalMs: number; maxMs: number }>>;
  /** Every property, with how often it failed, the first failure and (when shrunk) the minimal counterexample. */
  properties: Record<FuzzProperty, {
    description: string; failures: number; first?: FuzzExample; shrunk?: FuzzExample & { shrinks: number };
    firstByService: Partial<Record<FuzzService, FuzzExample>>;
    /** How many of the failures were FUZZ_REGRESSIONS cases (index < 0 in examples). */
    regressions?: number;
  }>;
  crashes: { gateway: number; worker: number };
  /** What was thrown (in-process) or how the process exited, first 20 of each. */
  crashReasons: { gateway: string[]; worker: string[] };
  liveness: { checks: number; failures: number };
  rss: Record<'gateway' | 'worker', { mode: string; boundBytes: number; minBytes: number; maxBytes: number; firstBytes: number; lastBytes: number; samples: number[] }>;
};

/** Fuzzes the gateway's services (Models, Fhe, Tee, Trust). */
export function fuzzGateway(options: Omit<FuzzOptions, 'services'>): Promise<FuzzOutcome> {
  return runFuzz({ ...options, services: GATEWAY_SERVICES });
}

/** Fuzzes `veil worker` (veil.v1.TeeNode) directly. */
export function fuzzWorker(options: Omit<FuzzOptions, 'services'>): Promise<FuzzOutcome> {
  return runFuzz({ ...options, services: WORKER_SERVICES });
}

type Context = {
  state: FuzzState;
  targets: FuzzTargets;
  outcome: FuzzOutcome;
  recent: string[];
};

export async function runFuzz(options: FuzzOptions): Promise<FuzzOutcome> {
  const started = performance.now();
  const services = [...(options.services ?? [...GATEWAY_SERVICES, ...WORKER_SERVICES])];
  const targets = options.targets ?? (await startFuzzTargets(options.targetOptions));
  const gatewayLimit = options.targetOptions?.gatewayMaxMessageBytes ?? 72 * MiB;
  const clientLimit = Math.max(gatewayLimit, WORKER_MAX_MESSAGE_BYTES) + 4 * MiB;
  const gateway = createWireClient(targets.gateway.address, { maxMessageBytes: clientLimit });
  const worker = createWireClient(targets.worker.address, { maxMessageBytes: clientLimit });
  const crashReasons: { gateway: string[]; worker: string[] } = { gateway: [], worker: [] };
  // A dead server answers nothing: give up its calls at once instead of waiting for their deadlines.
  targets.gateway.onCrash((reason) => {
    if (crashReasons.gateway.length < 20) crashReasons.gateway.push(reason);
    gateway.abortAll();
  });
  targets.worker.onCrash((reason) => {
    if (crashReasons.worker.length < 20) crashReasons.worker.push(reason);
    worker.abortAll();
  });
  let material: FuzzMaterial | undefined;
  try {
    material = await createFuzzMaterial({ gateway: targets.gateway.address, worker: targets.worker.address }, clientLimit);
    const state: FuzzState = {
      material, gateway, worker,
      limits: { gateway: gatewayLimit, worker: WORKER_MAX_MESSAGE_BYTES },
      sessions: { blocks: '', featureMajor: '', closed: '' },
      accepted: [],
      deadlineMs: options.deadlineMs ?? 10_000,
      oversized: { maxPerRpc: options.maxOversizedPerRpc ?? 3, sent: new Map() },
    };
    const fheFuzzed = services.some((s) => s !== 'TeeNode');
    if (fheFuzzed) await openSessions(state);
    const bound = options.rssBoundBytes ?? { gateway: 1536 * MiB, worker: 1024 * MiB };
    const outcome = emptyOutcome(options, services, targets, bound);
    const ctx: Context = { state, targets, outcome, recent: [] };

    const samples = new Map(services.map((s) => [s, fc.sample(serviceCaseArbitrary(s), { seed: options.seed, numRuns: options.casesPerService })]));
    // Regressions first (index -1-k: not on a fast-check path, never shrunk), then the services' cases interleaved.
    const regressions = options.regressions === 'none' ? [] : FUZZ_REGRESSIONS.filter((r) => services.includes(r.service) && (options.regressions !== 'first' || r.when !== 'last'));
    const replays = (when: 'first' | 'last') => regressions.flatMap((r, k) => ((r.when ?? 'first') === when ? [{ service: r.service, index: -1 - k, fixed: r.case }] : []));
    // Regressions run one at a time, so a crash is pinned on the case that caused it.
    const before = replays('first');
    const after = replays('last');
    const order: { service: FuzzService; index: number; fixed?: FuzzCase }[] = [];
    for (let i = 0; i < options.casesPerService; i++) for (const s of services) order.push({ service: s, index: i });
    const total = before.length + order.length + after.length;
    const firstFailure = new Map<string, { service: FuzzService; index: number }>();
    const livenessEvery = options.livenessEvery ?? 25;
    let next = 0;
    let done = 0;
    let sinceLiveness = 0;
    let checking: Promise<void> | undefined;

    const lane = async () => {
      for (;;) {
        await checking;
        const item = order[next++];
        if (!item) return;
        const c = item.fixed ?? samples.get(item.service)![item.index]!;
        const judged = await runAndJudge(ctx, c, item.service);
        record(ctx, item, c, judged, firstFailure);
        done++;
        options.onProgress?.(done, total);
        if (++sinceLiveness >= livenessEvery) {
          sinceLiveness = 0;
          checking ??= checkLiveness(ctx, services).finally(() => (checking = undefined));
        }
      }
    };
    const sequential = async (items: typeof order) => {
      for (const item of items) {
        record(ctx, item, item.fixed!, await runAndJudge(ctx, item.fixed!, item.service), firstFailure);
        options.onProgress?.(++done, total);
      }
    };
    await sequential(before);
    await Promise.all(Array.from({ length: options.concurrency ?? 2 }, lane));
    await checking;
    await sequential(after);
    await checkLiveness(ctx, services);
    outcome.cases = done;
    // Shrinking replays cases (and may crash the targets again): the table and counts are the main run's.
    outcome.crashes = { gateway: targets.gateway.crashes, worker: targets.worker.crashes };
    outcome.crashReasons = { gateway: [...crashReasons.gateway], worker: [...crashReasons.worker] };

    const shrinkMs = options.shrinkMs ?? 60_000;
    if (shrinkMs > 0) {
      for (const [key, at] of firstFailure) {
        const property = key as FuzzProperty;
        if (options.shrinkProperties && !options.shrinkProperties.includes(property)) continue;
        const shrunk = await shrink(ctx, at.service, at.index, property, options.seed, shrinkMs);
        if (shrunk) outcome.properties[property].shrunk ??= shrunk;
      }
    }
    outcome.durationMs = Math.round(performance.now() - started);
    return outcome;
  } finally {
    material?.close();
    gateway.close();
    worker.close();
    if (!options.targets) await targets.close();
  }
}

function emptyOutcome(options: FuzzOptions, services: FuzzService[], targets: FuzzTargets, bound: { gateway: number; worker: number }): FuzzOutcome {
  const rss = (t: FuzzTarget, boundBytes: number) => ({ mode: t.mode, boundBytes, minBytes: Infinity, maxBytes: 0, firstBytes: t.rss(), lastBytes: 0, samples: [] as number[] });
  return {
    seed: options.seed,
    casesPerService: options.casesPerService,
    services,
    cases: 0,
    durationMs: 0,
    table: {},
    timing: {},
    properties: Object.fromEntries(Object.entries(FUZZ_PROPERTIES).map(([k, description]) => [k, { description, failures: 0, firstByService: {} }])) as FuzzOutcome['properties'],
    crashes: { gateway: 0, worker: 0 },
    crashReasons: { gateway: [], worker: [] },
    liveness: { checks: 0, failures: 0 },
    rss: { gateway: rss(targets.gateway, bound.gateway), worker: rss(targets.worker, bound.worker) },
  };
}

/** Runs one case and everything judged about it: the answer, a crash it caused, a node it got quarantined. */
async function runAndJudge(ctx: Context, c: FuzzCase, service: FuzzService): Promise<{ run: CaseRun | undefined; list: Violation[]; skipped?: string }> {
  const crashesBefore = { gateway: ctx.targets.gateway.crashes, worker: ctx.targets.worker.crashes };
  const list: Violation[] = [];
  let run: CaseRun | undefined;
  try {
    run = await runFuzzCase(ctx.state, c);
    list.push(...judgeAnswer(run, service === 'TeeNode' ? 'worker' : 'gateway'));
  } catch (err) {
    if (err instanceof SkippedCase) return { run, list, skipped: err.message };
    // A setup step of the case (not the RPC under test) failed; liveness will tell whether the server is still fine.
    ctx.recent.push(`setup failed: ${(err as Error).message}`);
  }
  for (const name of ['gateway', 'worker'] as const) {
    if (ctx.targets[name].crashes > crashesBefore[name]) {
      list.push({ property: 'no_crash', detail: ctx.targets[name].mode === 'process' ? `the ${name} process exited` : `the ${name} threw outside any handler (this ends veil serve)` });
      ctx.outcome.crashes[name] = ctx.targets[name].crashes;
      await recoverFromCrash(ctx, name);
    }
  }
  const code = run?.answer.veilCode;
  if (service === 'Tee' && (code === 'tee_node_unavailable' || code === 'no_attested_worker')) {
    const unhealthy = await unhealthyNodes(ctx);
    if (unhealthy) {
      list.push({ property: 'nodes_stay_healthy', detail: `after this case: ${unhealthy}` });
      await waitForHealthyNodes(ctx);
    }
  }
  return { run, list };
}

function record(
  ctx: Context, item: { service: FuzzService; index: number; fixed?: FuzzCase }, c: FuzzCase,
  { run, list: violations, skipped }: { run: CaseRun | undefined; list: Violation[]; skipped?: string },
  firstFailure: Map<string, { service: FuzzService; index: number }>,
): void {
  const { outcome } = ctx;
  const column = skipped ? 'skipped: oversized over the cap' : run ? outcomeOf(run.answer) : 'setup failed';
  const row = (outcome.table[c.rpc] ??= {});
  row[column] = (row[column] ?? 0) + 1;
  if (run) {
    const t = (outcome.timing[c.rpc] ??= { calls: 0, totalMs: 0, maxMs: 0 });
    t.calls++;
    t.totalMs += run.answer.ms;
    t.maxMs = Math.max(t.maxMs, Math.round(run.answer.ms));
  }
  const described = describeCase(c);
  ctx.recent.push(`${c.rpc} ${described.slice(0, 300)}`);
  if (ctx.recent.length > 8) ctx.recent.shift();
  for (const v of violations) {
    const p = outcome.properties[v.property];
    p.failures++;
    const example = { service: item.service, index: item.index, rpc: c.rpc, path: item.index >= 0 ? String(item.index) : undefined, case: described, answer: run ? describeAnswer(run) : 'none', detail: v.detail };
    p.first ??= example;
    // One shrink per property (the first service it failed in); the first failure of every service is kept as found.
    const key = `${v.property}`;
    if (!firstFailure.has(key) && item.index >= 0) firstFailure.set(key, item);
    p.firstByService[item.service] ??= example;
    if (item.index < 0) p.regressions = (p.regressions ?? 0) + 1;
  }
  if (outcome.cases++ % 20 === 0) sampleRss(ctx);
}

function sampleRss(ctx: Context): void {
  for (const name of ['gateway', 'worker'] as const) {
    const bytes = ctx.targets[name].rss();
    if (bytes === 0) continue;
    const r = ctx.outcome.rss[name];
    r.minBytes = Math.min(r.minBytes, bytes);
    r.maxBytes = Math.max(r.maxBytes, bytes);
    r.lastBytes = bytes;
    if (r.samples.length < 400) r.samples.push(bytes);
    else r.samples[r.samples.length - 1] = bytes;
    // An in-process target shares its process with the harness and whatever ran there before it (jest runs other
    // suites in the same worker, and a WASM heap never shrinks): its bound is on the growth since the fuzzing began.
    const limit = r.mode === 'in-process' ? r.firstBytes + r.boundBytes : r.boundBytes;
    if (bytes > limit) {
      const p = ctx.outcome.properties.rss_bounded;
      p.failures++;
      const what = r.mode === 'in-process' ? `grew ${mb(bytes - r.firstBytes)} MiB (from ${mb(r.firstBytes)} MiB) > bound ${mb(r.boundBytes)} MiB` : `${mb(bytes)} MiB > bound ${mb(r.boundBytes)} MiB`;
      p.first ??= { service: 'Models', rpc: 'Models.ListModels', index: -1, case: `after: ${ctx.recent.join(' | ')}`, answer: '', detail: `${name} RSS ${what}` };
    }
  }
}

const mb = (bytes: number) => Math.round(bytes / MiB);

// ---- sessions, liveness, recovery --------------------------------------------------------------------------------

/** The sessions cases refer to: a real blocks session (real keys), a keyless feature-major one, and a closed one. */
async function openSessions(state: FuzzState): Promise<void> {
  state.sessions.blocks = await blocksSession(state);
  state.sessions.featureMajor = await keylessSession(state);
  state.sessions.closed = await keylessSession(state);
  const { codec } = state.material;
  await state.gateway.unary(codec.path('Fhe.CloseSession'), codec.encode('Fhe.CloseSession', { sessionId: state.sessions.closed }), { deadlineMs: state.deadlineMs });
}

async function blocksSession(state: FuzzState): Promise<string> {
  const { codec, fhe } = state.material;
  const keys = fhe.galoisKeys;
  const frames = [codec.encode('Fhe.CreateSession', { header: { modelId: FUZZ_MODEL, variant: 'blocks', galoisKeysBytes: keys.byteLength, relinKeysBytes: 0, specSha256: fhe.blocks.specSha256 } })];
  for (let o = 0; o < keys.byteLength; o += MiB / 2) frames.push(codec.encode('Fhe.CreateSession', { chunk: { kind: 'KIND_GALOIS', data: Buffer.from(keys.subarray(o, o + MiB / 2)) } }));
  const answer = await state.gateway.clientStream(codec.path('Fhe.CreateSession'), frames, { deadlineMs: state.deadlineMs });
  if (!answer.response) throw new Error(`setup: the real blocks session was refused (${GrpcStatus[answer.status]} ${answer.veilCode ?? ''} ${answer.details})`);
  return codec.decode<CreateSessionResponse>('Fhe.CreateSession', answer.response).sessionId;
}

/** A valid request of every fuzzed service; any failure fails `liveness` (and the run repairs what it can, then goes on). */
async function checkLiveness(ctx: Context, services: readonly FuzzService[]): Promise<void> {
  const { state, outcome } = ctx;
  const { codec, fhe, tee } = state.material;
  const problems: string[] = [];
  const call = async (rpc: RpcName, request: object) => {
    const client = rpc.startsWith('TeeNode.') ? state.worker : state.gateway;
    let answer = await client.unary(codec.path(rpc), codec.encode(rpc, request), { deadlineMs: state.deadlineMs });
    // Cancelled by the harness because a concurrent case crashed the server (counted there): ask again once.
    if (answer.local && answer.status === GrpcStatus.CANCELLED) answer = await client.unary(codec.path(rpc), codec.encode(rpc, request), { deadlineMs: state.deadlineMs });
    if (answer.status !== GrpcStatus.OK || !answer.response) {
      problems.push(`${rpc}: ${outcomeOf(answer)} "${answer.details.slice(0, 120)}"`);
      return undefined;
    }
    return answer.response;
  };
  outcome.liveness.checks++;
  sampleRss(ctx);
  const gatewaySide = services.some((s) => s !== 'TeeNode');
  if (gatewaySide) {
    await call('Models.GetFheSpec', { modelId: FUZZ_MODEL, variant: 'blocks' });
    await call('Models.ListModels', {});
    await call('Trust.GetRegistry', {});
    const predicted = await call('Fhe.Predict', { sessionId: state.sessions.blocks, groups: [{ ciphertexts: [Buffer.from(fhe.ciphertexts.valid[0]!)] }] });
    if (predicted) {
      const out = codec.decode<PredictResponse>('Fhe.Predict', predicted);
      const slots = fhe.decrypt(new Uint8Array(out.groups[0]!.ciphertexts[0]!));
      if (!Number.isFinite(slots[0])) problems.push('Fhe.Predict: the result does not decrypt to a finite logit');
    } else if (problems.at(-1)?.includes('session_not_found')) {
      problems.push('(the live blocks session was dropped; reopened it)');
      state.sessions.blocks = await blocksSession(state).catch(() => state.sessions.blocks);
    }
    const evidence = await call('Tee.GetEvidence', { modelId: FUZZ_MODEL, nonce: Buffer.alloc(32, 9), excludeNodeIds: [] });
    if (evidence) {
      const { nodeId } = codec.decode<GetRoutedTeeEvidenceResponse>('Tee.GetEvidence', evidence);
      const sealed = await tee.sealHandshake(tee.body({ rows: 2, tsOffsetMs: 0 }));
      const inferred = await call('Tee.Infer', { nodeId, modelId: FUZZ_MODEL, sealedRequest: sealed });
      if (inferred && codec.decode<TeeInferResponse>('Tee.Infer', inferred).sealedResponse.byteLength === 0) problems.push('Tee.Infer: empty sealed response');
    }
    const unhealthy = await unhealthyNodes(ctx);
    if (unhealthy) {
      problems.push(`Tee.ListNodes: ${unhealthy}`);
      const p = outcome.properties.nodes_stay_healthy;
      p.failures++;
      p.first ??= { service: 'Tee', rpc: 'Tee.ListNodes', index: -1, case: `after: ${ctx.recent.join(' | ')}`, answer: '', detail: unhealthy };
      await waitForHealthyNodes(ctx);
    }
  }
  if (services.includes('TeeNode')) {
    await call('TeeNode.GetEvidence', { nonce: Buffer.alloc(32, 5) });
    await call('TeeNode.Infer', { modelId: FUZZ_MODEL, sealedRequest: await tee.sealHandshake(tee.body({ rows: 1, tsOffsetMs: 0 })) });
  }
  if (problems.length > 0) {
    outcome.liveness.failures++;
    const p = outcome.properties.liveness;
    p.failures++;
    p.first ??= { service: 'Models', rpc: 'Models.ListModels', index: -1, case: `after: ${ctx.recent.join(' | ')}`, answer: '', detail: problems.join('; ') };
  }
}

async function unhealthyNodes(ctx: Context): Promise<string | undefined> {
  const { codec } = ctx.state.material;
  const answer = await ctx.state.gateway.unary(codec.path('Tee.ListNodes'), codec.encode('Tee.ListNodes', {}), { deadlineMs: 10_000 });
  if (!answer.response) return `Tee.ListNodes answered ${outcomeOf(answer)}`;
  const { nodes } = codec.decode<ListTeeNodesResponse>('Tee.ListNodes', answer.response);
  const bad = nodes.filter((n) => n.state !== 'healthy');
  return bad.length > 0 ? bad.map((n) => `${n.nodeId} ${n.state}${n.reason ? ` (${n.reason})` : ''}`).join(', ') : undefined;
}

/** Quarantined nodes come back through the gateway's own health probes (1 s in the fuzz config). */
async function waitForHealthyNodes(ctx: Context, maxMs = 15_000): Promise<void> {
  const until = Date.now() + maxMs;
  while (Date.now() < until && (await unhealthyNodes(ctx))) await new Promise((r) => setTimeout(r, 250));
}

async function recoverFromCrash(ctx: Context, name: 'gateway' | 'worker'): Promise<void> {
  await ctx.targets[name].recover();
  if (name === 'worker') await ctx.state.material.tee.rekey().catch(() => undefined);
  else if (ctx.state.sessions.blocks) await openSessions(ctx.state).catch(() => undefined);
  await waitForHealthyNodes(ctx).catch(() => undefined);
}

// ---- shrinking and reporting -------------------------------------------------------------------------------------

/** Replays the failing case's fast-check path and shrinks it while the property still fails. */
async function shrink(ctx: Context, service: FuzzService, index: number, property: FuzzProperty, seed: number, timeLimitMs: number): Promise<(FuzzExample & { shrinks: number }) | undefined> {
  let last: { run?: CaseRun; detail: string } | undefined;
  ctx.state.oversized.sent.clear();
  const result = await fc.check(
    fc.asyncProperty(serviceCaseArbitrary(service), async (c) => {
      const { run, list } = await runAndJudge(ctx, c, service);
      const hit = list.find((v) => v.property === property);
      if (hit) last = { run, detail: hit.detail };
      return !hit;
    }),
    { seed, path: String(index), numRuns: index + 1, interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: false },
  );
  if (!result.failed || !result.counterexample) return undefined;
  const c = result.counterexample[0] as FuzzCase;
  return {
    service, rpc: c.rpc, index, path: result.counterexamplePath ?? undefined, shrinks: result.numShrinks,
    case: describeCase(c), answer: last?.run ? describeAnswer(last.run) : '', detail: last?.detail ?? '',
  };
}

/** A case as compact JSON: byte strings as their length and first bytes, long strings cut, so reports stay readable. */
export function describeCase(c: FuzzCase): string {
  return JSON.stringify(c, (_key, value: unknown) => {
    if (value instanceof Uint8Array) return value.byteLength <= 8 ? `bytes[${value.byteLength}]:${Buffer.from(value).toString('hex')}` : `bytes[${value.byteLength}]:${Buffer.from(value.subarray(0, 8)).toString('hex')}…`;
    if (typeof value === 'string' && value.length > 48) return `${JSON.stringify(value.slice(0, 40)).slice(1, -1)}…(${value.length} chars)`;
    if (typeof value === 'bigint') return `${value}n`;
    return value;
  });
}

function describeAnswer(run: CaseRun): string {
  const a = run.answer;
  const status = GrpcStatus[a.status] ?? String(a.status);
  return `${status}${a.veilCode ? ` veil-error-code=${a.veilCode}` : ''}${a.requestId ? ' x-request-id' : ''} "${a.details.slice(0, 160)}" (${run.requestBytes} request bytes, ${Math.round(a.ms)} ms)`;
}

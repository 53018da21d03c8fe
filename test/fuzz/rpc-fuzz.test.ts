/**
 * The fuzzing pass criteria of issue #9 on a seeded few hundred cases: every RPC of the gateway (Models, Fhe, Tee,
 * Trust; in process, relaying TEE mode to a real `veil worker`) and of the worker itself gets random and mutated
 * messages, and no server crashes, every answer is OK or a typed Veil error with x-request-id, invalid requests are
 * never accepted, valid requests keep succeeding, nodes stay healthy and RSS stays bounded.
 * The long run (≥ 10,000 cases per service) is `bench/fuzz.ts`.
 */
import { FUZZ_PROPERTIES, type FuzzProperty } from './judge-answer';
import { FUZZ_SERVICES } from './rpc-case-arbitraries';
import { fuzzGateway, fuzzWorker, type FuzzOutcome } from './rpc-fuzz';
import { startFuzzTargets, type FuzzTargets } from './start-fuzz-targets';

/**
 * Properties today's code fails (issue #9; the counterexamples are in the fuzz report). The lead empties this list
 * once the fixes are merged: then every property is asserted. Nothing else in this file relaxes a property.
 */
const KNOWN_DEFECTS: readonly FuzzProperty[] = [];

const SEED = 909;
const MiB = 1024 * 1024;

let targets: FuzzTargets;
/** Failures per property over both runs, to tell when a known defect no longer fails anywhere. */
const failuresSeen = new Map<FuzzProperty, number>();

beforeAll(async () => {
  targets = await startFuzzTargets();
}, 120_000);

afterAll(async () => {
  await targets?.close();
  for (const property of KNOWN_DEFECTS) {
    if (!failuresSeen.get(property)) console.warn(`fuzz: known defect "${property}" no longer fails; remove it from KNOWN_DEFECTS`);
  }
});

function expectPassed(outcome: FuzzOutcome, rpcs: readonly string[]): void {
  // The run really exercised every RPC, with both accepted and refused requests (so the judge saw both kinds).
  for (const rpc of rpcs) expect(Object.values(outcome.table[rpc as keyof FuzzOutcome['table']] ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  const columns = Object.values(outcome.table).flatMap((row) => Object.keys(row!));
  expect(columns).toContain('ok');
  expect(columns.some((c) => c !== 'ok')).toBe(true);
  expect(outcome.liveness.checks).toBeGreaterThan(1);
  const failed = [];
  for (const property of Object.keys(FUZZ_PROPERTIES) as FuzzProperty[]) {
    const result = outcome.properties[property];
    failuresSeen.set(property, (failuresSeen.get(property) ?? 0) + result.failures);
    if (KNOWN_DEFECTS.includes(property)) continue;
    if (result.failures > 0) failed.push({ property, failures: result.failures, example: result.shrunk ?? result.first });
  }
  // Every failing property at once, each with its (shrunk) counterexample.
  expect(failed).toEqual([]);
}

const shrinkProperties = (Object.keys(FUZZ_PROPERTIES) as FuzzProperty[]).filter((p) => !KNOWN_DEFECTS.includes(p));

test('veil worker: TeeNode survives seeded random and mutated messages', async () => {
  const outcome = await fuzzWorker({
    seed: SEED, casesPerService: 100, targets, maxOversizedPerRpc: 1, shrinkMs: 10_000, shrinkProperties,
    rssBoundBytes: { gateway: 1536 * MiB, worker: 1024 * MiB },
  });
  expectPassed(outcome, FUZZ_SERVICES.TeeNode);
}, 240_000);

test('gateway: Models, Fhe, Tee and Trust survive seeded random and mutated messages', async () => {
  const outcome = await fuzzGateway({
    // Not the 'last' regressions: the truncated-key uploads that break the FHE worker can hang it, and a hung worker
    // thread keeps jest from exiting; bench/fuzz.ts replays them.
    seed: SEED, casesPerService: 75, targets, regressions: 'first', maxOversizedPerRpc: 1, shrinkMs: 10_000, shrinkProperties,
    rssBoundBytes: { gateway: 1536 * MiB, worker: 1024 * MiB },
  });
  expectPassed(outcome, [...FUZZ_SERVICES.Models, ...FUZZ_SERVICES.Fhe, ...FUZZ_SERVICES.Tee, ...FUZZ_SERVICES.Trust]);
}, 240_000);

// Shared by the k6 scripts (imported by relative path; k6 bundles it). Plain TypeScript: no k6 or Node imports.

/** An open-model scenario: requests start at `rate` per second whatever the latency, so queueing shows as latency. */
export type ArrivalRateScenario = {
  executor: 'constant-arrival-rate';
  rate: number;
  timeUnit: string;
  duration: string;
  preAllocatedVUs: number;
  maxVUs: number;
};

/** Reads a positive integer from k6's environment (`k6 run -e RATE=20`), or the default. */
export function envInt(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** A constant arrival rate for DURATION (default 60s), with enough VUs that the rate, not VUs, is the limit. */
export function arrivalRate(env: Record<string, string | undefined>, defaultRate: number): ArrivalRateScenario {
  const rate = envInt(env, 'RATE', defaultRate);
  return {
    executor: 'constant-arrival-rate', rate, timeUnit: '1s', duration: env.DURATION || '60s',
    preAllocatedVUs: Math.max(4, rate), maxVUs: envInt(env, 'MAX_VUS', Math.max(16, rate * 4)),
  };
}

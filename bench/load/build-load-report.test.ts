import { buildLoadReport } from './build-load-report';
import type { LoadStepOutcome } from './load-step';
import { renderLoadChartSvg } from './render-load-chart';
import type { LoadHarnessRun } from './run-load-harness';

const machine = { node: 'v20.20.2', cores: 2, cpu: 'test cpu', memoryGiB: 8, date: '2026-12-02T00:00:00.000Z' };

function outcome(rate: number, p99: number, completed = Math.round(rate * 2)): LoadStepOutcome {
  return {
    targetRate: rate, durationMs: 2000, scheduled: Math.round(rate * 2), completed, errors: completed < rate * 2 ? { overloaded: Math.round(rate * 2) - completed } : {},
    achievedRate: completed / 2, maxIssueLagMs: 1.5, latency: { count: completed, p50: p99 / 4, p90: p99 / 2, p99, max: p99 * 2, mean: p99 / 3 },
  };
}

const run: LoadHarnessRun = {
  options: { stepMs: 2000, precision: 0.35, maxSteps: 5, gatewayCounts: [1, 2], modes: ['tee-grpc'], warmup: 10, minStepRequests: 50 },
  loadAverage: { start: [1, 1, 1], end: [2, 2, 2] },
  searches: [1, 2].map((gateways) => ({
    mode: 'tee-grpc' as const, gateways, request: 'one TEE row', p99BoundMs: 100, unloadedP50Ms: 3, startRate: 20,
    search: {
      maxSustainedRate: 40 * gateways, lowestFailedRate: 80 * gateways,
      steps: [
        { rate: 20 * gateways, sustained: true, outcome: outcome(20 * gateways, 30) },
        { rate: 40 * gateways, sustained: true, outcome: outcome(40 * gateways, 60) },
        { rate: 80 * gateways, sustained: false, outcome: outcome(80 * gateways, 400, 100) },
      ],
    },
  })),
};

describe('buildLoadReport', () => {
  const { json, markdown } = buildLoadReport(run, machine);

  test('one result per mode and gateway count, with the sustained step\'s latency and every step', () => {
    expect(json.results.map((r) => [r.mode, r.gateways, r.maxSustainedRate, r.lowestFailedRate])).toEqual([['tee-grpc', 1, 40, 80], ['tee-grpc', 2, 80, 160]]);
    expect(json.results[0]).toMatchObject({ p99BoundMs: 100, p50AtMaxMs: 15, p99AtMaxMs: 60 });
    expect(json.results[1]!.steps.map((s) => s.verdict)).toEqual(['sustained', 'sustained', '220/320 failed (overloaded:220); p99 400 ms > 100 ms']);
    expect(json.scaling).toEqual([{ mode: 'tee-grpc', oneGateway: 40, twoGateways: 80, ratio: 2 }]);
    expect(json.machine.note).toMatch(/shared 2-core VM/);
    expect(json.setup).toMatchObject({ stepSeconds: 2, precision: 0.35, maxSteps: 5, requests: { 'tee-grpc': 'one TEE row' } });
    // JSON round trip: what load.json holds is what was built (no NaN or undefined sneaking in as null/absent).
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  test('the Markdown states the machine, the bound and the figures', () => {
    expect(markdown).toContain('A shared 2-core VM');
    expect(markdown).toContain('| tee-grpc | 1 | 100 | 3 | 40 | 80 | 15 / 60 |');
    expect(markdown).toContain('| tee-grpc | 40 | 80 | 2 |');
    expect(markdown).toContain('### tee-grpc · 2 gateways (p99 ≤ 100 ms)');
  });

  test('the chart has one panel per mode and a bar per gateway count', () => {
    const svg = renderLoadChartSvg(json);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('tee-grpc (p99 ≤ 100 ms)');
    expect(svg.match(/<rect x=/g)).toHaveLength(2);
    expect(svg).toContain('80 req/s');
  });
});

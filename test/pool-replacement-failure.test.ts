/**
 * Both worker pools outlive a replacement worker that fails to start: piscina emits 'error' for it, and before the
 * fix no listener was attached after start-up, so that event ended the process. Each case runs in a child process
 * (test/support/survive-replacement-failure.ts) so a crash is observed as a crash.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

function runChild(kind: 'fhe' | 'tee'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = path.join(__dirname, 'support', 'survive-replacement-failure.ts');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', script, kind], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test.each(['fhe', 'tee'] as const)('%s pool: a replacement worker that cannot start is reported, not fatal', async (kind) => {
  const { code, stdout, stderr } = await runChild(kind);
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
  const report = JSON.parse(stdout.trim()) as { alive: boolean; outcome: string; reported: string[] };
  expect(report.alive).toBe(true);
  // The task on the dying worker failed, as it must, typed as unavailable by both pools (workers/task-envelope.ts workerExitCode).
  expect(report.outcome).toMatch(kind === 'fhe' ? /^rejected: the FHE worker running this request stopped/ : /^rejected: the TEE worker running this request stopped/);
  expect(report.reported.length).toBeGreaterThan(0); // the failed replacement reached onWorkerError
}, 90_000);

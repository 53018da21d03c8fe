import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where reports go: bench/results, or VEIL_BENCH_RESULTS_DIR (bench/run.ts points its quick runs elsewhere, so they never overwrite the full runs' figures). */
export const RESULTS_DIR = process.env.VEIL_BENCH_RESULTS_DIR ? path.resolve(process.env.VEIL_BENCH_RESULTS_DIR) : path.join(__dirname, 'results');

/** The machine a number was measured on; every report carries it so numbers are never read out of context. */
export function machineInfo() {
  const cpus = os.cpus();
  return { node: process.version, cores: os.availableParallelism(), cpu: cpus[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), date: new Date().toISOString() };
}

/** Renders rows as a Markdown table (first row's keys are the columns). */
export function markdownTable(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]!);
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(columns), line(columns.map(() => '---')), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))].join('\n');
}

/** Writes `results/<name>.json` and `results/<name>.md` and prints the Markdown. */
export function writeBenchReport(name: string, json: unknown, markdown: string): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.md`), `${markdown}\n`);
  console.log(markdown);
}

export function percentile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

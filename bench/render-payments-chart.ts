/**
 * Draws bench/results/payments.svg (and payments.png when rsvg-convert, Debian librsvg2-bin, is installed) from what
 * bench/payments.ts measured: p50 latency and throughput of paid vs unpaid calls (linear scales, so a 5 % gap looks
 * like one), and on-chain gas per call of Veil's batched claims next to x402 `exact` (log scale: they differ by ~10⁴).
 * Run alone it redraws from bench/results/payments.json.
 *
 *   node bin/run-ts.cjs bench/render-payments-chart.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { svgBars, writeChart } from './svg-bars';
import { RESULTS_DIR } from './write-bench-report';

type Row = Record<string, string | number>;
export type PaymentsChartInput = { paidVsUnpaid: Row[]; veilGasPerCall: number; veilGasPerCallWithDeposits: number; x402: { low: number; high: number } };

const W = 1000;
export function renderPaymentsChartSvg(input: PaymentsChartInput): string {
  const rows = input.paidVsUnpaid;
  const p50 = rows.map((r) => Number(r['p50 ms']));
  const tputKey = Object.keys(rows[0] ?? {}).find((k) => k.startsWith('calls/s')) ?? '';
  const tput = rows.map((r) => Number(r[tputKey]));
  const colours = ['#6b93bb', '#c0504d'];
  const maxP50 = Math.max(...p50);
  const maxTput = Math.max(...tput);
  const gas = [
    { label: 'Veil claim', value: input.veilGasPerCall, colour: '#2f5d8a' },
    { label: 'Veil + deposit', value: input.veilGasPerCallWithDeposits, colour: '#6b93bb' },
    { label: 'x402 exact', value: input.x402.low, colour: '#c0504d' },
  ];
  const logMax = Math.log10(Math.max(...gas.map((g) => g.value)) * 2);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W + 200}" height="230" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...svgBars(10, 'p50 latency per call (ms)', rows.map((r, i) => ({ label: String(r.arm), value: p50[i]!, colour: colours[i % 2]! })), 'ms', (v) => v / maxP50),
    ...svgBars(410, `throughput (${tputKey.replace('calls/s ', '')})`, rows.map((r, i) => ({ label: String(r.arm), value: tput[i]!, colour: colours[i % 2]! })), 'calls/s', (v) => v / maxTput),
    ...svgBars(810, 'gas per call (log scale)', gas, 'gas', (v) => Math.max(0.02, Math.log10(Math.max(v, 1)) / logMax)),
    `<text x="10" y="215" font-size="11" fill="#555">x402 exact: one transferWithAuthorization per call, ${input.x402.low.toLocaleString('en')}–${input.x402.high.toLocaleString('en')} gas (cited, not measured). Veil: one batched claim for all calls.</text>`,
    '</svg>',
  ];
  return parts.join('\n');
}

/** Writes payments.svg and, when rsvg-convert is installed, payments.png. */
export function renderPaymentsChart(input: PaymentsChartInput): void {
  writeChart('payments', renderPaymentsChartSvg(input));
}

if (require.main === module) {
  const json = JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, 'payments.json'), 'utf8')) as { paidVsUnpaid: Row[]; settlement: Row[] };
  const veil = json.settlement[0]!;
  renderPaymentsChart({
    paidVsUnpaid: json.paidVsUnpaid, veilGasPerCall: Number(veil['gas per call (claim only)']), veilGasPerCallWithDeposits: Number(veil['gas per call (with deposits)']),
    x402: { low: 61_000, high: 90_000 },
  });
}

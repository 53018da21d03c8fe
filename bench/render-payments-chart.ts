/**
 * Draws bench/results/payments.svg (and payments.png when rsvg-convert, Debian librsvg2-bin, is installed) from what
 * bench/payments.ts measured: p50 latency and throughput of paid vs unpaid calls (linear scales, so a 5 % gap looks
 * like one), and on-chain gas per call of Veil's batched claims next to x402 `exact` (log scale: they differ by ~10⁴).
 * Run alone it redraws from bench/results/payments.json.
 *
 *   node bin/run-ts.cjs bench/render-payments-chart.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childProcessEnv } from '../chain';
import { RESULTS_DIR } from './write-bench-report';

type Row = Record<string, string | number>;
export type PaymentsChartInput = { paidVsUnpaid: Row[]; veilGasPerCall: number; veilGasPerCallWithDeposits: number; x402: { low: number; high: number } };

const W = 1000;
const PANEL_W = 280;
const BAR_H = 28;

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function bars(x0: number, title: string, items: { label: string; value: number; colour: string }[], unit: string, scale: (v: number) => number): string[] {
  const out = [`<text x="${x0}" y="40" font-size="15" font-weight="bold">${esc(title)}</text>`];
  items.forEach((it, i) => {
    const y = 60 + i * (BAR_H + 14);
    const w = Math.max(1, scale(it.value) * PANEL_W);
    out.push(`<text x="${x0}" y="${y + 18}" font-size="12">${esc(it.label)}</text>`);
    out.push(`<rect x="${x0 + 90}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${it.colour}"/>`);
    out.push(`<text x="${x0 + 96 + w}" y="${y + 18}" font-size="12">${esc(`${it.value.toLocaleString('en', { maximumFractionDigits: 2 })} ${unit}`)}</text>`);
  });
  return out;
}

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
    ...bars(10, 'p50 latency per call (ms)', rows.map((r, i) => ({ label: String(r.arm), value: p50[i]!, colour: colours[i % 2]! })), 'ms', (v) => v / maxP50),
    ...bars(410, `throughput (${tputKey.replace('calls/s ', '')})`, rows.map((r, i) => ({ label: String(r.arm), value: tput[i]!, colour: colours[i % 2]! })), 'calls/s', (v) => v / maxTput),
    ...bars(810, 'gas per call (log scale)', gas, 'gas', (v) => Math.max(0.02, Math.log10(Math.max(v, 1)) / logMax)),
    `<text x="10" y="215" font-size="11" fill="#555">x402 exact: one transferWithAuthorization per call, ${input.x402.low.toLocaleString('en')}–${input.x402.high.toLocaleString('en')} gas (cited, not measured). Veil: one batched claim for all calls.</text>`,
    '</svg>',
  ];
  return parts.join('\n');
}

/** Writes payments.svg and, when rsvg-convert is installed, payments.png. */
export function renderPaymentsChart(input: PaymentsChartInput): void {
  const svgFile = path.join(RESULTS_DIR, 'payments.svg');
  fs.writeFileSync(svgFile, `${renderPaymentsChartSvg(input)}\n`);
  try {
    execFileSync('rsvg-convert', ['-o', path.join(RESULTS_DIR, 'payments.png'), svgFile], { env: childProcessEnv() });
    console.log(`wrote ${svgFile} and payments.png`);
  } catch {
    console.log(`wrote ${svgFile}; install rsvg-convert (apt-get install librsvg2-bin) to rasterise it to PNG`);
  }
}

if (require.main === module) {
  const json = JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, 'payments.json'), 'utf8')) as { paidVsUnpaid: Row[]; settlement: Row[] };
  const veil = json.settlement[0]!;
  renderPaymentsChart({
    paidVsUnpaid: json.paidVsUnpaid, veilGasPerCall: Number(veil['gas per call (claim only)']), veilGasPerCallWithDeposits: Number(veil['gas per call (with deposits)']),
    x402: { low: 61_000, high: 90_000 },
  });
}

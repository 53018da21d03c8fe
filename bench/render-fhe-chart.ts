/**
 * Draws bench/results/gateway-fhe.png from gateway-fhe.json: per model and FHE variant, single-group latency
 * (gRPC end to end next to bare node-seal) and server throughput, on log scales. The chart is written as SVG and
 * rasterised with rsvg-convert (Debian librsvg2-bin) when it is installed.
 *
 *   node bin/run-ts.cjs bench/render-fhe-chart.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childProcessEnv } from '../chain';
import { RESULTS_DIR } from './write-bench-report';

type Row = Record<string, string | number>;

const WIDTH = 1040;
const ROW_H = 26;
const LABEL_W = 250;
const PANEL_GAP = 80;
const PANEL_W = (WIDTH - LABEL_W - PANEL_GAP - 60) / 2;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** x position of `value` on a log10 axis spanning [lo, hi] decades within a panel starting at `x0`. */
function logX(value: number, lo: number, hi: number, x0: number): number {
  const t = (Math.log10(Math.max(value, 10 ** lo)) - lo) / (hi - lo);
  return x0 + Math.max(0, Math.min(1, t)) * PANEL_W;
}

export function renderFheChart(rows: Row[]): string {
  const top = 70;
  const height = top + rows.length * ROW_H + 60;
  const p1 = LABEL_W;
  const p2 = LABEL_W + PANEL_W + PANEL_GAP;
  const latency = { lo: 0, hi: 4 }; // 1 ms … 10 s
  const throughput = { lo: 1, hi: 6 }; // 10 … 1,000,000 samples/s
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">Veil FHE gateway: latency and throughput per model and variant (2 cores)</text>`,
    `<text x="${p1 + PANEL_W / 2}" y="48" text-anchor="middle">one group, p50 ms (log) — dark: gRPC end to end, light: bare node-seal</text>`,
    `<text x="${p2 + PANEL_W / 2}" y="48" text-anchor="middle">server throughput, samples/s (log)</text>`,
  ];
  for (const [panel, axis, unit] of [[p1, latency, 'ms'], [p2, throughput, '/s']] as const) {
    for (let d = axis.lo; d <= axis.hi; d++) {
      const x = logX(10 ** d, axis.lo, axis.hi, panel);
      out.push(`<line x1="${x}" y1="${top - 8}" x2="${x}" y2="${top + rows.length * ROW_H}" stroke="#ddd"/>`);
      const label = unit === 'ms'
        ? (10 ** d >= 1000 ? `${10 ** d / 1000} s` : `${10 ** d} ms`)
        : `${new Intl.NumberFormat('en-US', { notation: 'compact' }).format(10 ** d)}/s`;
      out.push(`<text x="${x}" y="${top + rows.length * ROW_H + 16}" text-anchor="middle" fill="#555">${label}</text>`);
    }
  }
  rows.forEach((r, i) => {
    const y = top + i * ROW_H;
    const grpc = Number(r['group p50 ms (gRPC)']);
    const bare = Number(r['bare p50 ms']);
    const rate = Number(r['samples/s (server, 2 workers)']);
    out.push(`<text x="${LABEL_W - 8}" y="${y + 16}" text-anchor="end">${escape(`${r.model} · ${r.variant}`)}</text>`);
    out.push(`<rect x="${p1}" y="${y + 3}" width="${logX(grpc, latency.lo, latency.hi, p1) - p1}" height="9" fill="#2f5d8a"/>`);
    out.push(`<rect x="${p1}" y="${y + 13}" width="${logX(bare, latency.lo, latency.hi, p1) - p1}" height="9" fill="#9dbbd8"/>`);
    out.push(`<text x="${logX(grpc, latency.lo, latency.hi, p1) + 4}" y="${y + 12}" font-size="10">${grpc} ms (×${r['overhead ratio']})</text>`);
    out.push(`<rect x="${p2}" y="${y + 5}" width="${logX(rate, throughput.lo, throughput.hi, p2) - p2}" height="14" fill="#3c8a4f"/>`);
    out.push(`<text x="${logX(rate, throughput.lo, throughput.hi, p2) + 4}" y="${y + 16}" font-size="10">${rate.toLocaleString('en-US')}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function main(): void {
  const json = JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, 'gateway-fhe.json'), 'utf8')) as { variants: Row[] };
  const svgFile = path.join(RESULTS_DIR, 'gateway-fhe.svg');
  fs.writeFileSync(svgFile, renderFheChart(json.variants));
  try {
    execFileSync('rsvg-convert', ['-o', path.join(RESULTS_DIR, 'gateway-fhe.png'), svgFile], { env: childProcessEnv() });
    console.log(`wrote ${path.join(RESULTS_DIR, 'gateway-fhe.png')}`);
  } catch {
    console.log(`wrote ${svgFile}; install rsvg-convert (apt-get install librsvg2-bin) to rasterise it to PNG`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === __filename) main();

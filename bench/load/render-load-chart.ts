/**
 * Draws bench/results/load.svg (load.png when rsvg-convert is installed) from a load report: per mode, the highest
 * sustained arrival rate with 1 and with 2 gateway processes, each panel on its own linear scale.
 */
import { escapeSvg, svgBars, writeChart, type Bar } from '../svg-bars';
import type { LoadReport } from './build-load-report';

const PANEL_STRIDE = 440;
const COLOURS = ['#6b93bb', '#2f5d8a', '#1b3a5c'];

export function renderLoadChartSvg(report: Pick<LoadReport, 'results' | 'machine'>): string {
  const modes = [...new Set(report.results.map((r) => r.mode))];
  const counts = [...new Set(report.results.map((r) => r.gateways))].sort((a, b) => a - b);
  const width = Math.max(1, modes.length) * PANEL_STRIDE + 20;
  const height = 80 + counts.length * 42 + 30;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="${height - 10}" font-size="11" fill="#555">${escapeSvg(`highest arrival rate sustained with p99 within the bound; ${report.machine.cores} shared cores, ${report.machine.date.slice(0, 10)}`)}</text>`,
  ];
  modes.forEach((mode, i) => {
    const rows = report.results.filter((r) => r.mode === mode);
    const bound = rows[0]?.p99BoundMs;
    const bars: Bar[] = counts.map((n, k) => ({ label: `${n} gateway${n > 1 ? 's' : ''}`, value: rows.find((r) => r.gateways === n)?.maxSustainedRate ?? 0, colour: COLOURS[k % COLOURS.length]! }));
    const max = Math.max(1e-9, ...bars.map((b) => b.value)) * 1.1;
    out.push(...svgBars(10 + i * PANEL_STRIDE, `${mode} (p99 ≤ ${bound} ms)`, bars, 'req/s', (v) => v / max));
  });
  out.push('</svg>');
  return out.join('\n');
}

export function renderLoadChart(report: LoadReport, name = 'load'): void {
  writeChart(name, renderLoadChartSvg(report));
}

/**
 * Draws bench/results/chat.svg (and chat.png when rsvg-convert, Debian librsvg2-bin, is installed) from the rows
 * bench/chat.ts measured: per arm, p50 tokens/s and p50 time to first token, and embeddings/s per batch size, on
 * linear scales so a 5 % gap looks like one. Run alone it redraws from bench/results/chat.json.
 *
 *   node bin/run-ts.cjs bench/render-chat-chart.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childProcessEnv } from '../chain';
import { RESULTS_DIR } from './write-bench-report';

type Row = Record<string, string | number>;
export type ChatChartInput = { chat: Row[]; embeddings: Row[] };

const WIDTH = 1100;
const ROW_H = 26;
const LABEL_W = 290;
const GAP = 70;
const PANELS = 3;
const PANEL_W = (WIDTH - LABEL_W - GAP * (PANELS - 1) - 40) / PANELS;
const COLOURS = ['#9dbbd8', '#6b93bb', '#2f5d8a', '#c0504d', '#e08a2c'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One panel of horizontal bars, one per row, scaled to the largest value. */
function panel(x0: number, top: number, title: string, bars: { label: string; value: number; colour: string }[], unit: string): string[] {
  const max = Math.max(...bars.map((b) => b.value)) * 1.15;
  const out = [`<text x="${x0 + PANEL_W / 2}" y="${top - 14}" text-anchor="middle">${escape(title)}</text>`];
  bars.forEach((b, i) => {
    const y = top + i * ROW_H;
    const w = (b.value / max) * PANEL_W;
    if (x0 === LABEL_W) out.push(`<text x="${LABEL_W - 8}" y="${y + 16}" text-anchor="end">${escape(b.label)}</text>`);
    out.push(`<rect x="${x0}" y="${y + 4}" width="${w}" height="16" fill="${b.colour}"/>`);
    out.push(`<text x="${x0 + w + 4}" y="${y + 16}" font-size="10">${b.value}${unit}</text>`);
  });
  out.push(`<line x1="${x0}" y1="${top}" x2="${x0}" y2="${top + bars.length * ROW_H}" stroke="#555"/>`);
  return out;
}

export function renderChatChartSvg({ chat, embeddings }: ChatChartInput): string {
  const top = 80;
  const chatH = chat.length * ROW_H;
  const embedTop = top + chatH + 70;
  const height = embedTop + Math.max(...[1, 16].map((b) => embeddings.filter((r) => Number(r.batch) === b).length)) * ROW_H + 30;
  const colour = new Map(chat.map((r, i) => [String(r.arm), COLOURS[i % COLOURS.length]!]));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">Veil chat: openai SDK → veil proxy → gateway → TEE node vs the bare loop (toy-chat-kjv, 2 shared cores)</text>`,
  ];
  const p = (i: number) => LABEL_W + i * (PANEL_W + GAP);
  out.push(...panel(p(0), top, 'tokens/s, p50 (higher is better)', chat.map((r) => ({ label: String(r.arm), value: Number(r['tokens/s p50']), colour: colour.get(String(r.arm))! })), ''));
  out.push(...panel(p(1), top, 'time to first token, p50 (lower is better)', chat.map((r) => ({ label: String(r.arm), value: Number(r['TTFT p50 ms']), colour: colour.get(String(r.arm))! })), ' ms'));
  out.push(...panel(p(2), top, 'tokens/s ÷ bare host.stream (target ≥ 0.95)', chat.map((r) => ({ label: String(r.arm), value: Number(r['tokens/s ÷ bare host']), colour: colour.get(String(r.arm))! })), ''));
  // The 0.95 target line on the ratio panel.
  const maxRatio = Math.max(...chat.map((r) => Number(r['tokens/s ÷ bare host']))) * 1.15;
  const xTarget = p(2) + (0.95 / maxRatio) * PANEL_W;
  out.push(`<line x1="${xTarget}" y1="${top - 4}" x2="${xTarget}" y2="${top + chatH}" stroke="#c00" stroke-dasharray="4 3"/>`);
  // The chat panel's colour for the same arm (a compared checkout's arm included); the bare embedding arm as the bare host's.
  const embedColour = (arm: string) => colour.get(arm) ?? (arm.startsWith('bare') ? COLOURS[1]! : COLOURS[2]!);
  for (const [i, batch] of [1, 16].entries()) {
    const rows = embeddings.filter((r) => Number(r.batch) === batch);
    out.push(...panel(p(i), embedTop, `embeddings/s, p50, batch ${batch} (toy-embed-kjv)`, rows.map((r) => ({ label: String(r.arm), value: Number(r['embeddings/s p50']), colour: embedColour(String(r.arm)) })), ''));
  }
  out.push('</svg>');
  return out.join('\n');
}

/** Writes chat.svg and, when rsvg-convert is installed, chat.png. */
export function renderChatChart(input: ChatChartInput): void {
  const svgFile = path.join(RESULTS_DIR, 'chat.svg');
  fs.writeFileSync(svgFile, `${renderChatChartSvg(input)}\n`);
  try {
    execFileSync('rsvg-convert', ['-o', path.join(RESULTS_DIR, 'chat.png'), svgFile], { env: childProcessEnv() });
    console.log(`wrote ${path.join(RESULTS_DIR, 'chat.png')}`);
  } catch {
    console.log(`wrote ${svgFile}; install rsvg-convert (apt-get install librsvg2-bin) to rasterise it to PNG`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  renderChatChart(JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, 'chat.json'), 'utf8')) as ChatChartInput);
}

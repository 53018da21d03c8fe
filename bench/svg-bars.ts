import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childProcessEnv } from '../chain';
import { RESULTS_DIR } from './write-bench-report';

export type Bar = { label: string; value: number; colour: string };

const PANEL_W = 280;
const BAR_H = 28;

export const escapeSvg = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One panel of horizontal bars at x0: a title, then each bar with its label and value; `scale` maps a value to 0..1. */
export function svgBars(x0: number, title: string, items: Bar[], unit: string, scale: (v: number) => number): string[] {
  const out = [`<text x="${x0}" y="40" font-size="15" font-weight="bold">${escapeSvg(title)}</text>`];
  items.forEach((it, i) => {
    const y = 60 + i * (BAR_H + 14);
    const w = Math.max(1, scale(it.value) * PANEL_W);
    out.push(`<text x="${x0}" y="${y + 18}" font-size="12">${escapeSvg(it.label)}</text>`);
    out.push(`<rect x="${x0 + 90}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${it.colour}"/>`);
    out.push(`<text x="${x0 + 96 + w}" y="${y + 18}" font-size="12">${escapeSvg(`${it.value.toLocaleString('en', { maximumFractionDigits: 2 })} ${unit}`)}</text>`);
  });
  return out;
}

/** Writes results/<name>.svg and, when rsvg-convert (Debian librsvg2-bin) is installed, results/<name>.png. */
export function writeChart(name: string, svg: string): void {
  const svgFile = path.join(RESULTS_DIR, `${name}.svg`);
  fs.writeFileSync(svgFile, `${svg}\n`);
  try {
    execFileSync('rsvg-convert', ['-o', path.join(RESULTS_DIR, `${name}.png`), svgFile], { env: childProcessEnv() });
    console.log(`wrote ${svgFile} and ${name}.png`);
  } catch {
    console.log(`wrote ${svgFile}; install rsvg-convert (apt-get install librsvg2-bin) to rasterise it to PNG`);
  }
}

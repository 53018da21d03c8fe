import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseDocument } from 'yaml';

export const CHART_DIR = path.join(__dirname, 'veil');

export type RenderChartParameters = { valueFiles?: string[]; set?: string[]; releaseName?: string; namespace?: string };

/** A rendered manifest: the template it came from and the parsed object. */
export type RenderedObject = { source: string; object: Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } } };

/** The chart rendered, or the renderer's refusal (a `required`/`fail` message or a values.schema.json violation). */
export type RenderChartResult = { ok: true; objects: RenderedObject[]; text: string } | { ok: false; error: string };

/** Renders deploy/helm/veil with the given values, as `helm template` would, and parses every document. */
export function renderChart(renderer: string, params: RenderChartParameters = {}): RenderChartResult {
  const args = [
    ...(params.valueFiles ?? []).flatMap((f) => ['-f', path.resolve(CHART_DIR, f)]),
    ...(params.set ?? []).flatMap((s) => ['--set', s]),
    '--release-name', params.releaseName ?? 'veil', '--namespace', params.namespace ?? 'default', CHART_DIR,
  ];
  const run = spawnSync(renderer, args, { encoding: 'utf8' });
  if (run.status !== 0) return { ok: false, error: run.stderr.trim() };
  const objects: RenderedObject[] = [];
  // The renderer prints every document as `---`, `# Source: <template>`, then the manifest (as `helm template` does).
  for (const chunk of run.stdout.split(/^---\n/m).filter((c) => c.trim() !== '')) {
    const source = /^# Source: (\S+)/.exec(chunk)?.[1] ?? '?';
    const doc = parseDocument(chunk);
    if (doc.errors.length > 0) throw new Error(`${source}: rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const object = doc.toJS() as RenderedObject['object'] | null;
    if (object !== null) objects.push({ source, object });
  }
  return { ok: true, objects, text: run.stdout };
}

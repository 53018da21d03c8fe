/**
 * The module boundaries ARCHITECTURE.md states, checked on the source: no import cycles between files, leaf
 * modules import nothing of ours, and the client SDK never reaches into the server.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const MODULES = ['proto', 'onnx', 'fhe', 'tee', 'workers', 'gateway', 'client', 'attestation', 'chain', 'models', 'cli', 'bench'];
const LEAVES = ['proto', 'onnx', 'attestation', 'chain'];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

const files = MODULES.filter((m) => fs.existsSync(path.join(ROOT, m))).flatMap((m) => sourceFiles(path.join(ROOT, m)));
const graph = new Map<string, string[]>();
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  graph.set(file, specs.map((s) => resolveImport(file, s)).filter((f): f is string => f !== undefined));
}
const moduleOf = (file: string) => path.relative(ROOT, file).split(path.sep)[0]!;
const rel = (file: string) => path.relative(ROOT, file);

test('there are no import cycles between source files', () => {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, stack: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...stack.slice(stack.indexOf(file)), file].map(rel).join(' → '));
      return;
    }
    state.set(file, 'visiting');
    for (const dep of graph.get(file) ?? []) visit(dep, [...stack, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  expect(cycles).toEqual([]);
  expect(graph.size).toBeGreaterThan(100);
  expect([...graph.values()].reduce((n, deps) => n + deps.length, 0)).toBeGreaterThan(300); // the parser does see imports
});

test('leaf modules import nothing of ours, and the client never imports the gateway or workers', () => {
  const violations: string[] = [];
  for (const [file, deps] of graph) {
    const from = moduleOf(file);
    for (const dep of deps) {
      const to = moduleOf(dep);
      if (to === from) continue;
      if (LEAVES.includes(from)) violations.push(`${rel(file)} (leaf ${from}) imports ${rel(dep)}`);
      if (from === 'client' && (to === 'gateway' || to === 'workers')) violations.push(`${rel(file)} imports ${rel(dep)}`);
      if (['fhe', 'tee', 'workers'].includes(from) && to === 'gateway') violations.push(`${rel(file)} imports ${rel(dep)}`);
    }
  }
  expect(violations).toEqual([]);
});

/**
 * The module boundaries ARCHITECTURE.md states, checked on the source (test files excluded: a test may reach into
 * what it tests):
 * - no import cycles between files;
 * - leaf modules (`proto`, `tracing`, `onnx`, `llm`, `attestation`, `chain`) import nothing of ours;
 * - a module imports another only through one of its `index.ts` files: the module's own, or that of a sub-area that
 *   has one (`workers/tee/index.ts`, `gateway/config/index.ts`, `client/tee/index.ts`, …), never a file behind it.
 *   The one exception: `bench/` may use a module's `test-support/` fixtures (and `test/support/`), which production code never imports;
 * - the server never needs the SDK: nothing `gateway/` or `workers/` imports reaches `client/`, directly or through
 *   another module; and nothing `client/` imports reaches `gateway/` or `workers/`.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const MODULES = ['proto', 'tracing', 'onnx', 'llm', 'fhe', 'tee', 'workers', 'gateway', 'client', 'attestation', 'chain', 'payments', 'models', 'cli', 'bench', 'deploy'];
const LEAVES = ['proto', 'tracing', 'onnx', 'llm', 'attestation', 'chain'];
const SERVER = ['gateway', 'workers'];
const SDK = ['client'];

/*
 * Known offenders on THIS branch only, each with the branch that removes it. The lead deletes this list at merge;
 * it must be empty on main.
 */
const SERVER_TO_CLIENT_ALLOWED = new Set<string>([]);

type Graph = Map<string, string[]>;

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
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return path.relative(ROOT, candidate);
  }
  return undefined;
}

// `from '…'` (import/export … from), side-effect `import '…'`, `require('…')` and `import('…')`, relative only.
const IMPORT = /(?:\bfrom\s+|\bimport\s+|\brequire\(\s*|\bimport\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

const unresolved: string[] = [];
const graph: Graph = new Map();
for (const file of MODULES.filter((m) => fs.existsSync(path.join(ROOT, m))).flatMap((m) => sourceFiles(path.join(ROOT, m)))) {
  const from = path.relative(ROOT, file);
  const deps: string[] = [];
  for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const dep = resolveImport(file, spec!);
    if (dep === undefined) unresolved.push(`${from} imports "${spec}"`);
    else deps.push(dep);
  }
  graph.set(from, deps);
}

const moduleOf = (file: string) => file.split(/[\\/]/)[0]!;

/** Cross-module imports of a file that is not an `index.ts` (bench/ → `test-support/` excepted). */
function deepImports(g: Graph): string[] {
  const violations: string[] = [];
  for (const [file, deps] of g) {
    for (const dep of deps) {
      if (moduleOf(dep) === moduleOf(file)) continue;
      const parts = dep.split(/[\\/]/);
      // test/support/ is the cross-module test fixtures folder (certificates, seeded rows): fixtures like test-support/.
      if (parts.includes('test-support') || (parts[0] === 'test' && parts[1] === 'support')) {
        if (moduleOf(file) !== 'bench') violations.push(`${file} imports test fixtures ${dep}`);
      } else if (parts.at(-1) !== 'index.ts') {
        violations.push(`${file} imports ${dep}, not an index.ts`);
      }
    }
  }
  return violations;
}

/**
 * Every file of `from` modules that reaches a file of `to` modules through the graph, with the path. An edge is
 * followed unless its source file is in `allowed` and its target is in `to` (the branch-local list above).
 */
function reaches(g: Graph, from: string[], to: string[], allowed: ReadonlySet<string> = new Set()): string[] {
  const violations: string[] = [];
  for (const start of [...g.keys()].filter((f) => from.includes(moduleOf(f)))) {
    const seen = new Map<string, string | undefined>([[start, undefined]]); // file → the file that imported it
    const queue = [start];
    let hit: string | undefined;
    while (queue.length > 0 && hit === undefined) {
      const file = queue.shift()!;
      for (const dep of g.get(file) ?? []) {
        if (seen.has(dep) || (allowed.has(file) && to.includes(moduleOf(dep)))) continue;
        seen.set(dep, file);
        if (to.includes(moduleOf(dep))) {
          hit = dep;
          break;
        }
        queue.push(dep);
      }
    }
    if (hit === undefined) continue;
    const chain = [hit];
    for (let f = seen.get(hit); f !== undefined; f = seen.get(f)) chain.unshift(f);
    violations.push(chain.join(' → '));
  }
  return violations;
}

test('the parser sees the imports, and every relative import resolves to a file', () => {
  expect(unresolved).toEqual([]);
  expect(graph.size).toBeGreaterThan(100);
  expect([...graph.values()].reduce((n, deps) => n + deps.length, 0)).toBeGreaterThan(300);
});

test('the boundary checks catch what they are meant to (on a small made-up graph)', () => {
  const g: Graph = new Map([
    ['fhe/a.ts', ['onnx/onnx-schema.ts', 'onnx/index.ts', 'workers/tee/index.ts', 'fhe/b.ts']],
    ['bench/x.ts', ['attestation/test-support/vectors.ts', 'client/tee/index.ts']],
    ['gateway/g.ts', ['models/index.ts', 'attestation/test-support/policies.ts']],
    ['models/index.ts', ['client/index.ts']],
    ['workers/tee/m.ts', ['client/tee/index.ts']],
    ['workers/w.ts', ['workers/tee/m.ts']],
    ['client/c.ts', ['fhe/index.ts']],
    ['fhe/index.ts', ['fhe/a.ts']],
  ]);
  expect(deepImports(g)).toEqual([
    'fhe/a.ts imports onnx/onnx-schema.ts, not an index.ts',
    'gateway/g.ts imports test fixtures attestation/test-support/policies.ts',
  ]);
  expect(reaches(g, SERVER, SDK)).toEqual(['gateway/g.ts → models/index.ts → client/index.ts', 'workers/tee/m.ts → client/tee/index.ts', 'workers/w.ts → workers/tee/m.ts → client/tee/index.ts']);
  expect(reaches(g, SERVER, SDK, new Set(['workers/tee/m.ts']))).toEqual(['gateway/g.ts → models/index.ts → client/index.ts']);
  expect(reaches(g, SDK, SERVER)).toEqual(['client/c.ts → fhe/index.ts → fhe/a.ts → workers/tee/index.ts']);
});

test('there are no import cycles between source files', () => {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, stack: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...stack.slice(stack.indexOf(file)), file].join(' → '));
      return;
    }
    state.set(file, 'visiting');
    for (const dep of graph.get(file) ?? []) visit(dep, [...stack, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  expect(cycles).toEqual([]);
});

test('leaf modules import nothing of ours; fhe, tee and workers never import the gateway', () => {
  const violations: string[] = [];
  for (const [file, deps] of graph) {
    const from = moduleOf(file);
    for (const dep of deps) {
      const to = moduleOf(dep);
      if (to === from) continue;
      if (LEAVES.includes(from)) violations.push(`${file} (leaf ${from}) imports ${dep}`);
      if (['fhe', 'tee', 'workers'].includes(from) && to === 'gateway') violations.push(`${file} imports ${dep}`);
    }
  }
  expect(violations).toEqual([]);
});

test('modules import each other only through an index.ts', () => {
  expect(deepImports(graph)).toEqual([]);
});

test('the server (gateway/, workers/) never reaches the client SDK, and the SDK never reaches the server', () => {
  expect(reaches(graph, SERVER, SDK, SERVER_TO_CLIENT_ALLOWED)).toEqual([]);
  expect(reaches(graph, SDK, SERVER)).toEqual([]);
  // The branch-local list only names files that exist and really import the SDK; the lead deletes it at merge.
  for (const file of SERVER_TO_CLIENT_ALLOWED) expect(graph.get(file)?.some((dep) => SDK.includes(moduleOf(dep)))).toBe(true);
});

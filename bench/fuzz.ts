/**
 * Long fuzzing run (issue #9): ≥ 10,000 seeded cases per service against a real gateway (Models, Fhe, Tee, Trust)
 * relaying TEE mode to a real `veil worker`, and the worker's own TeeNode service. Writes the outcome table, every
 * failing property with its shrunk counterexample, crashes, liveness and RSS to bench/results/fuzz.{json,md}.
 *
 *   node bin/run-ts.cjs bench/fuzz.ts [--cases 10000] [--seed 9] [--gateway in-process|process] [--shrink-ms 60000]
 *                                     [--concurrency 2] [--name fuzz] [--render-only bench/results/fuzz.json]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { FUZZ_PROPERTIES, FUZZ_SERVICES, runFuzz, type FuzzOutcome, type FuzzProperty } from '../test/fuzz';
import { machineInfo, markdownTable, writeBenchReport } from './write-bench-report';

const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      // Re-renders the Markdown of an existing results file (e.g. after a change to this renderer).
      'render-only': { type: 'string' },
      cases: { type: 'string', default: '10000' }, seed: { type: 'string', default: '9' },
      gateway: { type: 'string', default: 'in-process' }, 'shrink-ms': { type: 'string', default: '60000' },
      concurrency: { type: 'string', default: '2' }, name: { type: 'string', default: 'fuzz' },
    },
  });
  if (values['render-only']) {
    const saved = JSON.parse(fs.readFileSync(values['render-only'], 'utf8')) as FuzzOutcome & { machine: ReturnType<typeof machineInfo> };
    fs.writeFileSync(values['render-only'].replace(/\.json$/, '.md'), `${render(saved, saved.rss.gateway.mode, saved.machine)}\n`);
    return;
  }
  const casesPerService = Number(values.cases);
  const seed = Number(values.seed);
  const mode = values.gateway === 'process' ? 'process' : 'in-process';
  const started = Date.now();
  let lastPrint = 0;
  const outcome = await runFuzz({
    seed, casesPerService, concurrency: Number(values.concurrency), shrinkMs: Number(values['shrink-ms']),
    targetOptions: { gateway: mode },
    onProgress: (done, total) => {
      if (Date.now() - lastPrint < 15_000 && done !== total) return;
      lastPrint = Date.now();
      console.error(`fuzz: ${done}/${total} cases, ${Math.round((Date.now() - started) / 1000)} s`);
    },
  });
  const machine = machineInfo();
  writeBenchReport(values.name!, { machine, ...outcome }, render(outcome, mode, machine));
}

function render(o: FuzzOutcome, mode: string, m = machineInfo()): string {
  const columns = [...new Set(Object.values(o.table).flatMap((row) => Object.keys(row!)))].sort((a, b) => (a === 'ok' ? -1 : b === 'ok' ? 1 : a.localeCompare(b)));
  const rpcs = Object.values(FUZZ_SERVICES).flat().filter((rpc) => o.table[rpc]);
  const table = rpcs.map((rpc) => {
    const row = o.table[rpc]!;
    const t = o.timing[rpc];
    return {
      rpc, cases: Object.values(row).reduce((a, b) => a + b, 0), ...Object.fromEntries(columns.map((c) => [c, row[c] ?? 0])),
      'mean ms': t ? Math.round((t.totalMs / t.calls) * 10) / 10 : 0, 'max ms': t?.maxMs ?? 0,
    };
  });
  const props = (Object.keys(FUZZ_PROPERTIES) as FuzzProperty[]).map((p) => ({
    property: p, result: o.properties[p].failures === 0 ? 'pass' : `**FAIL** (${o.properties[p].failures})`, 'what it means': FUZZ_PROPERTIES[p],
  }));
  const examples = (Object.keys(FUZZ_PROPERTIES) as FuzzProperty[]).filter((p) => o.properties[p].failures > 0).map((p) => {
    const r = o.properties[p];
    const e = r.shrunk ?? r.first!;
    return [
      `### ${p}`,
      '',
      `${r.failures} failing case(s). ${r.shrunk ? `Shrunk in ${r.shrunk.shrinks} steps (fast-check path \`${(r.shrunk.path ?? '').slice(0, 60)}${(r.shrunk.path ?? '').length > 60 ? '…' : ''}\`, seed ${o.seed}, service ${r.shrunk.service}).` : r.first?.case.startsWith('after:') ? 'Not shrunk (a run-level check); first occurrence, with the cases just before it:' : 'First found by a FUZZ_REGRESSIONS case (already minimal):'}`,
      '',
      `- case: \`${e.case.replace(/`/g, "'")}\``,
      `- answer: ${e.answer || '—'}`,
      `- detail: ${e.detail}`,
      ...(r.shrunk && r.first ? [`- first failing case (unshrunk, #${r.first.index} of ${r.first.service}): \`${r.first.case.slice(0, 400).replace(/`/g, "'")}\``] : []),
      ...Object.entries(r.firstByService).filter(([service]) => service !== e.service).map(([service, f]) =>
        `- first in ${service} (#${f!.index}, ${f!.rpc}): \`${f!.case.slice(0, 300).replace(/`/g, "'")}\` → ${f!.answer}`),
      '',
    ].join('\n');
  });
  const rss = (['gateway', 'worker'] as const).map((t) => {
    const r = o.rss[t];
    return { target: t, mode: r.mode, 'first MiB': Math.round(r.firstBytes / MiB), 'min MiB': Math.round(r.minBytes / MiB), 'max MiB': Math.round(r.maxBytes / MiB), 'last MiB': Math.round(r.lastBytes / MiB), 'bound MiB': Math.round(r.boundBytes / MiB), samples: r.samples.length };
  });
  return [
    '# RPC fuzzing (issue #9)',
    '',
    `${m.date} · Node ${m.node} · ${m.cores} cores · seed ${o.seed} · ${o.casesPerService} cases per service (${o.services.join(', ')}) · ${o.cases} cases in ${Math.round(o.durationMs / 1000)} s · gateway ${mode}, \`veil worker\` its own process`,
    '',
    'Every case is a fast-check recipe over real material (real CKKS keys and ciphertexts, the same under foreign parameters and one level down, real sealed `veil-tee-v1` frames) turned into raw bytes and sent with pass-through serializers, so invalid protobuf reaches the server. Columns: `ok`, the `veil-error-code` of a typed refusal, `untyped STATUS` (no `veil-error-code` trailer), `client cancelled` (the harness cancelled: a deliberate mid-upload cancel, or a call in flight when the server crashed). Messages over a size limit cost seconds each, so at most 3 per RPC are sent; later ones are counted as skipped.',
    '',
    markdownTable(table),
    '',
    '## Properties',
    '',
    markdownTable(props),
    '',
    `Crashes: gateway ${o.crashes.gateway}, worker ${o.crashes.worker}. Liveness checks (a valid request of every service, every 25 cases): ${o.liveness.checks}, failed ${o.liveness.failures}.`,
    ...(o.crashReasons.gateway.length ? ['', `Gateway crash causes (first ${o.crashReasons.gateway.length}): ${[...new Set(o.crashReasons.gateway)].map((r) => `\`${r.slice(0, 300)}\``).join('; ')}`] : []),
    ...(o.crashReasons.worker.length ? ['', `Worker crash causes: ${[...new Set(o.crashReasons.worker)].map((r) => `\`${r.slice(0, 300)}\``).join('; ')}`] : []),
    '',
    '## RSS',
    '',
    markdownTable(rss),
    '',
    mode === 'in-process' ? 'The in-process gateway\'s RSS is the whole harness process (gateway, FHE worker threads, fuzz material, the shared oversize buffer).' : '',
    '',
    '## Counterexamples',
    '',
    ...(examples.length > 0 ? examples : ['None: every property held on every case.']),
  ].join('\n');
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});

/**
 * Encrypted similarity search (issue #13, point 4): one encrypted query scored against a server-held table of N rows
 * (N = 10^3, 10^4, 10^5; d = 64), top-10 decided on the client after decryption. In process, one thread, SEAL only:
 * no gateway, no gRPC (the table kind is not served through the gateway yet). Tables are seeded random unit vectors
 * (not embeddings of a corpus), so recall@10 reflects CKKS error against scores of random vectors, whose near-ties
 * at rank 10 are the hard case.
 *
 *   node bin/run-ts.cjs bench/fhe-similarity.ts
 *
 * Writes bench/results/fhe-similarity.json, .md and .svg.
 */
import os from 'node:os';
import {
  compileSimilarityTable, createCkksRuntime, createFheClientKeys, createPlanEvaluator, loadCiphertext, loadEvaluationKeys,
  loadSeal, packInputs, protectDecryptedOutputs, topK, unpackOutputs,
} from '../fhe';
import { svgBars, writeChart } from './svg-bars';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';

const DIMS = 64;
const K = 10;
const SIZES = [1_000, 10_000, 100_000];

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 1) / 2 ** 32; // (0, 1]
  };
}

function unitVectors(rand: () => number, count: number): Float64Array {
  const out = new Float64Array(count * DIMS);
  for (let r = 0; r < count; r++) {
    let n = 0;
    for (let j = 0; j < DIMS; j++) {
      const g = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
      out[r * DIMS + j] = g;
      n += g * g;
    }
    for (let j = 0; j < DIMS; j++) out[r * DIMS + j]! /= Math.sqrt(n);
  }
  return out;
}

type Row = Record<string, string | number>;

async function benchSize(rows: number, queries: number): Promise<Row> {
  const rand = seeded(rows);
  const table = unitVectors(rand, rows);
  const plan = compileSimilarityTable({ values: table, rows, dims: DIMS });
  const runtime = createCkksRuntime(await loadSeal(), plan.spec.params);
  const t0 = performance.now();
  const evaluator = createPlanEvaluator(runtime, plan);
  const setupMs = performance.now() - t0;
  const keys = createFheClientKeys(runtime, plan.spec);
  const keyBytes = keys.evaluationKeys();
  const ek = loadEvaluationKeys(runtime, keyBytes, plan.spec);
  const server: number[] = [];
  const endToEnd: number[] = [];
  let up = 0;
  let down = 0;
  let recall = 0;
  let top1 = 0;
  try {
    for (let q = 0; q < queries + 1; q++) {
      const query = unitVectors(rand, 1);
      const e0 = performance.now();
      // Client: pack and encrypt.
      const upload = keys.encrypt(packInputs(plan.spec, [query])[0]![0]!);
      // Server: load, evaluate, serialise (what a worker does).
      const s0 = performance.now();
      const ct = loadCiphertext(runtime, upload);
      const outs = evaluator.evaluate([ct], ek);
      ct.delete();
      const results = outs.map((o) => {
        const bytes = o.saveArray(runtime.seal.ComprModeType.none);
        o.delete();
        return bytes;
      });
      const s1 = performance.now();
      // Client: decrypt, flood, top-k.
      const [scores] = unpackOutputs(plan.spec, results.map((b) => protectDecryptedOutputs(keys.decrypt(b))), 1);
      const got = topK(scores!, K);
      const e1 = performance.now();
      if (q === 0) continue; // warm-up
      server.push(s1 - s0);
      endToEnd.push(e1 - e0);
      up = upload.byteLength;
      down = results.reduce((a, b) => a + b.byteLength, 0);
      const plain = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        let dot = 0;
        for (let j = 0; j < DIMS; j++) dot += table[r * DIMS + j]! * query[j]!;
        plain[r] = dot;
      }
      const truth = topK(plain, K);
      recall += got.filter((i) => truth.includes(i)).length / K;
      if (got[0] === truth[0]) top1 += 1;
    }
  } finally {
    ek.delete();
    keys.delete();
    evaluator.delete();
    runtime.delete();
  }
  const spec = plan.spec;
  return {
    'rows N': rows,
    d: DIMS,
    ring: `N=${spec.params.polyModulusDegree}`,
    'result ciphertexts': spec.outputCiphertexts,
    rotations: spec.stats.rotations,
    'ct×pt': spec.stats.plainMultiplies,
    queries,
    'server eval p50 ms': round(percentile(server, 0.5)),
    'end to end p50 ms': round(percentile(endToEnd, 0.5)),
    'bytes up': up,
    'bytes down': down,
    'key bytes': (keyBytes.galoisKeys?.byteLength ?? 0) + (keyBytes.relinKeys?.byteLength ?? 0),
    'recall@10': round(recall / queries, 3),
    'top-1 agreement': round(top1 / queries, 3),
    'server setup s (encode table)': round(setupMs / 1000),
  };
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const rows: Row[] = [];
  for (const n of SIZES) {
    rows.push(await benchSize(n, n >= 100_000 ? 10 : 20));
    console.log(rows.at(-1));
  }
  const load = { before: loadBefore.map((v) => round(v)), after: os.loadavg().map((v) => round(v)) };
  const machine = machineInfo();
  const md = [
    '# Encrypted similarity search (table-rows plans)',
    '',
    `${machine.date} · Node ${machine.node} · ${machine.cores} cores (${machine.cpu}) · load average ${load.before.join(' / ')} before, ${load.after.join(' / ')} after (other agents shared the cores: noisy)`,
    '',
    markdownTable(rows),
    '',
    `One query of d = ${DIMS} against N seeded random unit vectors, in process on one thread (no gateway or network): client packs and encrypts,`,
    'the server loads the ciphertext, evaluates scores = T·q (p − 1 = 63 shared rotations by one Galois key, then d products per 4,096-row chunk)',
    'and serialises the result ciphertexts; the client decrypts, floods/rounds (2^-12 grid) and takes the top 10. recall@10 and top-1 agreement',
    'are against plaintext float64 dot products (a miss would be a near-tie at rank 10 closer than the decryption grid).',
    'server setup: encoding every chunk diagonal once (kept in memory: ≈ 64 KB per diagonal plaintext).',
  ].join('\n');
  writeBenchReport('fhe-similarity', { machine, load, dims: DIMS, k: K, rows }, md);
  const colours = ['#6b93bb', '#c0504d', '#e08a3c'];
  const max = (k: string) => Math.max(...rows.map((r) => Number(r[k])));
  const bars = (key: string) => rows.map((r, i) => ({ label: `N=${Number(r['rows N']).toLocaleString('en')}`, value: Number(r[key]), colour: colours[i]! }));
  writeChart('fhe-similarity', [
    `<svg xmlns="http://www.w3.org/2000/svg" width="1240" height="200" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...svgBars(10, 'server eval (p50)', bars('server eval p50 ms'), 'ms', (v) => v / max('server eval p50 ms')),
    ...svgBars(420, 'end to end incl. enc/dec (p50)', bars('end to end p50 ms'), 'ms', (v) => v / max('end to end p50 ms')),
    ...svgBars(830, 'bytes down', bars('bytes down'), 'B', (v) => v / max('bytes down')),
    '</svg>',
  ].join('\n'));
  console.log(md);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

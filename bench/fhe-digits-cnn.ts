/**
 * digits-cnn through the gateway (issue #13, point 3): FHE accuracy on the digits test split, single-image latency and
 * batched images/s, with the gateway as its own process (`veil serve`, 2 FHE workers) and the SDK in this process on
 * the same 2 cores (client encryption and decryption included). digits-mlp is measured the same way for comparison.
 *
 *   node bin/run-ts.cjs bench/fhe-digits-cnn.ts
 *
 * Writes bench/results/fhe-digits-cnn.json and .md.
 */
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { connectFheModel, createVeilClient } from '../client';
import { argmax, BUNDLED_MODELS, loadDigits, runOnnxModel } from '../models';
import { startGatewayProcess } from './start-gateway-process';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';
import { timeRuns } from './time-runs';

type Row = Record<string, string | number>;


async function benchModel(modelId: 'digits-cnn' | 'digits-mlp'): Promise<Row> {
  const gateway = await startGatewayProcess({
    VEIL_FHE_MODELS: modelId, VEIL_TEE_ENABLED: 'false', VEIL_CHAIN_ENABLED: 'false', VEIL_PAYMENTS_ENABLED: 'false',
  });
  const client = createVeilClient({ target: gateway.address });
  const { test } = loadDigits();
  try {
    const model = await connectFheModel({ client, modelId });
    try {
      // Accuracy: the whole test split in one call (the SDK picks the variant by batch size).
      const t0 = performance.now();
      const all = await model.predict(test.features);
      const splitSeconds = (performance.now() - t0) / 1000;
      const plain = await runOnnxModel(fs.readFileSync(BUNDLED_MODELS[modelId].file), 'x', 'logits', test.features);
      const accuracy = (logits: ArrayLike<number>[]) => logits.filter((l, i) => argmax(l) === test.labels[i]).length / test.labels.length;
      const agreement = all.logits.filter((l, i) => argmax(l) === argmax(plain[i]!)).length / test.labels.length;

      for (let i = 0; i < 3; i++) await model.predict([test.features[i]!]);
      let singleVariant = '';
      let k = 0;
      const single = await timeRuns(async () => {
        singleVariant = (await model.predict([test.features[k++ % test.features.length]!])).variant;
      }, 10_000, 20);

      const big = Array.from({ length: 8192 }, (_, i) => test.features[i % test.features.length]!);
      await model.predict(big.slice(0, 4096));
      const tb = performance.now();
      const batch = await model.predict(big);
      const batchSeconds = (performance.now() - tb) / 1000;

      const session = await ort.InferenceSession.create(BUNDLED_MODELS[modelId].file, { intraOpNumThreads: 1 });
      const one = new ort.Tensor('float32', Float32Array.from(test.features[0]!), [1, 64]);
      const ortSingle = await timeRuns(() => session.run({ x: one }), 1_000, 50, 2_000);
      await session.release();
      return {
        model: modelId,
        'test rows': test.labels.length,
        'plaintext accuracy %': round(accuracy(plain) * 100),
        'FHE accuracy %': round(accuracy(all.logits) * 100),
        'top-1 agreement %': round(agreement * 100),
        [`split: variant, s`]: `${all.variant}, ${round(splitSeconds)}`,
        'single image': singleVariant,
        'single p50 ms': round(percentile(single, 0.5)),
        'single p95 ms': round(percentile(single, 0.95)),
        'batch 8192': batch.variant,
        'batch images/s': Math.round(big.length / batchSeconds),
        'key bytes uploaded': model.keyBytes,
        'plaintext ORT p50 ms': round(percentile(ortSingle, 0.5), 3),
      };
    } finally {
      await model.close();
    }
  } finally {
    client.close();
    await gateway.stop();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const id of ['digits-cnn', 'digits-mlp'] as const) rows.push(await benchModel(id));
  const machine = machineInfo();
  const md = [
    '# digits-cnn under FHE, through the gateway',
    '',
    `${machine.date} · Node ${machine.node} · ${machine.cores} cores (${machine.cpu}) · gateway as its own process (\`veil serve\`, default FHE pool), the SDK in the bench process on the same cores`,
    '',
    markdownTable(rows),
    '',
    'Accuracy: the 359-row digits test split in one SDK call, encrypted → gateway → decrypted, against plaintext onnxruntime on the same file.',
    'single: one image per call, the SDK on auto (encryption, gRPC, evaluation, decryption). batch: 8,192 images in one call (auto).',
    'Other processes shared the 2 cores during the run; treat the numbers as an upper bound on latency.',
  ].join('\n');
  writeBenchReport('fhe-digits-cnn', { machine, rows }, md);
  console.log(md);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

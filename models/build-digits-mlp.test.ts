import fs from 'node:fs';
import { readOnnxModel } from '../onnx';
import { BUNDLED_MODELS } from './bundled-models';
import { buildDigitsMlp } from './build-digits-mlp';
import { loadDigits } from './load-digits';
import { argmax, runOnnxModel } from './run-onnx-model';
import { predictMlp } from './train-mlp';

const entry = BUNDLED_MODELS['digits-mlp'];
// Full training run (60 epochs, ~2–3 s): the rebuild test is the real thing, not a shortened proxy.
const build = buildDigitsMlp();

describe('buildDigitsMlp', () => {
  test('rebuilds the committed digits-mlp.onnx byte for byte', () => {
    expect(Buffer.from(build.bytes).equals(fs.readFileSync(entry.file))).toBe(true);
  });

  test('uses only ops the FHE compiler accepts: Gemm → Mul(z,z) → Gemm', () => {
    const { graph } = readOnnxModel(fs.readFileSync(entry.file));
    expect(graph.nodes.map((n) => [n.name, n.opType, n.inputs])).toEqual([
      ['fc1', 'Gemm', ['x', 'W1', 'b1']],
      ['act1_square', 'Mul', ['fc1_out', 'fc1_out']],
      ['fc2', 'Gemm', ['act1_out', 'W2', 'b2']],
    ]);
    expect(graph.inputs).toEqual([{ name: 'x', elemType: 1, shape: ['batch', 64] }]);
    expect(graph.outputs).toEqual([{ name: 'logits', elemType: 1, shape: ['batch', 10] }]);
    expect(graph.initializers.get('W1')!.dims).toEqual([64, 32]);
  });

  test('onnxruntime on the committed file reproduces the script\'s test accuracy (≥ 0.97) and logits', async () => {
    const { test: split } = loadDigits();
    const outputs = await runOnnxModel(fs.readFileSync(entry.file), 'x', 'logits', split.features);
    const accuracy = outputs.filter((logits, i) => argmax(logits) === split.labels[i]).length / split.features.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.97);
    expect(accuracy).toBe(build.report.testAccuracy);
    outputs.slice(0, 20).forEach((logits, i) => {
      const expected = predictMlp(build.mlp, split.features[i]!);
      logits.forEach((v, j) => expect(Math.abs(v - expected[j]!)).toBeLessThan(1e-3));
    });
  });

  test('value ranges stay CKKS-friendly', () => {
    expect(build.report.maxAbsPreActivation[0]).toBeLessThan(8);
    expect(build.report.maxAbsLogit).toBeLessThan(32);
  });
});

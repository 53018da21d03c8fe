import fs from 'node:fs';
import { readOnnxModel } from '../onnx';
import { BUNDLED_MODELS } from './bundled-models';
import { buildBreastCancerLr } from './build-breast-cancer-lr';
import { loadBreastCancer } from './load-breast-cancer';
import { runOnnxModel } from './run-onnx-model';

const entry = BUNDLED_MODELS['breast-cancer-lr'];
const build = buildBreastCancerLr();

describe('buildBreastCancerLr', () => {
  test('rebuilds the committed breast-cancer-lr.onnx byte for byte', () => {
    expect(Buffer.from(build.bytes).equals(fs.readFileSync(entry.file))).toBe(true);
  });

  test('graph is Gemm → Sigmoid on x[batch,30] with raw-feature weights', () => {
    const { graph } = readOnnxModel(fs.readFileSync(entry.file));
    expect(graph.nodes.map((n) => [n.name, n.opType])).toEqual([['linear', 'Gemm'], ['sigmoid', 'Sigmoid']]);
    expect(graph.inputs).toEqual([{ name: 'x', elemType: 1, shape: ['batch', 30] }]);
    expect(graph.outputs).toEqual([{ name: 'probability', elemType: 1, shape: ['batch', 1] }]);
    expect(graph.initializers.get('W')!.dims).toEqual([30, 1]);
  });

  test('onnxruntime on the committed file reproduces the script\'s test accuracy (≥ 0.93)', async () => {
    const { test: split } = loadBreastCancer();
    const outputs = await runOnnxModel(fs.readFileSync(entry.file), 'x', 'probability', split.features);
    const correct = outputs.filter(([p], i) => (p! >= 0.5 ? 1 : 0) === split.labels[i]).length;
    const accuracy = correct / split.features.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.93);
    expect(accuracy).toBe(build.report.testAccuracy);
  });

  test('logits stay moderate for CKKS (report is what the README quotes)', () => {
    expect(build.report.maxAbsLogit).toBeLessThan(40);
    expect(build.report.maxAbsTerm).toBeLessThan(10);
  });
});

import fs from 'node:fs';
import { readOnnxModel } from '../onnx';
import { BUNDLED_MODELS } from './bundled-models';
import { buildDigitsReluMlp } from './build-digits-relu-mlp';
import { buildDigitsReluMlpCalibration, formatCalibration } from './build-digits-relu-mlp-calibration';
import { readModelCalibration } from './read-model-calibration';
import { loadDigits } from './load-digits';
import { argmax, runOnnxModel } from './run-onnx-model';
import { predictMlp } from './train-mlp';

const entry = BUNDLED_MODELS['digits-relu-mlp'];
// Full training run (30 epochs, ~5 s).
const build = buildDigitsReluMlp();

describe('buildDigitsReluMlp', () => {
  test('rebuilds the committed digits-relu-mlp.onnx byte for byte', () => {
    expect(Buffer.from(build.bytes).equals(fs.readFileSync(entry.file))).toBe(true);
  });

  test('is Gemm → Relu → Gemm → Relu → Gemm, served in both modes (FHE through its committed calibration)', () => {
    const { graph } = readOnnxModel(fs.readFileSync(entry.file));
    expect(graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    expect(graph.initializers.get('W2')!.dims).toEqual([128, 64]);
    expect(entry.modes).toEqual(['fhe', 'tee']);
  });

  test('the committed calibration is what models/calibrate-digits-relu-mlp.ts writes for the committed model', () => {
    expect(fs.readFileSync(entry.calibration, 'utf8')).toBe(formatCalibration(buildDigitsReluMlpCalibration()));
    expect(readModelCalibration(entry.calibration, fs.readFileSync(entry.file))!.activations.map((a) => a.name)).toEqual(['act1_relu', 'act2_relu']);
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
});

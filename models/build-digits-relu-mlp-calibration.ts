import fs from 'node:fs';
import { calibrateActivations, type FheCalibration } from '../fhe';
import { BUNDLED_MODELS } from './bundled-models';
import { loadDigits } from './load-digits';
import type { DatasetSplit } from './dataset';

/**
 * Calibrates the committed digits ReLU MLP's two Relus on the digits **training** split (the test split stays
 * unseen, so the FHE accuracy measured on it is honest), with the default 10 % margin. Deterministic: the committed
 * `digits-relu-mlp.calibration.json` must equal `formatCalibration(buildDigitsReluMlpCalibration())`.
 */
export function buildDigitsReluMlpCalibration(data: DatasetSplit = loadDigits()): FheCalibration {
  const bytes = fs.readFileSync(BUNDLED_MODELS['digits-relu-mlp'].file);
  return calibrateActivations(bytes, data.train.features, { source: `digits training split (${data.train.features.length} rows)` });
}

/** The file's text: two-space JSON, one histogram per line. */
export function formatCalibration(calibration: FheCalibration): string {
  const histograms = calibration.activations.map((a) => JSON.stringify(a.histogram));
  let i = 0;
  return JSON.stringify({ ...calibration, activations: calibration.activations.map((a) => ({ ...a, histogram: `@H${i++}` })) }, null, 2)
    .replace(/"@H(\d+)"/g, (_, n: string) => histograms[Number(n)]!) + '\n';
}

// Script: recalibrates the digits ReLU MLP's activations and rewrites models/digits-relu-mlp.calibration.json
// (run after retraining the model: a calibration records the SHA-256 of the model bytes it was measured on).
//   node bin/run-ts.cjs models/calibrate-digits-relu-mlp.ts
import fs from 'node:fs';
import { BUNDLED_MODELS } from './bundled-models';
import { buildDigitsReluMlpCalibration, formatCalibration } from './build-digits-relu-mlp-calibration';

const file = BUNDLED_MODELS['digits-relu-mlp'].calibration;
const calibration = buildDigitsReluMlpCalibration();
fs.writeFileSync(file, formatCalibration(calibration));
console.log(`wrote ${file}`);
for (const a of calibration.activations) console.log(`  ${a.name} (${a.op}): observed [${a.min.toFixed(3)}, ${a.max.toFixed(3)}] over ${a.count} values`);

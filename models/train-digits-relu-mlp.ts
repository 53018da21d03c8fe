// Script: retrains the TEE digits ReLU MLP and rewrites models/digits-relu-mlp.onnx.
//   node bin/run-ts.cjs models/train-digits-relu-mlp.ts
import fs from 'node:fs';
import { BUNDLED_MODELS } from './bundled-models';
import { buildDigitsReluMlp } from './build-digits-relu-mlp';

const { file } = BUNDLED_MODELS['digits-relu-mlp'];
const { bytes, report } = buildDigitsReluMlp();
fs.writeFileSync(file, bytes);
console.log(`wrote ${file} (${bytes.length} bytes)`);
console.log(JSON.stringify(report, null, 2));

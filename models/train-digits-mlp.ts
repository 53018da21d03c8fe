// Script: retrains the FHE digits MLP and rewrites models/digits-mlp.onnx.
//   node bin/run-ts.cjs models/train-digits-mlp.ts
import fs from 'node:fs';
import { BUNDLED_MODELS } from './bundled-models';
import { buildDigitsMlp } from './build-digits-mlp';

const { file } = BUNDLED_MODELS['digits-mlp'];
const { bytes, report } = buildDigitsMlp();
fs.writeFileSync(file, bytes);
console.log(`wrote ${file} (${bytes.length} bytes)`);
console.log(JSON.stringify(report, null, 2));

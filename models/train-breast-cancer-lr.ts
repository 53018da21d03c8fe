// Script: retrains the breast cancer logistic regression and rewrites models/breast-cancer-lr.onnx.
//   node bin/run-ts.cjs models/train-breast-cancer-lr.ts
import fs from 'node:fs';
import { BUNDLED_MODELS } from './bundled-models';
import { buildBreastCancerLr } from './build-breast-cancer-lr';

const { bytes, report } = buildBreastCancerLr();
fs.writeFileSync(BUNDLED_MODELS['breast-cancer-lr'].file, bytes);
console.log(`wrote ${BUNDLED_MODELS['breast-cancer-lr'].file} (${bytes.length} bytes)`);
console.log(JSON.stringify(report, null, 2));

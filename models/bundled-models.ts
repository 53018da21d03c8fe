import path from 'node:path';
import type { DatasetId } from './load-dataset';

/** Directory holding the committed `.onnx` files. */
export const MODELS_DIR = __dirname;

export type BundledModelTask = 'binary' | 'multiclass';
/** Which Veil backend can serve the model: `fhe` only accepts the op subset the CKKS compiler supports. */
export type BundledModelMode = 'fhe' | 'tee';

export type BundledModel = {
  /** Absolute path of the ONNX file. */
  file: string;
  /** Data set id; load its split with `loadDataset(dataset)`. */
  dataset: DatasetId;
  task: BundledModelTask;
  modes: readonly BundledModelMode[];
  input: { name: string; features: number };
  output: { name: string; size: number; kind: 'probability' | 'logits' };
  description: string;
  /**
   * Absolute path of the committed activation calibration (`<model>.calibration.json`, written by a script in this
   * folder), for models whose non-polynomial activations FHE mode approximates.
   */
  calibration?: string;
};

/** Every model committed under `models/`, keyed by the id clients use. */
export const BUNDLED_MODELS = Object.freeze({
  'breast-cancer-lr': {
    file: path.join(MODELS_DIR, 'breast-cancer-lr.onnx'),
    dataset: 'breast-cancer',
    task: 'binary',
    // Sigmoid is outside the FHE op subset: the FHE backend evaluates the Gemm and returns the logit (or a polynomial sigmoid).
    modes: ['fhe', 'tee'],
    input: { name: 'x', features: 30 },
    output: { name: 'probability', size: 1, kind: 'probability' },
    description: 'Logistic regression on the 30 raw Wisconsin breast cancer features; P(benign). Gemm → Sigmoid.',
  },
  'digits-mlp': {
    file: path.join(MODELS_DIR, 'digits-mlp.onnx'),
    dataset: 'digits',
    task: 'multiclass',
    modes: ['fhe', 'tee'],
    input: { name: 'x', features: 64 },
    output: { name: 'logits', size: 10, kind: 'logits' },
    description: 'MLP 64 → 32 → x² → 10 on raw 8×8 digit pixels (0..16); Gemm, Mul(z,z), Gemm only, so CKKS can evaluate it.',
  },
  'digits-relu-mlp': {
    file: path.join(MODELS_DIR, 'digits-relu-mlp.onnx'),
    dataset: 'digits',
    task: 'multiclass',
    // Relu has no exact CKKS evaluation: FHE mode serves calibrated Chebyshev approximations of both Relus.
    modes: ['fhe', 'tee'],
    input: { name: 'x', features: 64 },
    output: { name: 'logits', size: 10, kind: 'logits' },
    description: 'MLP 64 → 128 → Relu → 64 → Relu → 10 on raw 8×8 digit pixels (0..16); TEE exact, FHE with calibrated Relu approximations.',
    calibration: path.join(MODELS_DIR, 'digits-relu-mlp.calibration.json'),
  },
  'digits-cnn': {
    file: path.join(MODELS_DIR, 'digits-cnn.onnx'),
    dataset: 'digits',
    task: 'multiclass',
    // Trained for FHE: everything but the square is linear, so CKKS evaluates it exactly (depth 3, no calibration).
    modes: ['fhe', 'tee'],
    input: { name: 'x', features: 64 },
    output: { name: 'logits', size: 10, kind: 'logits' },
    description: 'CNN on raw 8×8 digit pixels (0..16): Reshape → Conv 1→8 3×3 stride 2 → x² → Gemm 128→10 (PyTorch export).',
  },
} as const satisfies Record<string, BundledModel>);

export type BundledModelId = keyof typeof BUNDLED_MODELS;

/** True if `id` names a bundled model. */
export function isBundledModelId(id: string): id is BundledModelId {
  return Object.hasOwn(BUNDLED_MODELS, id);
}

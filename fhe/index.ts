/**
 * Veil's CKKS core, shared by the client SDK and the server workers: ONNX → plan compiler, SEAL runtime, plan
 * evaluation, packing, key handling. Everything else in fhe/ is internal.
 */
export type { CkksParameters } from './ckks-parameters';
export { selectCkksParameters } from './ckks-parameters';
export type { FheModelSpec, FhePlan, FheOp, FheLayout, FheLayoutKind, FheBlocksLayout, FheFeatureMajorLayout, FheTableRowsLayout, FheLayerStats, FhePostprocess, FheActivationApproximation } from './fhe-plan';
export { compileOnnx, estimateKeyBytes, DEFAULT_MAX_DEPTH } from './compile-onnx';
export { compileSimilarityTable } from './compile-similarity-table';
export type { SimilarityTable, CompileSimilarityTableOptions } from './compile-similarity-table';
export { topK } from './top-k';
export { calibrateActivations, DEFAULT_CALIBRATION_MARGIN } from './calibrate-activations';
export type { ActivationCalibration, CalibrateActivationsOptions, FheCalibration } from './calibrate-activations';
export { parseCalibration } from './parse-calibration';
export { DEFAULT_ACTIVATION_TOLERANCE } from './approximate-activations';
export { simulatePlan } from './simulate-plan';
export { measureApproximations } from './measure-approximations';
export type { ActivationCheck } from './measure-approximations';
export type { CompileOnnxOptions } from './compile-onnx';
export { logitsModel } from './logits-model';
export { loadSeal } from './load-seal';
export type { SEALLibrary } from './load-seal';
export { createCkksRuntime } from './create-ckks-runtime';
export type { CkksRuntime } from './create-ckks-runtime';
export { createPlanEvaluator } from './create-plan-evaluator';
export type { PlanEvaluator, PlanEvaluationKeys, PlanStage } from './create-plan-evaluator';
export { planSplitStages } from './split-linear-terms';
export { loadCiphertext } from './load-ciphertext';
export { loadEvaluationKeys } from './load-evaluation-keys';
export { evaluationKeySizes } from './evaluation-key-sizes';
export type { EvaluationKeySizes } from './evaluation-key-sizes';
export type { EvaluationKeyBytes, LoadedEvaluationKeys } from './load-evaluation-keys';
export { packInputs } from './pack-inputs';
export { unpackOutputs } from './unpack-outputs';
export { applyPostprocess } from './apply-postprocess';
export { createFheClientKeys } from './create-fhe-client-keys';
export type { FheClientKeys } from './create-fhe-client-keys';
export { FheCompileError, FheInputError, isSealAbort } from './errors';
export type { FheCompileErrorCode, FheInputErrorCode } from './errors';
export { measureBarePlan } from './measure-bare-plan';
export type { MeasureBarePlanOptions, MeasureBarePlanResult, LatencySummary } from './measure-bare-plan';
export { FHE_VARIANTS, DEFAULT_FHE_VARIANT, chooseFheVariant, isDistinctVariant, isFheVariant } from './fhe-variants';
export type { FheVariant } from './fhe-variants';
export { protectDecryptedOutputs, DEFAULT_OUTPUT_PRECISION } from './protect-decrypted-outputs';
export type { OutputPrecision } from './protect-decrypted-outputs';

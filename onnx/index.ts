export { readOnnxModel } from './read-onnx-model';
export { writeOnnxModel } from './write-onnx-model';
export type { WriteOnnxAttribute, WriteOnnxModelParameters, WriteOnnxNode, WriteOnnxTensor, WriteOnnxValueInfo } from './write-onnx-model';
export type { OnnxAttributeValue, OnnxDim, OnnxGraph, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-model';
export { OnnxError } from './onnx-error';
export type { OnnxErrorCode } from './onnx-error';
// onnxModelType: the raw ModelProto type, for rewrites that must keep every field (fhe/logits-model.ts drops a final node).
export { OnnxDataType, onnxModelType } from './onnx-schema';

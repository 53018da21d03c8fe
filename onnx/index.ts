export { readOnnxModel } from './read-onnx-model';
export { writeOnnxModel } from './write-onnx-model';
export type { WriteOnnxAttribute, WriteOnnxModelParameters, WriteOnnxNode, WriteOnnxTensor, WriteOnnxValueInfo } from './write-onnx-model';
export type { OnnxAttributeValue, OnnxDim, OnnxGraph, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-model';
export { OnnxError } from './onnx-error';
export type { OnnxErrorCode } from './onnx-error';
export { OnnxDataType } from './onnx-schema';

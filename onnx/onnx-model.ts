/** A decoded ONNX tensor: numeric data widened to Float64Array (int64 values must fit in 2^53). */
export type OnnxTensor = { name: string; dims: number[]; dataType: number; data: Float64Array };

export type OnnxAttributeValue = number | number[] | string | string[] | OnnxTensor;

export type OnnxNode = {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttributeValue>;
};

/** A dimension is a fixed size, a named symbolic size (e.g. "batch"), or unknown (null). */
export type OnnxDim = number | string | null;

export type OnnxValueInfo = { name: string; elemType: number; shape: OnnxDim[] | null };

export type OnnxGraph = {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
};

export type OnnxModel = {
  irVersion: number;
  /** Version of the default ("" / "ai.onnx") operator set. */
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
};

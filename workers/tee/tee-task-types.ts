/** Plain data crossing the TEE worker boundary (structured-cloned; tensor buffers moved). @internal */
export type WireTensor = { name: string; dims: number[]; data: Float32Array };

export type TeeWorkerData = {
  /** Model id → absolute ONNX file path. */
  models: Record<string, string>;
  intraOpThreads: number;
  /** BroadcastChannel name on which the pool asks every worker to release its sessions before closing. */
  releaseChannel: string;
};

export type TeeRunTask = { modelId: string; inputs: WireTensor[] };
export type TeeRunResult = { outputs: WireTensor[]; computeMicros: number };

/** Messages a worker posts to the pool (through parentPort). */
export type TeeWorkerMessage = { veilTeeWorkerReady: number } | { veilTeeWorkerReleased: number };

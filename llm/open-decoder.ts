import * as ort from 'onnxruntime-node';
import { LlmError } from './llm-error';
import { intField, type ModelFolder } from './read-model-folder';

/** The shape a decoder's KV cache has, from config.json. */
export type DecoderShape = { layers: number; kvHeads: number; headDim: number; vocab: number; contextLength: number };

/** One sequence's KV cache: `present.*` outputs of the last step, in layer order (key, value, key, value, …). */
export type KvCache = { length: number; tensors: ort.Tensor[] };

export type Decoder = {
  shape: DecoderShape;
  /**
   * Runs `ids` after `cache` (undefined = empty past) and returns the logits of the last position plus the grown
   * cache. One sequence at a time: batch 1, no padding, so attention_mask is all ones.
   */
  forward(ids: readonly number[], cache: KvCache | undefined): Promise<{ logits: Float32Array; cache: KvCache }>;
  release(): Promise<void>;
};

export type OpenDecoderOptions = { intraOpThreads?: number };

/**
 * Opens `onnx/model.onnx` of a decoder export with KV cache (Optimum's `text-generation-with-past` names:
 * `input_ids`, `attention_mask`, optional `position_ids`, `past_key_values.N.key|value` → `logits`,
 * `present.N.key|value`) and checks the graph has exactly the cache config.json describes.
 */
export async function openDecoder(folder: ModelFolder, options: OpenDecoderOptions = {}): Promise<Decoder> {
  const where = `${folder.dir}/config.json`;
  const c = folder.config;
  const heads = intField(c, 'num_attention_heads', where);
  const hidden = intField(c, 'hidden_size', where);
  const shape: DecoderShape = {
    layers: intField(c, 'num_hidden_layers', where),
    kvHeads: intField(c, 'num_key_value_heads', where, heads),
    headDim: intField(c, 'head_dim', where, Math.floor(hidden / heads)),
    vocab: intField(c, 'vocab_size', where),
    contextLength: Math.min(
      intField(c, 'max_position_embeddings', where),
      typeof folder.tokenizerConfig.model_max_length === 'number' && folder.tokenizerConfig.model_max_length > 0 ? folder.tokenizerConfig.model_max_length : Infinity,
    ),
  };
  const session = await ort.InferenceSession.create(folder.onnxFile, {
    executionProviders: ['cpu'],
    intraOpNumThreads: options.intraOpThreads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const pastNames = Array.from({ length: shape.layers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
  const presentNames = Array.from({ length: shape.layers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
  const missing = [
    ...['input_ids', 'attention_mask', ...pastNames].filter((n) => !session.inputNames.includes(n)).map((n) => `input ${n}`),
    ...['logits', ...presentNames].filter((n) => !session.outputNames.includes(n)).map((n) => `output ${n}`),
  ];
  if (missing.length > 0) {
    await session.release();
    throw new LlmError('llm_model_invalid', `${folder.onnxFile} is not a decoder with KV cache for ${shape.layers} layers: missing ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''}`);
  }
  const takesPositions = session.inputNames.includes('position_ids');
  const emptyPast = () => pastNames.map(() => new ort.Tensor('float32', new Float32Array(0), [1, shape.kvHeads, 0, shape.headDim]));

  return {
    shape,
    async forward(ids, cache) {
      const past = cache?.length ?? 0;
      const total = past + ids.length;
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      };
      if (takesPositions) feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from(ids, (_, k) => BigInt(past + k)), [1, ids.length]);
      const pastTensors = cache?.tensors ?? emptyPast();
      pastNames.forEach((name, k) => { feeds[name] = pastTensors[k]!; });
      const out = await session.run(feeds);
      const logitsTensor = out.logits!;
      const vocab = logitsTensor.dims[2]!;
      const data = logitsTensor.data as Float32Array;
      const logits = data.slice((ids.length - 1) * vocab, ids.length * vocab);
      logitsTensor.dispose();
      for (const t of pastTensors) t.dispose();
      return { logits, cache: { length: total, tensors: presentNames.map((n) => out[n]!) } };
    },
    release: () => session.release(),
  };
}

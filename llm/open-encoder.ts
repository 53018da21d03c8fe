import * as ort from 'onnxruntime-node';
import type { ModelTokenizer } from './create-model-tokenizer';
import type { StepScheduler } from './create-step-scheduler';
import { LlmError } from './llm-error';
import { intField, type ModelFolder } from './read-model-folder';

export type Embeddings = { vectors: Float32Array[]; promptTokens: number };

export type Encoder = {
  dimensions: number;
  contextLength: number;
  /** One vector per input, pooled and normalised as the folder's sentence-transformers modules say. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Embeddings>;
  release(): Promise<void>;
};

const BATCH = 16;

export type OpenEncoderOptions = {
  intraOpThreads?: number;
  /** Each batch waits its turn here, so a long embeddings request shares the node fairly with generations. */
  scheduler?: StepScheduler;
};

/**
 * Opens an encoder export (`input_ids`, `attention_mask`, optional `token_type_ids` → `last_hidden_state`) for
 * embeddings: mean (or CLS / max) pooling over real tokens and L2 normalisation, as sentence-transformers computes
 * them. Without `modules.json` the default is mean pooling plus normalisation, what most embedding exports use.
 */
export async function openEncoder(folder: ModelFolder, tokenizer: ModelTokenizer, options: OpenEncoderOptions = {}): Promise<Encoder> {
  const where = `${folder.dir}/config.json`;
  const dimensions = intField(folder.config, 'hidden_size', where);
  const contextLength = Math.min(
    intField(folder.config, 'max_position_embeddings', where),
    typeof folder.tokenizerConfig.model_max_length === 'number' && folder.tokenizerConfig.model_max_length > 0 ? folder.tokenizerConfig.model_max_length : Infinity,
  );
  const pooling = folder.pooling ?? { mode: 'mean' as const, normalize: true };
  const session = await ort.InferenceSession.create(folder.onnxFile, {
    executionProviders: ['cpu'], intraOpNumThreads: options.intraOpThreads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  const missing = [...['input_ids', 'attention_mask'].filter((n) => !session.inputNames.includes(n)).map((n) => `input ${n}`),
    ...(session.outputNames.includes('last_hidden_state') ? [] : ['output last_hidden_state'])];
  if (missing.length > 0) {
    await session.release();
    throw new LlmError('llm_model_invalid', `${folder.onnxFile} is not an encoder export: missing ${missing.join(', ')}`);
  }
  const takesTypes = session.inputNames.includes('token_type_ids');
  // OpenAI's wording for embeddings, plus which input; never any of its text.
  const tooLong = (i: number, tokens: number, bound: string) => new LlmError('context_length_exceeded',
    `This model's maximum context length is ${contextLength} tokens, however you requested ${bound}${tokens} tokens (${bound}${tokens} in your prompt; 0 for the completion) in input[${i}]. Please reduce your prompt; or completion length.`,
    { param: 'input', inputIndex: i, contextLength, promptTokens: tokens });

  async function embedBatch(rows: number[][]): Promise<Float32Array[]> {
    const width = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * width);
    const mask = new BigInt64Array(rows.length * width);
    rows.forEach((r, b) => r.forEach((id, k) => { ids[b * width + k] = BigInt(id); mask[b * width + k] = 1n; }));
    const dims = [rows.length, width];
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, dims), attention_mask: new ort.Tensor('int64', mask, dims) };
    if (takesTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(rows.length * width), dims);
    const out = await session.run(feeds);
    const hidden = out.last_hidden_state!;
    const h = hidden.data as Float32Array;
    const d = hidden.dims[2]!;
    const vectors = rows.map((r, b) => {
      const v = new Float32Array(d);
      const at = (k: number) => (b * width + k) * d;
      if (pooling.mode === 'cls') v.set(h.subarray(at(0), at(0) + d));
      else if (pooling.mode === 'max') {
        v.fill(-Infinity);
        for (let k = 0; k < r.length; k++) for (let j = 0; j < d; j++) v[j] = Math.max(v[j]!, h[at(k) + j]!);
      } else {
        for (let k = 0; k < r.length; k++) for (let j = 0; j < d; j++) v[j]! += h[at(k) + j]!;
        for (let j = 0; j < d; j++) v[j]! /= r.length;
      }
      if (pooling.normalize) {
        let norm = 0;
        for (let j = 0; j < d; j++) norm += v[j]! * v[j]!;
        norm = Math.sqrt(norm) || 1;
        for (let j = 0; j < d; j++) v[j]! /= norm;
      }
      return v;
    });
    hidden.dispose();
    return vectors;
  }

  return {
    dimensions,
    contextLength,
    async embed(texts, signal) {
      if (!Array.isArray(texts) || texts.length === 0) throw new LlmError('invalid_input', 'input must be a non-empty string or list of strings', { param: 'input' });
      // The cheap bound first, for every input: a request with one input far too long is refused before any work.
      texts.forEach((t, i) => {
        if (typeof t !== 'string' || t.length === 0) throw new LlmError('invalid_input', `input[${i}] must be a non-empty string`, { param: 'input' });
        const atLeast = tokenizer.leastTokens(t);
        if (atLeast > contextLength) throw tooLong(i, atLeast, 'at least ');
      });
      // Tokenizing is synchronous: done batch by batch, inside each batch's turn, so a request of 2,048 inputs
      // does not hold the event loop (and every stream on the node) for the whole of its tokenization.
      const tokenize = (t: string, i: number) => {
        const ids = tokenizer.encode(t);
        if (ids.length > contextLength) throw tooLong(i, ids.length, '');
        return ids;
      };
      const vectors: Float32Array[] = [];
      let promptTokens = 0;
      for (let i = 0; i < texts.length; i += BATCH) {
        if (signal?.aborted) throw new LlmError('cancelled', 'the request was cancelled');
        const run = async () => {
          const batch = texts.slice(i, i + BATCH).map((t, k) => tokenize(t, i + k));
          promptTokens += batch.reduce((n, r) => n + r.length, 0);
          return embedBatch(batch);
        };
        const step = options.scheduler ? options.scheduler.run(run, signal) : run();
        vectors.push(...(await step.catch((err: unknown) => {
          if (signal?.aborted) throw new LlmError('cancelled', 'the request was cancelled');
          throw err;
        })));
      }
      return { vectors, promptTokens };
    },
    release: () => session.release(),
  };
}

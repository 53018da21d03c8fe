import { createModelTokenizer, type ModelTokenizer } from './create-model-tokenizer';
import { createStepScheduler, type StepScheduler } from './create-step-scheduler';
import { generateChat, type ChatEvent, type ChatRequest } from './generate-chat';
import { LlmError } from './llm-error';
import { openDecoder, type Decoder } from './open-decoder';
import { openEncoder, type Embeddings } from './open-encoder';
import { readModelFolder } from './read-model-folder';

export type ChatModel = {
  kind: 'chat';
  id: string;
  contextLength: number;
  tokenizer: ModelTokenizer;
  decoder: Decoder;
  scheduler: StepScheduler;
  chat(request: ChatRequest, signal?: AbortSignal): AsyncGenerator<ChatEvent>;
  release(): Promise<void>;
};

export type EmbeddingModel = {
  kind: 'embedding';
  id: string;
  contextLength: number;
  dimensions: number;
  scheduler: StepScheduler;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Embeddings>;
  release(): Promise<void>;
};

export type LanguageModel = ChatModel | EmbeddingModel;

export type LoadLanguageModelOptions = {
  id: string;
  /** onnxruntime intra-op threads per model step. */
  intraOpThreads?: number;
  /** Model steps (of any request) that may run at once; the rest wait their turn in arrival order. */
  concurrency?: number;
  /**
   * A scheduler to share with other models (the node's cores are one resource, so one scheduler grants turns across
   * all its models); when given, `concurrency` is ignored.
   */
  scheduler?: StepScheduler;
};

/**
 * Loads a standard Hugging Face ONNX export folder: a decoder with KV cache becomes a chat model (tokenizer, chat
 * template, generation loop), an encoder becomes an embedding model. The kind is read from config.json
 * (`architectures` / `model_type`): decoders are `*ForCausalLM`, everything else is treated as an encoder.
 */
export async function loadLanguageModel(dir: string, options: LoadLanguageModelOptions): Promise<LanguageModel> {
  const folder = readModelFolder(dir);
  const scheduler = options.scheduler ?? createStepScheduler(options.concurrency ?? 1);
  const tokenizer = createModelTokenizer(folder);
  const architectures = Array.isArray(folder.config.architectures) ? folder.config.architectures.map(String) : [];
  const isDecoder = architectures.some((a) => a.endsWith('ForCausalLM')) || folder.config.is_decoder === true;
  if (isDecoder) {
    if (folder.chatTemplate === undefined) throw new LlmError('llm_model_invalid', `${dir} is a decoder without a chat template (tokenizer_config.json chat_template or chat_template.jinja)`);
    const decoder = await openDecoder(folder, { intraOpThreads: options.intraOpThreads });
    const deps = { decoder, tokenizer, scheduler };
    return {
      kind: 'chat', id: options.id, contextLength: decoder.shape.contextLength, tokenizer, decoder, scheduler,
      chat: (request, signal) => generateChat(deps, request, signal),
      release: () => decoder.release(),
    };
  }
  const encoder = await openEncoder(folder, tokenizer, { intraOpThreads: options.intraOpThreads, scheduler });
  return {
    kind: 'embedding', id: options.id, contextLength: encoder.contextLength, dimensions: encoder.dimensions, scheduler,
    embed: (texts, signal) => encoder.embed(texts, signal),
    release: () => encoder.release(),
  };
}

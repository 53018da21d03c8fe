import type { TeeOperation } from '../../tee';

/** What a TEE node needs from its language models (llm/ `LanguageHost` has this shape; contract in issue #10). */
export type TeeLanguageModelInfo = { id: string; kind: 'chat' | 'embedding'; contextLength: number };

export type TeeLanguageHost = {
  readonly models: readonly TeeLanguageModelInfo[];
  /** Non-streaming chat.completions and embeddings: the OpenAI response object. Errors are coded (`invalid_input`, `unsupported_parameter`, …) with `param`. */
  run(operation: TeeOperation, modelId: string, request: unknown, signal?: AbortSignal): Promise<object>;
  /**
   * Streaming chat: chat.completion.chunk objects in order. Validation errors are thrown by the first `next()`.
   * `meter` gets the tokens read and generated so far just before each chunk (llm/ `StreamMeter`).
   */
  stream(modelId: string, request: unknown, signal?: AbortSignal, meter?: (usage: { promptTokens: number; completionTokens: number }) => void): AsyncIterable<object>;
  close(): Promise<void>;
};

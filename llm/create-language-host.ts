import { randomBytes } from 'node:crypto';
import { encodeFloat32Base64 } from './encode-float32-base64';
import { coalesceChatDeltas } from './coalesce-chat-deltas';
import { padStreamChunk } from './pad-stream-chunk';
import type { ChatUsage } from './generate-chat';
import { LlmError } from './llm-error';
import type { ChatModel, EmbeddingModel, LanguageModel } from './load-language-model';
import { parseChatCompletionRequest, type ChatCompletionRequest } from './parse-chat-completion-request';
import { parseEmbeddingsRequest } from './parse-embeddings-request';
import { invalid, unsupported } from './request-fields';

export type LanguageModelInfo = { id: string; kind: 'chat' | 'embedding'; contextLength: number };

export type LanguageOperation = 'chat.completions' | 'embeddings';

/** Receives a stream's cumulative usage just before each chunk it belongs to. */
export type StreamMeter = (usage: ChatUsage) => void;

export type LanguageHost = {
  readonly models: readonly LanguageModelInfo[];
  /** Non-streaming: chat.completions (stream absent/false) and embeddings → the OpenAI response object. */
  run(operation: LanguageOperation, modelId: string, request: unknown, signal?: AbortSignal): Promise<object>;
  /**
   * Streaming chat (request.stream === true): chat.completion.chunk objects, in order, incl. the usage chunk when
   * asked. Every refusal (bad parameter, unknown model, prompt too long) and a failing prefill reject the first
   * `next()`, before any chunk, so the caller can answer them as plain errors; later failures reject a later `next()`.
   * Stopping the iteration early (`return()`, `break`) ends the generation and frees its KV cache.
   * `meter`, when given, is called just before each chunk is yielded with the tokens read and generated so far, that
   * chunk's included: what a TEE node signs and a paid stream is charged by (issue #11), never any text.
   */
  stream(modelId: string, request: unknown, signal?: AbortSignal, meter?: StreamMeter): AsyncIterable<object>;
  /** Cancels what is running (`cancelled`), waits for the model steps in progress, then releases every ORT session. */
  close(): Promise<void>;
};

export type CreateLanguageHostOptions = {
  models: readonly LanguageModel[];
  /** Wall clock in milliseconds, for `created`. */
  now?: () => number;
  /**
   * A stream sends the text generated in each window of this many ms as one chunk, the first token at once
   * (coalesceChatDeltas). Default 16 (one frame at 60 Hz); 0 sends a chunk per token.
   */
  streamWindowMs?: number;
};

export const DEFAULT_STREAM_WINDOW_MS = 16;

/**
 * Serves loaded language models in OpenAI's JSON on both sides: the request object exactly as an app sends it to
 * `/v1/chat/completions` or `/v1/embeddings`, and the response (or `chat.completion.chunk` stream) an OpenAI client
 * parses. Requests of all models share their models' step scheduler, so concurrent streams interleave token by token.
 */
export function createLanguageHost(options: CreateLanguageHostOptions): LanguageHost {
  const now = options.now ?? Date.now;
  const streamWindowMs = options.streamWindowMs ?? DEFAULT_STREAM_WINDOW_MS;
  if (!Number.isFinite(streamWindowMs) || streamWindowMs < 0 || streamWindowMs > 1000) throw new RangeError('streamWindowMs must be 0..1000');
  const byId = new Map<string, LanguageModel>();
  for (const m of options.models) {
    if (byId.has(m.id)) throw new LlmError('llm_model_invalid', `two models have the id ${m.id}`);
    byId.set(m.id, m);
  }
  const models = Object.freeze([...byId.values()].map((m) => Object.freeze({ id: m.id, kind: m.kind, contextLength: m.contextLength })));

  let closed: Promise<void> | undefined;
  // One controller per request, aborted by the caller's signal or by close(). Not AbortSignal.any over a host-wide
  // signal: its dependants stay registered on the long-lived signal (nodejs/node#55351), one per request.
  const active = new Set<AbortController>();
  const link = (signal?: AbortSignal) => {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    if (signal?.aborted) controller.abort(signal.reason);
    else signal?.addEventListener('abort', onAbort, { once: true });
    active.add(controller);
    return { signal: controller.signal, unlink: () => { active.delete(controller); signal?.removeEventListener('abort', onAbort); } };
  };
  // Model work in progress (a run, or one pull of a stream); close() waits for it before releasing the sessions it uses.
  const busy = new Set<Promise<unknown>>();
  const work = <T>(p: Promise<T>): Promise<T> => {
    busy.add(p);
    p.then(() => busy.delete(p), () => busy.delete(p));
    return p;
  };
  const created = () => Math.floor(now() / 1000);

  function find<K extends LanguageModel['kind']>(modelId: string, kind: K): Extract<LanguageModel, { kind: K }> {
    if (closed) throw new LlmError('cancelled', 'the language host is closed');
    const model = byId.get(modelId);
    if (!model) throw new LlmError('model_not_found', `The model ${printableId(modelId)} does not exist.`, { param: 'model' });
    if (model.kind !== kind) {
      const serves = model.kind === 'chat' ? 'chat completions, not embeddings' : 'embeddings, not chat completions';
      throw invalid('model', `The model ${model.id} serves ${serves}.`);
    }
    return model as Extract<LanguageModel, { kind: K }>;
  }

  // The body names its model too; it must be the one the request was routed to (the receipt names that one).
  function checkBodyModel(bodyModel: string, modelId: string): void {
    if (bodyModel !== modelId) throw invalid('model', 'model in the body differs from the model the request was routed to');
  }

  async function chatCompletion(modelId: string, request: unknown, signal?: AbortSignal): Promise<object> {
    const model = find(modelId, 'chat');
    const parsed = parseChatCompletionRequest(request);
    checkBodyModel(parsed.model, modelId);
    if (parsed.stream) throw invalid('stream', 'a stream: true request is served as a stream');
    let content = '';
    const linked = link(signal);
    try {
      for await (const event of model.chat(parsed.chat, linked.signal)) {
        if (event.type === 'delta') content += event.text;
        else {
          return {
            id: completionId(), object: 'chat.completion', created: created(), model: modelId,
            choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: event.finishReason }],
            usage: usageObject(event.usage),
          };
        }
      }
      throw new Error('the generation ended without a finish event');
    } finally {
      linked.unlink();
    }
  }

  async function embeddings(modelId: string, request: unknown, signal?: AbortSignal): Promise<object> {
    const model: EmbeddingModel = find(modelId, 'embedding');
    const parsed = parseEmbeddingsRequest(request);
    checkBodyModel(parsed.model, modelId);
    if (parsed.dimensions !== undefined && parsed.dimensions !== model.dimensions) {
      // Shortening is only meaningful for Matryoshka-trained models (OpenAI's text-embedding-3); cutting others' vectors spoils them.
      throw unsupported('dimensions', `The model ${model.id} makes ${model.dimensions}-dimensional embeddings and cannot shorten them; omit dimensions or set it to ${model.dimensions}.`);
    }
    const linked = link(signal);
    const { vectors, promptTokens } = await model.embed(parsed.input, linked.signal).finally(linked.unlink);
    return {
      object: 'list',
      data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: parsed.encodingFormat === 'base64' ? encodeFloat32Base64(v) : float32List(v) })),
      model: modelId,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  }

  async function* chatChunks(model: ChatModel, modelId: string, parsed: ChatCompletionRequest, signal?: AbortSignal, meter?: StreamMeter): AsyncGenerator<object> {
    const id = completionId();
    const at = created();
    const usageField = parsed.includeUsage ? { usage: null } : {};
    const pad = <T extends object>(c: T): object => (parsed.includeObfuscation ? padStreamChunk(c) : c);
    const chunk = (delta: object, finishReason: string | null) => pad({
      id, object: 'chat.completion.chunk', created: at, model: modelId,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...usageField,
    });
    const linked = link(signal);
    const events = coalesceChatDeltas(model.chat(parsed.chat, linked.signal), { windowMs: streamWindowMs });
    try {
      // The first event is pulled before anything is sent: a prompt that does not fit, or a failing prefill, then
      // rejects the first next() and the caller can still answer with a plain error instead of a broken stream.
      let next = await work(events.next());
      // The prompt was read before the first event: the opening chunk is metered with it and no completion yet.
      const first = next.done ? undefined : next.value.usage;
      meter?.({ promptTokens: first?.promptTokens ?? 0, completionTokens: 0 });
      yield chunk({ role: 'assistant', content: '' }, null);
      while (!next.done) {
        const event = next.value;
        if (event.usage) meter?.(event.usage);
        if (event.type === 'delta') yield chunk({ content: event.text }, null);
        else {
          yield chunk({}, event.finishReason);
          if (parsed.includeUsage) yield pad({ id, object: 'chat.completion.chunk', created: at, model: modelId, choices: [], usage: usageObject(event.usage) });
        }
        next = await work(events.next());
      }
    } finally {
      linked.unlink();
      await events.return(undefined);
    }
  }

  return {
    models,
    run(operation, modelId, request, signal) {
      if (operation === 'chat.completions') return work(chatCompletion(modelId, request, signal));
      if (operation === 'embeddings') return work(embeddings(modelId, request, signal));
      return Promise.reject(new LlmError('invalid_input', 'the operation must be chat.completions or embeddings'));
    },
    stream(modelId, request, signal, meter) {
      // Checked when iterated (the first next()), so every error reaches the caller the same way.
      return (async function* () {
        const model = find(modelId, 'chat');
        const parsed = parseChatCompletionRequest(request);
        checkBodyModel(parsed.model, modelId);
        if (!parsed.stream) throw invalid('stream', 'stream is not true: the request asks for one response, not a stream');
        yield* chatChunks(model, modelId, parsed, signal, meter);
      })();
    },
    close() {
      closed ??= (async () => {
        for (const controller of active) controller.abort(new LlmError('cancelled', 'the language host is closed'));
        await Promise.allSettled([...busy]);
        await Promise.all([...byId.values()].map((m) => m.release()));
      })();
      return closed;
    },
  };
}

function usageObject(usage: ChatUsage) {
  return { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens };
}

/** OpenAI-style `chatcmpl-…` id: random, so ids neither collide across nodes nor reveal request counts. */
function completionId(): string {
  return `chatcmpl-${randomBytes(12).toString('hex')}`;
}

/**
 * The vector as JSON numbers of nine significant digits: enough to give back every float32 exactly
 * (Math.fround(x) is the original), so float and base64 responses carry the same numbers, at half the text.
 */
function float32List(v: Float32Array): number[] {
  return Array.from(v, (x) => Number(x.toPrecision(9)));
}

/** Model ids come from a routing header; print one only if it looks like an id. */
function printableId(id: string): string {
  return /^[A-Za-z0-9_.:/-]{1,128}$/.test(id) ? id : '(unprintable)';
}

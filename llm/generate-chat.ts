import { randomInt } from 'node:crypto';
import { createSeededRandom } from './create-seeded-random';
import { createStopMatcher } from './create-stop-matcher';
import type { StepScheduler } from './create-step-scheduler';
import type { ChatMessage, ModelTokenizer } from './create-model-tokenizer';
import { LlmError } from './llm-error';
import type { Decoder, KvCache } from './open-decoder';
import { checkSamplingParameters, sampleNextToken } from './sample-next-token';

export type ChatRequest = {
  messages: readonly ChatMessage[];
  /** OpenAI `max_tokens` / `max_completion_tokens`; default: what is left of the context window. */
  maxTokens?: number;
  temperature: number;
  topP: number;
  /** Makes sampling repeatable; drawn at random when absent. */
  seed?: number;
  stop: readonly string[];
};

export type ChatUsage = { promptTokens: number; completionTokens: number };

export type ChatEvent =
  /** `usage`: the tokens read and generated so far, the text's included (what a stream is metered by, issue #11). */
  | { type: 'delta'; text: string; usage?: ChatUsage }
  | { type: 'done'; finishReason: 'stop' | 'length'; usage: ChatUsage };

export type GenerateChatDependencies = { decoder: Decoder; tokenizer: ModelTokenizer; scheduler: StepScheduler };

const ROLES = new Set(['system', 'user', 'assistant']);
const MAX_STOPS = 4;

/** Checks an OpenAI-style chat request's shape before any token is computed; messages name the parameter. */
export function checkChatRequest(request: ChatRequest): void {
  if (!Array.isArray(request.messages) || request.messages.length === 0) throw new LlmError('invalid_input', 'messages must be a non-empty list', { param: 'messages' });
  request.messages.forEach((m, i) => {
    if (!ROLES.has(m?.role)) throw new LlmError('invalid_input', `messages[${i}].role must be system, user or assistant`, { param: `messages[${i}].role` });
    if (typeof m.content !== 'string') throw new LlmError('invalid_input', `messages[${i}].content must be a string`, { param: `messages[${i}].content` });
  });
  checkSamplingParameters(request);
  if (request.maxTokens !== undefined && (!Number.isInteger(request.maxTokens) || request.maxTokens < 1)) {
    throw new LlmError('invalid_input', 'max_tokens must be a positive integer', { param: 'max_tokens' });
  }
  if (request.seed !== undefined && !Number.isSafeInteger(request.seed)) throw new LlmError('invalid_input', 'seed must be an integer', { param: 'seed' });
  if (!Array.isArray(request.stop) || request.stop.length > MAX_STOPS || request.stop.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new LlmError('invalid_input', `stop must be up to ${MAX_STOPS} non-empty strings`, { param: 'stop' });
  }
}

/**
 * Generates one chat completion as a stream of text deltas and a final event with the finish reason and token
 * usage. The prompt is the model's own chat template; every model step waits its turn on the node's scheduler, so
 * concurrent requests interleave token by token. Stops at an eos token or a stop sequence (`stop`), or after
 * `maxTokens` / at the end of the context window (`length`). Cancellation is checked before every step.
 */
export async function* generateChat(deps: GenerateChatDependencies, request: ChatRequest, signal?: AbortSignal): AsyncGenerator<ChatEvent> {
  checkChatRequest(request);
  const { decoder, tokenizer, scheduler } = deps;
  const context = decoder.shape.contextLength;
  const rendered = tokenizer.renderChat(request.messages);
  const atLeast = tokenizer.leastTokens(rendered);
  if (atLeast >= context) {
    throw new LlmError('context_length_exceeded', `This model's maximum context length is ${context} tokens. However, your messages resulted in at least ${atLeast} tokens. Please reduce the length of the messages.`, {
      param: 'messages', promptTokens: atLeast, contextLength: context,
    });
  }
  const prompt = tokenizer.encode(rendered, { addSpecialTokens: false });
  if (prompt.length >= context || (request.maxTokens !== undefined && prompt.length + request.maxTokens > context)) {
    // OpenAI's wording (clients and people recognise it), with sizes only: never any of the messages' text.
    const message = request.maxTokens !== undefined && prompt.length < context
      ? `This model's maximum context length is ${context} tokens. However, you requested ${prompt.length + request.maxTokens} tokens (${prompt.length} in the messages, ${request.maxTokens} in the completion). Please reduce the length of the messages or completion.`
      : `This model's maximum context length is ${context} tokens. However, your messages resulted in ${prompt.length} tokens${prompt.length === context ? ', leaving no room for a completion' : ''}. Please reduce the length of the messages.`;
    throw new LlmError('context_length_exceeded', message, {
      param: 'messages', promptTokens: prompt.length, contextLength: context,
    });
  }
  const budget = request.maxTokens ?? context - prompt.length;
  const random = createSeededRandom(request.seed ?? randomInt(0, 2 ** 32));
  const eos = new Set(tokenizer.eosIds);
  const stops = createStopMatcher(request.stop);
  const text = tokenizer.createStreamDecoder();

  let cache: KvCache | undefined;
  let next = prompt;
  let produced = 0;
  let finishReason: 'stop' | 'length' = 'length';
  let stoppedBySequence = false;
  try {
    while (produced < budget) {
      if (signal?.aborted) throw new LlmError('cancelled', 'the request was cancelled during generation');
      const input = next;
      const step = await scheduler.run(() => decoder.forward(input, cache), signal).catch((err: unknown) => {
        if (signal?.aborted) throw new LlmError('cancelled', 'the request was cancelled during generation');
        throw err;
      });
      cache = step.cache;
      const token = sampleNextToken(step.logits, request, random);
      if (eos.has(token)) {
        finishReason = 'stop';
        break;
      }
      produced++;
      const { emit, stopped } = stops.push(text.push(token));
      if (emit) yield { type: 'delta', text: emit, usage: { promptTokens: prompt.length, completionTokens: produced } };
      if (stopped) {
        finishReason = 'stop';
        stoppedBySequence = true;
        break;
      }
      next = [token];
    }
    if (!stoppedBySequence) {
      // The decoder may still hold an incomplete character, and the matcher text that only looked like a stop prefix.
      const rest = stops.push(text.flush());
      const tail = rest.stopped ? rest.emit : rest.emit + stops.flush();
      if (rest.stopped) finishReason = 'stop';
      if (tail) yield { type: 'delta', text: tail, usage: { promptTokens: prompt.length, completionTokens: produced } };
    }
  } finally {
    for (const t of cache?.tensors ?? []) t.dispose();
  }
  yield { type: 'done', finishReason, usage: { promptTokens: prompt.length, completionTokens: produced } };
}

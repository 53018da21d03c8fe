import type { TeePool } from '../create-tee-pool';
import type { TeeLanguageHost } from '../tee-language-host';

/** Shaped like llm/'s LlmError (the node classifies by name and code), so the fake's refusals travel as the real ones do. */
class FakeLlmError extends Error {
  override name = 'LlmError';
  constructor(readonly code: string, message: string, readonly param?: string) {
    super(message);
  }
}

export type FakeLanguageHost = TeeLanguageHost & {
  /** Streams that saw their signal aborted. */
  aborted: number;
  /** Streams whose generator finished or was closed (the node closes what it stops reading). */
  closedStreams: number;
  /** Non-streamed calls run. */
  runs: number;
};

/**
 * A language host for relay tests (the real one is tested in llm/). `run` answers `{ object, echo: first message's
 * content, runs, usage }`. `stream` yields the first message's words as chunks (metered a token per word), except: "fail-early" refuses before the first
 * chunk (`unsupported_parameter`, param `n`), "too long" refuses with `context_length_exceeded` (param `messages`),
 * "fail-mid …" fails with an internal error after two chunks, and "slow" yields every 20 ms until cancelled.
 */
export function createFakeLanguageHost(modelId = 'fake-chat'): FakeLanguageHost {
  const host: FakeLanguageHost = {
    aborted: 0,
    closedStreams: 0,
    runs: 0,
    models: [{ id: modelId, kind: 'chat', contextLength: 64 }],
    async run(operation, _model, request) {
      host.runs++;
      const echo = (request as { messages?: Array<{ content?: unknown }> }).messages?.[0]?.content;
      // Usage as the real host reports it: a token per word of the first message; a chat completion adds 3.
      const words = typeof echo === 'string' ? echo.split(' ').length : 1;
      const usage = operation === 'embeddings' ? { prompt_tokens: words, total_tokens: words } : { prompt_tokens: words, completion_tokens: 3, total_tokens: words + 3 };
      return { object: operation === 'embeddings' ? 'list' : 'chat.completion', echo, runs: host.runs, usage };
    },
    async *stream(_model, request, signal, meter) {
      const content = String((request as { messages: Array<{ content: string }> }).messages[0]!.content);
      const words = content.split(' ');
      try {
        if (content === 'fail-early') throw new FakeLlmError('unsupported_parameter', 'n must be 1', 'n');
        if (content === 'too long') throw new FakeLlmError('context_length_exceeded', 'the prompt does not fit', 'messages');
        if (content === 'slow') {
          for (let i = 0; ; i++) {
            if (signal?.aborted) {
              host.aborted++;
              throw new FakeLlmError('cancelled', 'cancelled');
            }
            meter?.({ promptTokens: 1, completionTokens: i + 1 });
            yield { object: 'chat.completion.chunk', i };
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        for (const [i, word] of words.entries()) {
          if (content.startsWith('fail-mid') && i === 2) throw new Error('ORT exploded at /secret/path');
          // A token per word: the prompt is the words, and the i-th chunk has generated i + 1.
          meter?.({ promptTokens: words.length, completionTokens: i + 1 });
          yield { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: word } }] };
        }
      } finally {
        host.closedStreams++;
      }
    },
    async close() {},
  };
  return host;
}

/** A tensor pool serving nothing, for nodes that only serve language models. */
export const EMPTY_TEE_POOL: TeePool = {
  modelIds: [], threads: 0, intraOpThreads: 0, queueSize: 0, run: () => Promise.reject(new Error('no tensor models')), close: async () => undefined,
};

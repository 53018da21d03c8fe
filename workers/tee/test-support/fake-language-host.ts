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
 * content, runs }`. `stream` yields the first message's words as chunks, except: "fail-early" refuses before the first
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
      return { object: operation === 'embeddings' ? 'list' : 'chat.completion', echo, runs: host.runs };
    },
    async *stream(_model, request, signal) {
      const content = String((request as { messages: Array<{ content: string }> }).messages[0]!.content);
      try {
        if (content === 'fail-early') throw new FakeLlmError('unsupported_parameter', 'n must be 1', 'n');
        if (content === 'too long') throw new FakeLlmError('context_length_exceeded', 'the prompt does not fit', 'messages');
        if (content === 'slow') {
          for (let i = 0; ; i++) {
            if (signal?.aborted) {
              host.aborted++;
              throw new FakeLlmError('cancelled', 'cancelled');
            }
            yield { object: 'chat.completion.chunk', i };
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        for (const [i, word] of content.split(' ').entries()) {
          if (content.startsWith('fail-mid') && i === 2) throw new Error('ORT exploded at /secret/path');
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

import type OpenAI from 'openai';

export type ChatSample = { ms: number; ttftMs: number; tokens: number; text: string };

/**
 * Times one streamed completion from `t0` (taken before the call starts): time to the first non-empty delta, the
 * whole request, the completion text and the tokens usage reports. `read` says what each item carries.
 */
export async function timeStream<T>(t0: number, items: AsyncIterable<T>, read: (item: T) => { delta?: string; tokens?: number }): Promise<ChatSample> {
  let ttft = 0;
  let tokens = 0;
  let text = '';
  for await (const item of items) {
    const { delta, tokens: used } = read(item);
    if (delta) {
      if (ttft === 0) ttft = performance.now() - t0;
      text += delta;
    }
    if (used !== undefined) tokens = used;
  }
  return { ms: performance.now() - t0, ttftMs: ttft, tokens, text };
}

/** An OpenAI chunk's content delta and usage. */
export const readChunk = (c: OpenAI.ChatCompletionChunk) => ({ delta: c.choices[0]?.delta.content ?? undefined, tokens: c.usage?.completion_tokens });


import type { ChatEvent, ChatUsage } from './generate-chat';

export type CoalesceChatDeltasOptions = {
  /** Text generated within this many ms of the last sent delta leaves as one delta; 0 sends every delta at once. */
  windowMs: number;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
};

/**
 * Joins the text deltas of a generation into one delta per window: the first delta leaves at once (time to first
 * token is untouched), and after that whatever was generated since the last delta leaves when the window has
 * passed, or as soon as the generation finishes (never later: a slow step does not hold text back longer than the
 * window). Why: every delta becomes a sealed event relayed over each hop, so a model faster than the relays (a
 * small model, a fast GPU) would be slowed to their per-event cost; and events grouped by time rather than by token
 * stop showing a watcher of the sealed stream each token's arrival. A model slower than the window is unchanged
 * (one token per delta). The joined text is exactly the deltas' text, in order; the done event passes as it is.
 */
export async function* coalesceChatDeltas(events: AsyncIterator<ChatEvent>, options: CoalesceChatDeltasOptions): AsyncGenerator<ChatEvent> {
  const { windowMs } = options;
  const now = options.now ?? (() => performance.now());
  let pending = '';
  // The usage of the newest delta joined into `pending`: a joined delta is metered as far as its last part.
  let usage: ChatUsage | undefined;
  const joined = (text: string): ChatEvent => (usage ? { type: 'delta', text, usage } : { type: 'delta', text });
  let sentAt = -Infinity;
  // One pull in flight at a time; it may outlive a window, and is awaited again in the next one.
  let pull: Promise<IteratorResult<ChatEvent>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    for (;;) {
      pull ??= events.next();
      let next: IteratorResult<ChatEvent> | 'window';
      if (pending === '') next = await pull;
      else {
        const wait = Math.max(0, sentAt + windowMs - now());
        next = await Promise.race([pull, new Promise<'window'>((resolve) => (timer = setTimeout(resolve, wait, 'window')))]);
        clearTimeout(timer);
      }
      if (next === 'window') {
        sentAt = now();
        const text = pending;
        pending = '';
        yield joined(text);
        continue;
      }
      pull = undefined;
      if (next.done) break;
      const event = next.value;
      if (event.type === 'delta') {
        pending += event.text;
        usage = event.usage ?? usage;
        if (now() - sentAt < windowMs) continue;
        sentAt = now();
        const text = pending;
        pending = '';
        yield joined(text);
        continue;
      }
      if (pending !== '') {
        const text = pending;
        pending = '';
        yield joined(text);
      }
      yield event;
    }
    if (pending !== '') yield joined(pending);
  } finally {
    clearTimeout(timer);
    // Stopped early (client gone): the generation ends and frees its cache. A pull in flight settles first.
    if (pull) await pull.catch(() => undefined);
    await events.return?.(undefined);
  }
}

import { coalesceChatDeltas } from './coalesce-chat-deltas';
import type { ChatEvent } from './generate-chat';

const done: ChatEvent = { type: 'done', finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 5 } };

/** A generation whose events appear at the given times of a fake clock (ms); the clock moves as they are pulled. */
function timed(steps: { at: number; event: ChatEvent }[]) {
  let clock = 0;
  let returned = false;
  async function* gen(): AsyncGenerator<ChatEvent> {
    try {
      for (const s of steps) {
        clock = Math.max(clock, s.at);
        yield s.event;
      }
    } finally {
      returned = true;
    }
  }
  return { events: gen(), now: () => clock, returned: () => returned };
}

const delta = (at: number, text: string) => ({ at, event: { type: 'delta', text } as ChatEvent });

async function collect(it: AsyncIterable<ChatEvent>): Promise<ChatEvent[]> {
  const out: ChatEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('coalesceChatDeltas', () => {
  test('the first delta leaves at once; later ones within the window are joined; done flushes what is pending', async () => {
    const g = timed([delta(0, 'In'), delta(1, ' the'), delta(2, ' begin'), delta(17, 'ning'), delta(18, ' God'), { at: 19, event: done }]);
    const out = await collect(coalesceChatDeltas(g.events, { windowMs: 16, now: g.now }));
    expect(out).toEqual([
      { type: 'delta', text: 'In' },
      { type: 'delta', text: ' the beginning' }, // 17 − 0 ≥ 16: sent with everything since
      { type: 'delta', text: ' God' }, // pending at done: sent before it
      done,
    ]);
  });

  test('a model slower than the window is unchanged: one delta per token', async () => {
    const g = timed([delta(0, 'a'), delta(20, 'b'), delta(40, 'c'), { at: 60, event: done }]);
    const out = await collect(coalesceChatDeltas(g.events, { windowMs: 16, now: g.now }));
    expect(out.map((e) => (e.type === 'delta' ? e.text : e.type))).toEqual(['a', 'b', 'c', 'done']);
  });

  test('windowMs 0 passes every delta through as it is', async () => {
    const g = timed([delta(0, 'a'), delta(0, 'b'), delta(0, 'c'), { at: 0, event: done }]);
    const out = await collect(coalesceChatDeltas(g.events, { windowMs: 0, now: g.now }));
    expect(out.map((e) => (e.type === 'delta' ? e.text : e.type))).toEqual(['a', 'b', 'c', 'done']);
  });

  test('a step slower than the window does not hold pending text back: it leaves when the window ends', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* gen(): AsyncGenerator<ChatEvent> {
      yield { type: 'delta', text: 'a' };
      yield { type: 'delta', text: 'b' };
      await gate; // a step that takes longer than the window
      yield { type: 'delta', text: 'c' };
      yield done;
    }
    const it = coalesceChatDeltas(gen(), { windowMs: 30 })[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual({ type: 'delta', text: 'a' });
    const t0 = performance.now();
    // 'b' is pending; the next delta comes only after the gate opens, which is after the window: 'b' must not wait for it.
    const second = await it.next();
    const waited = performance.now() - t0;
    expect(second.value).toEqual({ type: 'delta', text: 'b' });
    expect(waited).toBeGreaterThanOrEqual(20);
    expect(waited).toBeLessThan(1000);
    release();
    expect(await collect({ [Symbol.asyncIterator]: () => it })).toEqual([{ type: 'delta', text: 'c' }, done]);
  });

  test('text is never lost or reordered, whatever the timing', async () => {
    for (let trial = 0; trial < 50; trial++) {
      let at = 0;
      const words = Array.from({ length: 40 }, (_, i) => `w${i} `);
      const g = timed([...words.map((w) => delta((at += Math.floor(Math.random() * 12)), w)), { at: at + 1, event: done }]);
      const out = await collect(coalesceChatDeltas(g.events, { windowMs: 16, now: g.now }));
      expect(out.at(-1)).toEqual(done);
      expect(out.slice(0, -1).map((e) => (e.type === 'delta' ? e.text : '?')).join('')).toBe(words.join(''));
      expect(out.slice(0, -1).every((e) => e.type === 'delta' && e.text !== '')).toBe(true);
    }
  });

  test('a consumer that stops early ends the generation', async () => {
    const g = timed([delta(0, 'a'), delta(1, 'b'), delta(2, 'c'), { at: 3, event: done }]);
    for await (const e of coalesceChatDeltas(g.events, { windowMs: 16, now: g.now })) {
      expect(e).toEqual({ type: 'delta', text: 'a' });
      break;
    }
    expect(g.returned()).toBe(true);
  });
});

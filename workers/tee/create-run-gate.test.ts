import { createRunGate } from './create-run-gate';

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);

describe('createRunGate', () => {
  test('runs up to `slots` at once, then queues in order, then refuses as overloaded', async () => {
    const gate = createRunGate(1, 1);
    const first = await gate.acquire();
    const order: string[] = [];
    const second = gate.acquire().then((release) => (order.push('second'), release));
    expect(await codeOf(gate.acquire())).toBe('overloaded');
    expect(gate.waiting).toBe(1);
    first();
    first(); // idempotent: releasing twice frees one slot only
    (await second)();
    expect(order).toEqual(['second']);
    expect(gate.active).toBe(0);
  });

  test('cancelling a waiting task removes it (it never runs) and frees its queue place', async () => {
    const gate = createRunGate(1, 1);
    const running = await gate.acquire();
    const controller = new AbortController();
    const waiting = gate.acquire(controller.signal);
    controller.abort();
    expect(await codeOf(waiting)).toBe('cancelled');
    expect(gate.waiting).toBe(0);
    expect(await codeOf(gate.acquire(AbortSignal.abort()))).toBe('cancelled');
    const next = gate.acquire();
    running();
    expect(await codeOf(next)).toBe('ok');
  });
});

import { createStepScheduler } from './create-step-scheduler';

const tick = () => new Promise((r) => setImmediate(r));

describe('createStepScheduler', () => {
  it('interleaves a long generation with one that arrives later (first come, first served per step)', async () => {
    const s = createStepScheduler(1);
    const order: string[] = [];
    const generate = async (name: string, steps: number) => {
      for (let i = 0; i < steps; i++) await s.run(async () => { order.push(name); await tick(); });
    };
    const long = generate('long', 6);
    await tick();
    const short = generate('short', 2);
    await Promise.all([long, short]);
    // The short request finishes long before the long one, not after it.
    expect(order.lastIndexOf('short')).toBeLessThan(order.length - 2);
    expect(order.filter((n) => n === 'long')).toHaveLength(6);
  });
  it('runs at most `concurrency` steps at once', async () => {
    const s = createStepScheduler(2);
    let now = 0;
    let peak = 0;
    await Promise.all(Array.from({ length: 8 }, () => s.run(async () => { now++; peak = Math.max(peak, now); await tick(); now--; })));
    expect(peak).toBe(2);
    expect(s.load()).toEqual({ running: 0, waiting: 0 });
  });
  it('drops a waiting step whose signal aborts', async () => {
    const s = createStepScheduler(1);
    let release!: () => void;
    const first = s.run(() => new Promise<void>((r) => { release = r; }));
    const controller = new AbortController();
    const second = s.run(async () => 'ran', controller.signal);
    expect(s.load().waiting).toBe(1);
    controller.abort(new Error('gone'));
    await expect(second).rejects.toThrow('gone');
    expect(s.load().waiting).toBe(0);
    release();
    await first;
  });
  it('a step that throws synchronously releases its turn', async () => {
    const s = createStepScheduler(1);
    await expect(s.run(() => { throw new Error('sync boom'); })).rejects.toThrow('sync boom');
    const next = s.run(async () => 2);
    await expect(Promise.race([next, new Promise((r) => setTimeout(() => r('stuck'), 200))])).resolves.toBe(2);
    expect(s.load()).toEqual({ running: 0, waiting: 0 });
  });
  it('a failing step releases its turn', async () => {
    const s = createStepScheduler(1);
    await expect(s.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(s.run(async () => 1)).resolves.toBe(1);
  });
});

import { runOpenLoop } from './run-open-loop';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runOpenLoop', () => {
  test('keeps issuing on schedule while earlier requests are still waiting (no coordinated omission)', async () => {
    let started = 0;
    let maxInFlight = 0;
    let inFlight = 0;
    // Every request takes 300 ms: a closed loop would issue one; the schedule asks for 20 in 400 ms.
    const outcome = await runOpenLoop({
      ratePerSecond: 50, durationMs: 400, drainMs: 2000,
      fire: async () => {
        started++;
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await sleep(300);
        inFlight--;
      },
    });
    expect(outcome.scheduled).toBe(20);
    expect(started).toBe(20);
    expect(maxInFlight).toBeGreaterThanOrEqual(15);
    expect(outcome.completed).toBe(20);
    expect(outcome.latency.count).toBe(20);
    expect(outcome.latency.p50).toBeGreaterThanOrEqual(299);
  });

  test('latency counts from the due time, so a server that queues shows its queue', async () => {
    // A server that answers one request at a time, 40 ms each, fed 50/s: each waits for all before it.
    let queue: Promise<unknown> = Promise.resolve();
    const outcome = await runOpenLoop({
      ratePerSecond: 50, durationMs: 400, drainMs: 3000,
      fire: () => (queue = queue.then(() => sleep(40))),
    });
    expect(outcome.completed).toBe(20);
    // The last request is due at 380 ms and served at ≈ 20 × 40 = 800 ms: ≈ 420 ms late.
    expect(outcome.latency.max).toBeGreaterThan(350);
    expect(outcome.latency.p50).toBeGreaterThan(150);
  });

  test('failures are counted by code; requests still running after the drain count as unfinished', async () => {
    let i = 0;
    const outcome = await runOpenLoop({
      ratePerSecond: 20, durationMs: 200, drainMs: 100,
      fire: () => {
        const n = i++;
        if (n === 0) return Promise.reject(Object.assign(new Error('busy'), { code: 'overloaded' }));
        // Fails long after the drain: it counts as unfinished, and its late failure changes nothing.
        if (n === 1) return sleep(400).then(() => Promise.reject(Object.assign(new Error('late'), { code: 'deadline_exceeded' })));
        return Promise.resolve();
      },
    });
    expect(outcome.scheduled).toBe(4);
    expect(outcome.errors).toEqual({ overloaded: 1, unfinished: 1 });
    expect(outcome.completed).toBe(2);
    await sleep(500);
    expect(outcome.errors).toEqual({ overloaded: 1, unfinished: 1 });
  });
});

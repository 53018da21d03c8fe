import { createTurnLock } from './create-turn-lock';

test('holders run one at a time, in the order they asked, and a failing one does not block the next', async () => {
  const lock = createTurnLock();
  const order: string[] = [];
  let running = 0;
  const job = (name: string, ms: number, fail = false) => lock.run(async () => {
    running++;
    expect(running).toBe(1);
    order.push(`${name}+`);
    await new Promise((resolve) => setTimeout(resolve, ms));
    order.push(`${name}-`);
    running--;
    if (fail) throw new Error(name);
    return name;
  });
  // Two "searches", each asking again as soon as its last step is done: their steps alternate.
  const search = async (name: string, steps: number) => {
    for (let i = 0; i < steps; i++) await job(`${name}${i}`, 5);
  };
  await Promise.all([search('a', 3), search('b', 3)]);
  expect(order.filter((x) => x.endsWith('+'))).toEqual(['a0+', 'b0+', 'a1+', 'b1+', 'a2+', 'b2+']);
  await expect(job('x', 1, true)).rejects.toThrow('x');
  await expect(job('y', 1)).resolves.toBe('y');
});

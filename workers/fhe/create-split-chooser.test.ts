import { createSplitChooser } from './create-split-chooser';

/** Runs `calls` eligible calls where a split call takes `splitMs` and a whole one `wholeMs`; returns how many were split. */
function drive(chooser: ReturnType<typeof createSplitChooser>, calls: number, splitMs: number, wholeMs: number, plan = 'p'): number {
  let splits = 0;
  for (let i = 0; i < calls; i++) {
    const split = chooser.shouldSplit(plan);
    if (split) splits++;
    chooser.record(plan, split, split ? splitMs : wholeMs);
  }
  return splits;
}

test('times both ways first, then prefers the faster, exploring the other one call in 16', () => {
  const chooser = createSplitChooser();
  // 6 warm-up calls alternate; of the next 160, 10 explore.
  expect(drive(chooser, 6, 80, 120)).toBe(3);
  expect(drive(chooser, 160, 80, 120)).toBe(150);
});

test('follows a change of load: once split calls become slower, it stops splitting', () => {
  const chooser = createSplitChooser();
  drive(chooser, 40, 80, 120);
  drive(chooser, 100, 250, 120); // contention: explored whole calls win, split calls drag their mean up
  expect(drive(chooser, 160, 250, 120)).toBe(10);
});

test('plans are timed apart', () => {
  const chooser = createSplitChooser();
  drive(chooser, 40, 80, 120, 'a');
  drive(chooser, 40, 200, 120, 'b');
  expect(drive(chooser, 32, 80, 120, 'a')).toBeGreaterThan(28);
  expect(drive(chooser, 32, 200, 120, 'b')).toBeLessThan(4);
});

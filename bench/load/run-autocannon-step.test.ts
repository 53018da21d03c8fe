import { planInstances, split } from './run-autocannon-step';
import { startingRate } from './run-load-harness';

test('split: whole shares as even as they go, adding up to the whole rate', () => {
  expect(split(7, 3)).toEqual([3, 2, 2]);
  expect(split(2, 4)).toEqual([1, 1, 0, 0]);
  expect(split(40.9, 20).reduce((a, b) => a + b, 0)).toBe(40);
});

test('startingRate: a quarter of what serial requests do, per gateway; whole numbers for autocannon', () => {
  expect(startingRate(10, 1, false)).toBe(25);
  expect(startingRate(10, 2, false)).toBe(50);
  expect(startingRate(80, 1, false)).toBe(3.1);
  expect(startingRate(80, 1, true)).toBe(3);
  expect(startingRate(5_000, 1, true)).toBe(1);
});

test('planInstances: the instances of every URL interleaved and spread over one second together', () => {
  expect(planInstances(['a', 'b'], 2)).toEqual([{ url: 'a', rate: 1, startDelayMs: 0 }, { url: 'b', rate: 1, startDelayMs: 500 }]);
  const many = planInstances(['a', 'b'], 60);
  expect(many).toHaveLength(40);
  expect(many.reduce((n, x) => n + x.rate, 0)).toBe(60);
  expect(many.slice(0, 4).map((x) => x.url)).toEqual(['a', 'b', 'a', 'b']);
  expect(many.map((x) => x.startDelayMs)).toEqual(Array.from({ length: 40 }, (_, k) => k * 25));
  expect(planInstances(['a'], 3).map((x) => [x.rate, x.startDelayMs])).toEqual([[1, 0], [1, 1000 / 3], [1, 2000 / 3]]);
});

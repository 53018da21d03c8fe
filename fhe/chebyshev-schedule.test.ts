import { chebyshevDepth, chebyshevSchedule } from './chebyshev-schedule';

test('T_k sits ⌈log2 k⌉ levels down; the series costs ⌈log2 d⌉ + 1 levels and lands on the input scale', () => {
  const prime = (l: number) => 2 ** 30 + l * 16384 + 1;
  const sch = chebyshevSchedule(8, 2, 2 ** 30, prime);
  expect(sch.levels.slice(1)).toEqual([2, 3, 4, 4, 5, 5, 5, 5]);
  expect(sch.depth).toBe(4);
  expect(sch.outLevel).toBe(6);
  expect(sch.outScale).toBe(2 ** 30);
  // Every coefficient product lands exactly on the output scale after the rescale by the coefficient level's prime.
  for (let k = 1; k <= 8; k++) expect((sch.scales[k]! * sch.coeffScales[k]!) / prime(sch.coeffLevel)).toBeCloseTo(2 ** 30, 3);
  // The aligned T_j has the product's scale.
  for (const st of sch.steps.filter((s) => s.j > 0)) expect((sch.scales[st.j]! * st.alignScale) / prime(st.level)).toBeCloseTo(st.scale, 3);
  expect([chebyshevDepth(2), chebyshevDepth(4), chebyshevDepth(5), chebyshevDepth(16)]).toEqual([2, 3, 4, 5]);
});

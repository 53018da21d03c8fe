import { evaluateChebyshev, fitChebyshev } from './fit-chebyshev';

test('the weighted fit reproduces a polynomial exactly and the evaluation matches the recurrence', () => {
  const points = Float64Array.from({ length: 64 }, (_, i) => -1 + (2 * (i + 0.5)) / 64);
  const weights = new Float64Array(64).fill(1);
  const c = fitChebyshev({ f: (t) => 4 * t ** 3 - 3 * t + 0.5, degree: 4, points, weights });
  expect(Array.from(c).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0.5, 0, 0, 1, 0]);
  expect(evaluateChebyshev(c, 0.3)).toBeCloseTo(4 * 0.027 - 0.9 + 0.5, 12);
});

test('weights steer the fit: |t| fitted where the weight is, worse where there is none', () => {
  const points = Float64Array.from({ length: 200 }, (_, i) => -1 + (2 * (i + 0.5)) / 200);
  const near = Float64Array.from(points, (t) => (Math.abs(t) < 0.3 ? 1 : 1e-6));
  const c = fitChebyshev({ f: Math.abs, degree: 4, points, weights: near });
  const u = fitChebyshev({ f: Math.abs, degree: 4, points, weights: new Float64Array(200).fill(1) });
  const err = (cs: Float64Array, lo: number, hi: number) => Math.max(...Array.from(points).filter((t) => t >= lo && t <= hi).map((t) => Math.abs(Math.abs(t) - evaluateChebyshev(cs, t))));
  expect(err(c, -0.3, 0.3)).toBeLessThan(err(u, -0.3, 0.3));
});

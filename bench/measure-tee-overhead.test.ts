import { BUNDLED_MODELS } from '../models';
import { measureTeeOverhead } from './measure-tee-overhead';

test('measureTeeOverhead reports bare vs full p50 with a stage breakdown', async () => {
  const r = await measureTeeOverhead({ modelFile: BUNDLED_MODELS['breast-cancer-lr'].file, samples: 5, warmup: 2 });
  expect(r.samples).toBe(5);
  expect(r.fullP50Ms).toBeGreaterThan(r.bareP50Ms);
  expect(r.oneShotP50Ms).toBeGreaterThan(0);
  for (const v of Object.values(r.breakdownP50)) expect(Number.isFinite(v)).toBe(true);
});

/**
 * connectFheModel against a scripted gateway (a fake VeilClient): close() closes every session and frees every
 * variant's SEAL objects even when one close fails, then reports that first failure.
 */
import fs from 'node:fs';
import { compileOnnx, FHE_VARIANTS } from '../fhe';
import { BUNDLED_MODELS } from '../models';
import type { VeilClient } from './create-veil-client';
import { connectFheModel } from './connect-fhe-model';
import { VeilClientError } from './veil-client-error';

test('error: close() closes every session even when the first close fails, and reports that failure', async () => {
  const file = fs.readFileSync(BUNDLED_MODELS['breast-cancer-lr'].file);
  const specs = Object.fromEntries(Object.entries(FHE_VARIANTS).map(([v, o]) => [v, JSON.stringify(compileOnnx(file, { name: 'lr', ...o }).spec)]));
  const closed: string[] = [];
  let opened = 0;
  const client = {
    listModels: async () => ({ models: [{ id: 'lr', description: '', modes: ['fhe'], inputSize: 30, outputSize: 1, postprocess: 'sigmoid', fheVariants: ['blocks', 'feature-major'] }] }),
    getFheSpec: async (_id: string, _o: unknown, variant = 'blocks') => ({ specJson: specs[variant]!, specSha256: 'x' }),
    createFheSession: async () => ({ sessionId: `s${++opened}`, bytesReceived: 1, ttlSeconds: 60 }),
    closeSession: async (id: string) => {
      closed.push(id);
      if (id === 's1') throw new VeilClientError('unavailable', 'the gateway went away');
    },
  } as unknown as VeilClient;
  const model = await connectFheModel({ client, modelId: 'lr' });
  await model.session('blocks');
  await model.session('feature-major');
  await expect(model.close()).rejects.toMatchObject({ code: 'unavailable' });
  expect(closed.sort()).toEqual(['s1', 's2']); // the second session was closed despite the first failing
  await model.close(); // nothing left to close or free twice
  expect(closed).toHaveLength(2);
});

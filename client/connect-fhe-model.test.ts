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

/** A scripted gateway whose Predict echoes the ciphertexts (decrypting gives the inputs back) unless `refuse` says otherwise. */
function echoGateway(refuse: (sessionId: string, call: number) => VeilClientError | undefined) {
  const file = fs.readFileSync(BUNDLED_MODELS['breast-cancer-lr'].file);
  const spec = JSON.stringify(compileOnnx(file, { name: 'lr', ...FHE_VARIANTS.blocks }).spec);
  const log = { created: 0, keyUploads: [] as number[], predicts: [] as { sessionId: string; idempotencyKey?: string }[] };
  const client = {
    listModels: async () => ({ models: [{ id: 'lr', description: '', modes: ['fhe'], inputSize: 30, outputSize: 1, postprocess: 'sigmoid', fheVariants: ['blocks'] }] }),
    getFheSpec: async () => ({ specJson: spec, specSha256: 'x' }),
    createFheSession: async (p: { galoisKeys?: Uint8Array }) => {
      log.keyUploads.push(p.galoisKeys?.byteLength ?? 0);
      return { sessionId: `s${++log.created}`, bytesReceived: 10, ttlSeconds: 60 };
    },
    predict: async (sessionId: string, groups: unknown[], opts: { idempotencyKey?: string }) => {
      log.predicts.push({ sessionId, idempotencyKey: opts.idempotencyKey });
      const refusal = refuse(sessionId, log.predicts.length);
      if (refusal) throw refusal;
      return { groups, evalMicros: 1 };
    },
    closeSession: async () => undefined,
  } as unknown as VeilClient;
  return { client, log };
}

const features = Array.from({ length: 30 }, (_, i) => i / 30);

test('a predict that lands where the session is not held re-uploads the held keys once and is retried under the same key', async () => {
  const { client, log } = echoGateway((sessionId) => (sessionId === 's1' ? new VeilClientError('session_not_found', 'no such session here') : undefined));
  const model = await connectFheModel({ client, modelId: 'lr', variant: 'blocks' });
  const answer = await model.predict([features], { idempotencyKey: 'call-1' });
  // The echo decrypts to the inputs: the retried call really ran on the new session with the same key pair.
  expect(answer.logits[0]![0]).toBeCloseTo(features[0]!, 2);
  expect(log.predicts).toEqual([{ sessionId: 's1', idempotencyKey: 'call-1' }, { sessionId: 's2', idempotencyKey: 'call-1' }]);
  expect(log.keyUploads).toHaveLength(2);
  expect(log.keyUploads[1]).toBe(log.keyUploads[0]); // the same Galois keys' size: the same plan's keys, made from the held pair
  expect(model.reestablished).toBe(1);
  expect(model.keyBytes).toBe(20);
  await model.predict([features]);
  expect(log.predicts.at(-1)!.sessionId).toBe('s2'); // later calls use the new session
  await model.close();
});

test('calls in flight that lose the same session open one new session between them', async () => {
  const { client, log } = echoGateway((sessionId) => (sessionId === 's1' ? new VeilClientError('unavailable', 'the replica went away', 14) : undefined));
  const model = await connectFheModel({ client, modelId: 'lr', variant: 'blocks' });
  await Promise.all([model.predict([features]), model.predict([features]), model.predict([features])]);
  expect(log.created).toBe(2);
  expect(model.reestablished).toBe(1);
  await model.close();
});

test('error: a session lost again right after it was re-established, or an error that is not about the session, reaches the caller', async () => {
  const lost = echoGateway(() => new VeilClientError('session_not_found', 'gone'));
  const model = await connectFheModel({ client: lost.client, modelId: 'lr', variant: 'blocks' });
  await expect(model.predict([features])).rejects.toMatchObject({ code: 'session_not_found' });
  expect(lost.log.predicts).toHaveLength(2); // one retry, not a loop
  await model.close();

  const refused = echoGateway(() => new VeilClientError('voucher_insufficient', 'pay more', 9));
  const other = await connectFheModel({ client: refused.client, modelId: 'lr', variant: 'blocks' });
  await expect(other.predict([features])).rejects.toMatchObject({ code: 'voucher_insufficient' });
  expect(refused.log.created).toBe(1);
  await other.close();
});

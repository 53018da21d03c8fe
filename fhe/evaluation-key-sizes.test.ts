/**
 * The exact-size rule the gateway enforces on key uploads, checked against what node-seal actually serialises: every
 * bundled plan and variant, plus parameter sets and step lists the compiler does not produce today.
 */
import fs from 'node:fs';
import { BUNDLED_MODELS } from '../models';
import { compileOnnx } from './compile-onnx';
import { createCkksRuntime } from './create-ckks-runtime';
import { createFheClientKeys } from './create-fhe-client-keys';
import { evaluationKeySizes } from './evaluation-key-sizes';
import { FHE_VARIANTS } from './fhe-variants';
import type { FheModelSpec } from './fhe-plan';
import { loadSeal } from './load-seal';

async function serialisedSizes(spec: Pick<FheModelSpec, 'params' | 'galoisSteps' | 'needsRelinKeys'>) {
  const runtime = createCkksRuntime(await loadSeal(), spec.params);
  const keys = createFheClientKeys(runtime, spec as FheModelSpec);
  try {
    const bytes = keys.evaluationKeys();
    return { galoisKeys: bytes.galoisKeys?.byteLength ?? 0, relinKeys: bytes.relinKeys?.byteLength ?? 0 };
  } finally {
    keys.delete();
    runtime.delete();
  }
}

const bundled = (['breast-cancer-lr', 'digits-mlp', 'digits-cnn'] as const).flatMap((id) =>
  Object.entries(FHE_VARIANTS).map(([variant, options]) => [id, variant, options] as const));

test.each(bundled)('%s %s: the declared sizes are exactly what the SDK uploads', async (id, _variant, options) => {
  const { spec } = compileOnnx(fs.readFileSync(BUNDLED_MODELS[id].file), { name: id, ...options });
  expect(evaluationKeySizes(spec)).toEqual(await serialisedSizes(spec));
});

test.each([
  [4096, [60, 49], [1, 2, 4], false],
  [8192, [60, 40, 60], [3, -1, 5, 7], true],
  [16384, [60, 40, 40, 40, 40, 60], [1], true],
  // 1 and −2047 are the same rotation of 2048 slots: SEAL stores one key per Galois element.
  [4096, [38, 30, 41], [1, -2047], false],
])('N=%i, primes %j, steps %j, relin %s: the formula holds beyond the bundled plans', async (n, bits, steps, relin) => {
  const spec = { params: { polyModulusDegree: n, coeffModulusBits: bits, scaleBits: 30 }, galoisSteps: steps, needsRelinKeys: relin };
  expect(evaluationKeySizes(spec)).toEqual(await serialisedSizes(spec));
});

test('a spec that needs no keys declares zero bytes of each kind', () => {
  const params = { polyModulusDegree: 4096, coeffModulusBits: [38, 30, 41], scaleBits: 30 };
  expect(evaluationKeySizes({ params, galoisSteps: [], needsRelinKeys: false })).toEqual({ galoisKeys: 0, relinKeys: 0 });
});

import fc from 'fast-check';
import { bytesMutationArbitrary, wireMutationsArbitrary, type BytesMutation } from './bytes-mutation';
import type { RpcName } from './veil-codec';

/**
 * Fuzz cases are recipes, not bytes: plain values that name real material (a real ciphertext, real keys, a sealed
 * frame) plus the edits to make, so fast-check prints and shrinks them readably. `run-fuzz-case.ts` turns a recipe
 * into the exact bytes sent.
 */

/** How a unary request body is produced: a built message (then wire edits), raw random bytes, or one over the limit. */
export type Body<M> = { message: M; wire: BytesMutation[] } | { raw: Uint8Array } | { oversized: true };

export type CtSource = 'valid' | 'fullForm' | 'wrongLevel' | 'foreign' | 'featureMajor' | 'random' | 'empty' | 'zeros';
export type CtRecipe = { source: CtSource; edits: BytesMutation[]; randomBytes: Uint8Array };
export type GroupRecipe = { count: 'expected' | number; base: CtRecipe; odd: { at: number; ct: CtRecipe }[] };
export type SessionRef = 'blocks' | 'feature-major' | 'closed' | 'empty' | { id: string };
export type PredictRecipe = { session: SessionRef; groups: GroupRecipe[] } | { session: SessionRef; manyGroups: number };

export type KeySource = 'none' | 'real' | 'foreign' | { garbage: number } | { truncated: number } | { edited: BytesMutation[] };
export type Declared = 'exact' | 'minus' | 'plus' | { bytes: number | string };
export type UploadExtra =
  | { kind: 'emptyChunks'; count: number }
  | { kind: 'unspecifiedKind' }
  | { kind: 'chunkFirst' }
  | { kind: 'twoHeaders' }
  | { kind: 'extraChunk'; bytes: number }
  | { kind: 'rawFrame'; at: number; bytes: Uint8Array }
  | { kind: 'oversizedFrame' };
export type UploadRecipe = {
  header: { model: string; variant: string; spec: 'real' | 'none' | 'wrong'; galois: Declared; relin: Declared } | 'missing';
  galois: KeySource;
  relin: KeySource;
  chunkBytes: number;
  extras: UploadExtra[];
  frameEdits: { frame: number; edit: BytesMutation }[];
  /** Give up (cancel) after this many frames instead of ending the stream. */
  cancelAfter: number | undefined;
};

export type TeeBodyRecipe =
  | { kind: 'valid'; rows: number; tsOffsetMs: number; values: 'data' | 'zeros' | 'extreme'; bodyModel: 'same' | 'other' }
  | { kind: 'tensors'; tsOffsetMs: number; tensors: { name: string; dims: number[]; dataBytes: number }[] }
  | { kind: 'fields'; version: unknown; requestIdBytes: number; timestamp: unknown; modelId: unknown }
  | { kind: 'cbor'; value: unknown }
  | { kind: 'bytes'; bytes: Uint8Array };
export type FrameRecipe =
  | { kind: 'fresh'; body: TeeBodyRecipe; as: 'handshake' | 'session'; sealModel: 'same' | 'other'; edits: BytesMutation[] }
  | { kind: 'replay'; pick: number; edits: BytesMutation[] }
  | { kind: 'random'; bytes: Uint8Array }
  | { kind: 'unknownSession'; sessionId: Uint8Array; seq: number; tail: Uint8Array }
  | { kind: 'oversized' };

export type FuzzCase =
  | { rpc: 'Models.ListModels' | 'Trust.GetRegistry' | 'Tee.ListNodes'; body: Body<Record<string, never>> }
  | { rpc: 'Models.GetFheSpec'; body: Body<{ modelId: string; variant: string }> }
  | { rpc: 'Fhe.Predict'; body: Body<PredictRecipe> }
  | { rpc: 'Fhe.CloseSession'; body: Body<{ session: SessionRef | 'fresh' }> }
  | { rpc: 'Fhe.CreateSession'; upload: UploadRecipe }
  | { rpc: 'Tee.GetEvidence'; body: Body<{ modelId: string; nonce: Uint8Array; exclude: string[] }> }
  | { rpc: 'Tee.Infer'; body: Body<{ nodeId: string; modelId: string; frame: FrameRecipe }> }
  | { rpc: 'TeeNode.GetEvidence'; body: Body<{ nonce: Uint8Array }> }
  | { rpc: 'TeeNode.Infer'; body: Body<{ modelId: string; frame: FrameRecipe }> };

/** The services a run covers, each with the RPCs it exposes. */
export const FUZZ_SERVICES = {
  Models: ['Models.ListModels', 'Models.GetFheSpec'],
  Fhe: ['Fhe.CreateSession', 'Fhe.Predict', 'Fhe.CloseSession'],
  Tee: ['Tee.GetEvidence', 'Tee.Infer', 'Tee.ListNodes'],
  Trust: ['Trust.GetRegistry'],
  TeeNode: ['TeeNode.GetEvidence', 'TeeNode.Infer'],
} as const satisfies Record<string, readonly RpcName[]>;
export type FuzzService = keyof typeof FUZZ_SERVICES;

const MODEL = 'breast-cancer-lr';

/** Strings a hostile client sends as ids: empty, near misses, unicode, control characters, very long ones. */
function idArbitrary(valid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'BREAST-CANCER-LR', `${MODEL} `, '../../etc/passwd', '\u0000', 'digits-mlp', 'digits-relu-mlp', '%s%n', 'a'.repeat(65)) },
    { weight: 2, arbitrary: fc.string({ maxLength: 80, unit: 'grapheme' }) },
    { weight: 1, arbitrary: fc.string({ minLength: 1000, maxLength: 20_000, unit: 'binary' }) },
  );
}

function bodyArbitrary<M>(message: fc.Arbitrary<M>): fc.Arbitrary<Body<M>> {
  return fc.oneof(
    { weight: 40, arbitrary: fc.record({ message, wire: wireMutationsArbitrary() }) },
    { weight: 6, arbitrary: fc.record({ raw: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 4096 })) }) },
    { weight: 1, arbitrary: fc.record({ raw: fc.uint8Array({ minLength: 60_000, maxLength: 70_000 }) }) },
    { weight: 1, arbitrary: fc.constant({ oversized: true as const }) },
  );
}

const editsArbitrary = fc.oneof({ weight: 3, arbitrary: fc.constant([] as BytesMutation[]) }, { weight: 1, arbitrary: fc.array(bytesMutationArbitrary(), { minLength: 1, maxLength: 3 }) });

const ctArbitrary: fc.Arbitrary<CtRecipe> = fc.record({
  source: fc.constantFrom<CtSource>('valid', 'valid', 'valid', 'fullForm', 'wrongLevel', 'foreign', 'featureMajor', 'random', 'empty', 'zeros'),
  edits: editsArbitrary,
  randomBytes: fc.uint8Array({ maxLength: 256 }),
});

const sessionArbitrary: fc.Arbitrary<SessionRef> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('blocks' as const) },
  { weight: 2, arbitrary: fc.constant('feature-major' as const) },
  { weight: 1, arbitrary: fc.constantFrom('closed' as const, 'empty' as const) },
  { weight: 1, arbitrary: fc.record({ id: fc.oneof(fc.uuid(), fc.string({ maxLength: 100 }), fc.string({ minLength: 5000, maxLength: 10_000 })) }) },
);

const predictArbitrary: fc.Arbitrary<PredictRecipe> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      session: sessionArbitrary,
      groups: fc.array(
        fc.record({
          count: fc.oneof({ weight: 5, arbitrary: fc.constant('expected' as const) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 29, 31) }),
          base: ctArbitrary,
          odd: fc.array(fc.record({ at: fc.nat({ max: 40 }), ct: ctArbitrary }), { maxLength: 2 }),
        }),
        { minLength: 0, maxLength: 3 },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ session: sessionArbitrary, manyGroups: fc.integer({ min: 257, max: 600 }) }) },
);

const sizeArbitrary = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 4096 }),
  fc.integer({ min: 1 << 20, max: 8 << 20 }),
  fc.constantFrom(512 * 1024 * 1024, 512 * 1024 * 1024 + 1, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER),
);
const declaredArbitrary: fc.Arbitrary<Declared> = fc.oneof(
  { weight: 8, arbitrary: fc.constant('exact' as const) },
  { weight: 1, arbitrary: fc.constantFrom('minus' as const, 'plus' as const) },
  { weight: 2, arbitrary: fc.record({ bytes: fc.oneof(sizeArbitrary, fc.constant('18446744073709551615')) }) },
);
const keySourceArbitrary = (realWeight: number): fc.Arbitrary<KeySource> => fc.oneof(
  { weight: realWeight, arbitrary: fc.constant('real' as const) },
  { weight: 3, arbitrary: fc.constant('none' as const) },
  { weight: 1, arbitrary: fc.constant('foreign' as const) },
  { weight: 2, arbitrary: fc.record({ garbage: fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 100_000, max: 1_100_000 })) }) },
  { weight: 1, arbitrary: fc.record({ truncated: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ edited: fc.array(bytesMutationArbitrary(), { minLength: 1, maxLength: 3 }) }) },
);

const uploadArbitrary: fc.Arbitrary<UploadRecipe> = fc.record({
  header: fc.oneof(
    { weight: 12, arbitrary: fc.record({
      model: idArbitrary([MODEL]),
      variant: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('', 'blocks', 'feature-major') }, { weight: 1, arbitrary: fc.constantFrom('expanded', 'turbo', 'BLOCKS') }),
      spec: fc.constantFrom<'real' | 'none' | 'wrong'>('real', 'real', 'none', 'wrong'),
      galois: declaredArbitrary,
      relin: declaredArbitrary,
    }) },
    { weight: 1, arbitrary: fc.constant('missing' as const) },
  ),
  galois: keySourceArbitrary(6),
  relin: keySourceArbitrary(0),
  chunkBytes: fc.oneof(fc.constant(1 << 20), fc.integer({ min: 1, max: 1 << 20 }), fc.integer({ min: 200_000, max: 1 << 20 })),
  extras: fc.oneof(
    { weight: 4, arbitrary: fc.constant([] as UploadExtra[]) },
    { weight: 2, arbitrary: fc.array(fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('emptyChunks' as const), count: fc.integer({ min: 1, max: 200 }) }) },
      { weight: 2, arbitrary: fc.constantFrom<UploadExtra>({ kind: 'unspecifiedKind' }, { kind: 'chunkFirst' }, { kind: 'twoHeaders' }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('extraChunk' as const), bytes: fc.integer({ min: 1, max: 100_000 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('rawFrame' as const), at: fc.nat({ max: 8 }), bytes: fc.uint8Array({ maxLength: 256 }) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'oversizedFrame' as const }) },
    ), { minLength: 1, maxLength: 2 }) },
  ),
  frameEdits: fc.oneof({ weight: 4, arbitrary: fc.constant([] as { frame: number; edit: BytesMutation }[]) }, { weight: 1, arbitrary: fc.array(fc.record({ frame: fc.nat({ max: 4 }), edit: bytesMutationArbitrary() }), { minLength: 1, maxLength: 3 }) }),
  cancelAfter: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat({ max: 3 }) }),
});

/** Clock offsets: inside the ±60 s window (not judged), clearly outside it (must be refused), and absurd ones. */
const tsOffsetArbitrary = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.integer({ min: -50_000, max: 50_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 70_000, max: 10 ** 10 }) },
  { weight: 2, arbitrary: fc.integer({ min: -(10 ** 10), max: -70_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(-Date.now(), -Date.now() - 1, 10 ** 15, Number.MAX_SAFE_INTEGER - Date.now()) },
);

const teeBodyArbitrary: fc.Arbitrary<TeeBodyRecipe> = fc.oneof(
  { weight: 8, arbitrary: fc.record({
    kind: fc.constant('valid' as const), rows: fc.integer({ min: 1, max: 8 }), tsOffsetMs: tsOffsetArbitrary,
    values: fc.constantFrom<'data' | 'zeros' | 'extreme'>('data', 'data', 'zeros', 'extreme'),
    bodyModel: fc.constantFrom<'same' | 'other'>('same', 'same', 'same', 'other'),
  }) },
  { weight: 2, arbitrary: fc.record({
    kind: fc.constant('tensors' as const), tsOffsetMs: fc.constant(0),
    tensors: fc.array(fc.record({
      name: fc.oneof(fc.constant('x'), fc.string({ maxLength: 20 })),
      dims: fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(-1, 2 ** 31, 2 ** 53 - 1)), { maxLength: 5 }),
      dataBytes: fc.oneof(fc.integer({ min: 0, max: 1024 }), fc.constant(120), fc.constant(119)),
    }), { maxLength: 3 }),
  }) },
  { weight: 1, arbitrary: fc.record({
    kind: fc.constant('fields' as const),
    version: fc.oneof(fc.constant(1), fc.constant(2), fc.constant('1'), fc.constant(null)),
    requestIdBytes: fc.constantFrom(0, 15, 16, 17, 1000),
    timestamp: fc.oneof(fc.constant(-1), fc.constant(1.5), fc.constant('now'), fc.double(), fc.bigInt({ min: 0n, max: 2n ** 70n })),
    modelId: fc.oneof(fc.constant(MODEL), fc.constant(''), fc.constant(7), fc.string({ maxLength: 300 })),
  }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cbor' as const), value: fc.jsonValue({ maxDepth: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 512 }) }) },
);

const frameArbitrary: fc.Arbitrary<FrameRecipe> = fc.oneof(
  { weight: 10, arbitrary: fc.record({
    kind: fc.constant('fresh' as const), body: teeBodyArbitrary, as: fc.constantFrom<'handshake' | 'session'>('handshake', 'session'),
    sealModel: fc.constantFrom<'same' | 'other'>('same', 'same', 'same', 'other'), edits: editsArbitrary,
  }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('replay' as const), pick: fc.nat(), edits: editsArbitrary }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 2048 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unknownSession' as const), sessionId: fc.uint8Array({ minLength: 16, maxLength: 16 }), seq: fc.nat(), tail: fc.uint8Array({ minLength: 1, maxLength: 256 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'oversized' as const }) },
);

const nonceArbitrary = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 1100 }) },
  { weight: 1, arbitrary: fc.constantFrom(new Uint8Array(0), new Uint8Array(1), new Uint8Array(1024), new Uint8Array(1025)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1025, maxLength: 100_000 }) },
);

const teeModelArbitrary = idArbitrary([MODEL]);

/** Every RPC's case arbitrary. */
export const RPC_CASE_ARBITRARIES: { [R in RpcName]: fc.Arbitrary<FuzzCase> } = {
  'Models.ListModels': bodyArbitrary(fc.constant({})).map((body) => ({ rpc: 'Models.ListModels' as const, body })),
  'Trust.GetRegistry': bodyArbitrary(fc.constant({})).map((body) => ({ rpc: 'Trust.GetRegistry' as const, body })),
  'Tee.ListNodes': bodyArbitrary(fc.constant({})).map((body) => ({ rpc: 'Tee.ListNodes' as const, body })),
  'Models.GetFheSpec': bodyArbitrary(fc.record({
    modelId: idArbitrary([MODEL]),
    variant: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('', 'blocks', 'feature-major', 'expanded') }, { weight: 1, arbitrary: fc.string({ maxLength: 100 }) }),
  })).map((body) => ({ rpc: 'Models.GetFheSpec' as const, body })),
  'Fhe.Predict': bodyArbitrary(predictArbitrary).map((body) => ({ rpc: 'Fhe.Predict' as const, body })),
  'Fhe.CloseSession': bodyArbitrary(fc.record({
    session: fc.oneof(
      { weight: 2, arbitrary: fc.constant('fresh' as const) },
      { weight: 2, arbitrary: fc.constantFrom('closed' as const, 'empty' as const) },
      { weight: 3, arbitrary: fc.record({ id: fc.oneof(fc.uuid(), fc.string({ maxLength: 100 }), fc.string({ minLength: 5000, maxLength: 10_000 })) }) },
    ),
  })).map((body) => ({ rpc: 'Fhe.CloseSession' as const, body })),
  'Fhe.CreateSession': uploadArbitrary.map((upload) => ({ rpc: 'Fhe.CreateSession' as const, upload })),
  'Tee.GetEvidence': bodyArbitrary(fc.record({
    modelId: teeModelArbitrary,
    nonce: nonceArbitrary,
    exclude: fc.oneof({ weight: 4, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.array(fc.oneof(fc.constant('remote-1'), fc.string({ maxLength: 40 })), { maxLength: 20 }) }),
  })).map((body) => ({ rpc: 'Tee.GetEvidence' as const, body })),
  'Tee.Infer': bodyArbitrary(fc.record({
    nodeId: fc.oneof({ weight: 8, arbitrary: fc.constant('remote-1') }, { weight: 1, arbitrary: fc.constantFrom('', 'remote-2', 'local', 'REMOTE-1') }, { weight: 1, arbitrary: fc.string({ maxLength: 200 }) }),
    modelId: teeModelArbitrary,
    frame: frameArbitrary,
  })).map((body) => ({ rpc: 'Tee.Infer' as const, body })),
  'TeeNode.GetEvidence': bodyArbitrary(fc.record({ nonce: nonceArbitrary })).map((body) => ({ rpc: 'TeeNode.GetEvidence' as const, body })),
  'TeeNode.Infer': bodyArbitrary(fc.record({ modelId: teeModelArbitrary, frame: frameArbitrary })).map((body) => ({ rpc: 'TeeNode.Infer' as const, body })),
};

/** One service's cases: its RPCs with equal weight. */
export function serviceCaseArbitrary(service: FuzzService): fc.Arbitrary<FuzzCase> {
  return fc.oneof(...FUZZ_SERVICES[service].map((rpc) => RPC_CASE_ARBITRARIES[rpc]));
}

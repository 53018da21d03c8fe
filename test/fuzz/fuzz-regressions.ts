import type { FuzzCase, FuzzService } from './rpc-case-arbitraries';

// Built from its code point, so no transpiler rewrites it.
const EMOJI = String.fromCodePoint(0x1f600);

/**
 * Minimal counterexamples the fuzzer found (bench/results/fuzz.md), replayed before the random cases of every run so
 * each defect is checked deterministically, whatever the seed. They are judged exactly like random cases.
 */
export type FuzzRegression = {
  service: FuzzService;
  why: string;
  case: FuzzCase;
  /** 'last': after the random cases (it breaks the server for everything after it), then the final liveness check. */
  when?: 'first' | 'last';
};

export const FUZZ_REGRESSIONS: readonly FuzzRegression[] = [
  {
    service: 'Models',
    why: 'valid UTF-8: model_not_found echoes the id cut at 61 UTF-16 units, splitting a surrogate pair; grpc-js encodeURI(status details) throws outside any handler and veil serve exits',
    case: { rpc: 'Models.GetFheSpec', body: { message: { modelId: `${'a'.repeat(60)}${EMOJI}bbbb`, variant: '' }, wire: [] } },
  },
  {
    service: 'Fhe',
    why: 'the same through the variant name of a CreateSession header',
    case: { rpc: 'Fhe.CreateSession', upload: { header: { model: 'breast-cancer-lr', variant: `${'v'.repeat(60)}${EMOJI}vvvv`, spec: 'real', galois: 'exact', relin: 'exact' }, galois: 'real', relin: 'none', chunkBytes: 1 << 20, extras: [], frameEdits: [], cancelAfter: undefined } },
  },
  {
    service: 'Models',
    why: 'one byte that is not protobuf: grpc-js answers bare INTERNAL "Error deserializing request"',
    case: { rpc: 'Models.ListModels', body: { raw: Uint8Array.of(0) } },
  },
  {
    service: 'TeeNode',
    why: 'the same on veil worker',
    case: { rpc: 'TeeNode.GetEvidence', body: { raw: Uint8Array.of(0) } },
  },
  {
    service: 'Trust',
    why: 'a message over the gateway limit: grpc-js answers RESOURCE_EXHAUSTED without veil-error-code or x-request-id',
    case: { rpc: 'Trust.GetRegistry', body: { oversized: true } },
  },
  {
    service: 'Tee',
    why: 'a sealed request the gateway accepts but the worker\'s smaller limit refuses quarantines the node (unreachable)',
    case: { rpc: 'Tee.Infer', body: { message: { nodeId: 'remote-1', modelId: 'breast-cancer-lr', frame: { kind: 'oversized' } }, wire: [] } },
  },
  {
    service: 'Fhe',
    why: 'relinearisation bytes for a model that needs none are stored as session keys, unchecked',
    case: { rpc: 'Fhe.CreateSession', upload: { header: { model: 'breast-cancer-lr', variant: 'blocks', spec: 'real', galois: 'exact', relin: 'exact' }, galois: 'real', relin: { garbage: 100_000 }, chunkBytes: 1 << 20, extras: [], frameEdits: [], cancelAfter: undefined } },
  },
  {
    service: 'Fhe',
    why: 'real keys in 19-byte chunks: 70,000 messages, still being read when the 10 s deadline passed (answered_in_time)',
    case: { rpc: 'Fhe.CreateSession', upload: { header: { model: 'breast-cancer-lr', variant: '', spec: 'real', galois: 'exact', relin: 'exact' }, galois: 'real', relin: 'none', chunkBytes: 19, extras: [], frameEdits: [], cancelAfter: undefined } },
  },
  // 40 uploads of real Galois keys cut at 97 331·k bytes (k = 1…40).
  ...Array.from({ length: 40 }, (_, k): FuzzRegression => ({
    service: 'Fhe',
    why: 'truncated Galois keys abort SEAL in the FHE worker ("Aborted()"); after ~30 such uploads every valid Predict answers internal "evaluation failed", for good',
    case: { rpc: 'Fhe.CreateSession', upload: { header: { model: 'breast-cancer-lr', variant: 'blocks', spec: 'real', galois: 'exact', relin: 'exact' }, galois: { truncated: 97_331 * (k + 1) }, relin: 'none', chunkBytes: 1 << 20, extras: [], frameEdits: [], cancelAfter: undefined } },
    when: 'last',
  })),
];

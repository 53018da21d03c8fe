import type { FuzzCase, FuzzService } from './rpc-case-arbitraries';

// Built from code points: a lone surrogate written as a string escape does not survive every transpiler.
const LONE_HIGH = String.fromCharCode(0xd800);
const LONE_LOW = String.fromCharCode(0xdc00);
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
    why: 'a lone surrogate in model_id (bytes ED A0 80) is echoed into the status message; grpc-js encodeURI throws outside any handler',
    case: { rpc: 'Models.GetFheSpec', body: { message: { modelId: LONE_HIGH, variant: '' }, wire: [] } },
  },
  {
    service: 'Models',
    why: 'valid UTF-8: truncating a 66-character model id at 61 splits a surrogate pair (same crash)',
    case: { rpc: 'Models.GetFheSpec', body: { message: { modelId: `${'a'.repeat(60)}${EMOJI}bbbb`, variant: '' }, wire: [] } },
  },
  {
    service: 'Fhe',
    why: 'variant is echoed the same way',
    case: { rpc: 'Fhe.CreateSession', upload: { header: { model: 'breast-cancer-lr', variant: LONE_LOW, spec: 'real', galois: 'exact', relin: 'exact' }, galois: 'real', relin: 'none', chunkBytes: 1 << 20, extras: [], frameEdits: [], cancelAfter: undefined } },
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
  // 40 uploads of real Galois keys cut at 97 331·k bytes (k = 1…40).
  ...Array.from({ length: 40 }, (_, k): FuzzRegression => ({
    service: 'Fhe',
    why: 'truncated Galois keys abort SEAL in the FHE worker ("Aborted()"); after ~30 such uploads every valid Predict answers internal "evaluation failed", for good',
    case: { rpc: 'Fhe.CreateSession', upload: { header: { model: 'breast-cancer-lr', variant: 'blocks', spec: 'real', galois: 'exact', relin: 'exact' }, galois: { truncated: 97_331 * (k + 1) }, relin: 'none', chunkBytes: 1 << 20, extras: [], frameEdits: [], cancelAfter: undefined } },
    when: 'last',
  })),
];

// Public face of the RPC fuzz harness, for bench/fuzz.ts (the jest test imports the files directly).
export { FUZZ_PROPERTIES } from './judge-answer';
export type { FuzzProperty } from './judge-answer';
export { runFuzz, fuzzGateway, fuzzWorker } from './rpc-fuzz';
export type { FuzzOutcome } from './rpc-fuzz';
export { FUZZ_SERVICES } from './rpc-case-arbitraries';

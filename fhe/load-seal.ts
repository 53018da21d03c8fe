import SEAL from 'node-seal';
import type { SEALLibrary } from 'node-seal/implementation/seal';

export type { SEALLibrary };

let cached: Promise<SEALLibrary> | undefined;

/** Instantiates node-seal's WASM once per thread (≈50 ms); later calls share it. */
export function loadSeal(): Promise<SEALLibrary> {
  cached ??= SEAL();
  return cached;
}

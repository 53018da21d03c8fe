// Tests are TypeScript transpiled by swc (no type-check here: `npm test` runs `tsc --noEmit` first).
// The custom environment shares the host realm's typed arrays so onnxruntime-node's `instanceof` checks pass.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/support/jest-environment.cjs',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json'],
  testTimeout: 120_000,
  maxWorkers: 2,
  // A worker that holds more than this after a test file is replaced: SEAL's WASM heaps never shrink, so without it
  // one worker's memory is the sum of the largest FHE suites it happened to run.
  workerIdleMemoryLimit: '1536MB',
};

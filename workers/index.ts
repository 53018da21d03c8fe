export { createFhePool } from './fhe';
export type { CreateFhePoolOptions, FhePool, FhePredictParameters, SharedSessionKeys } from './fhe';
export { WorkerTaskError } from './task-envelope';

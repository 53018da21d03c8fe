export { createFhePool } from './create-fhe-pool';
export type { CreateFhePoolOptions, FhePool, FhePredictParameters } from './create-fhe-pool';
export type { FheWorkerStats, SharedSessionKeys } from './fhe-task-types';

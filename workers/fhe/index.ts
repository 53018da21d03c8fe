export { createFhePool } from './create-fhe-pool';
export type { CreateFhePoolOptions, FhePool, FhePredictParameters } from './create-fhe-pool';
export type { SharedSessionKeys } from './fhe-task-types';

export { loadConfig } from './load-config';
export type { LoadConfigParameters } from './load-config';
export { CONFIG_SCHEMA } from './config-schema';
export type { VeilConfig, ConfigField } from './config-schema';
export { ConfigError } from './config-error';
export type { ConfigProblem } from './config-error';

export { loadConfig, loadConfigWithSources } from './load-config';
export type { LoadConfigParameters, LoadedConfig, ConfigSourceKind, ConfigValueSource } from './load-config';
export { CONFIG_SCHEMA, isConfigField } from './config-schema';
export type { VeilConfig, ConfigField, ConfigTree } from './config-schema';
export { ConfigError } from './config-error';
export type { ConfigProblem } from './config-error';

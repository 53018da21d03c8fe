export { createGateway } from './create-gateway';
export type { Gateway, CreateGatewayDependencies } from './create-gateway';
export { loadConfig, ConfigError, CONFIG_SCHEMA } from './config';
export type { VeilConfig } from './config';
export { createLogger } from './logger';
export type { Logger, LogLevel, LogFields } from './logger';
export * from './errors';

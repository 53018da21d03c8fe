export { readTracingSettings, TracingSettingsError, type ReadTracingSettingsParameters, type SamplerKind, type TracingSettings } from './read-tracing-settings';
export { startTracing, type StartTracingParameters, type Tracing } from './start-tracing';

export { startTelemetry } from './start-telemetry';
export type { Telemetry } from './start-telemetry';
export { recordRpc } from './rpc-metrics';

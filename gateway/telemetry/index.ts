export { startTelemetry } from './start-telemetry';
export type { Telemetry } from './start-telemetry';
export { recordRpc } from './rpc-metrics';
export { observeFhePool, recordFheGroups } from './fhe-metrics';
export { meterTeeStream, observeTeeNodes } from './tee-metrics';
export { observePayments, timeLedger } from './payments-metrics';

export { loadVeilProto, VEIL_PROTO_FILES, VEIL_SERVICES } from './load-veil-proto';
export type { VeilProto, VeilServiceName } from './load-veil-proto';
export type * from './messages';
export type * from './tee-messages';
export { closeGrpcServer } from './close-grpc-server';
export { scheduleAt, MAX_TIMER_DELAY_MS } from './schedule-at';
export type { ScheduledCall, ScheduleTimers } from './schedule-at';
export { runWithLimits, callUnary } from './run-with-limits';
export type { CallLimits, CallLimitErrors } from './run-with-limits';

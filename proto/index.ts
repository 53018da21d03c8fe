export { loadVeilProto, VEIL_PROTO_FILES } from './load-veil-proto';
export type { VeilProto } from './load-veil-proto';
export type * from './messages';
export type * from './tee-messages';

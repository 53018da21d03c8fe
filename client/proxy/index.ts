// Public face of client/proxy/: `veil proxy`, the local OpenAI-compatible endpoint that seals to attested enclaves.
export { startVeilProxy } from './start-veil-proxy';
export type { StartVeilProxyOptions, VeilProxy } from './start-veil-proxy';
export type { ProxyAttestation } from './create-proxy-models';
export { toProxyError, ProxyError } from './to-proxy-error';
export type { ProxyErrorBody } from './to-proxy-error';

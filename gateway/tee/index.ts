// Public face of gateway/tee/: TEE-mode routing (attested node table, quarantine, relay) and the veil.v1.Tee service.
export { startTeeRouting, TeeConfigError } from './start-tee-routing';
export type { StartTeeRoutingParameters, TeeRouting } from './start-tee-routing';
export { createTeeRouter } from './create-tee-router';
export type { CreateTeeRouterOptions, TeeCallContext, TeeNodeState, TeeNodeStatus, TeeRouter, TeeRouterTimers } from './create-tee-router';
export { createTeeService } from './create-tee-service';
export { createLocalTeeLink } from './create-local-tee-link';
export { createRemoteTeeLink } from './create-remote-tee-link';
export type { TeeLink, TeeLinkCallOptions } from './tee-link';
export { verifyNodeEvidence } from './verify-node-evidence';
export type { TeeRoutingPolicy, VerifiedNode, RefusedNode } from './verify-node-evidence';

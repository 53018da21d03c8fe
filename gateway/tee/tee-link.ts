import type { GetTeeEvidenceRequest, GetTeeEvidenceResponse, TeeInferRequest, TeeInferResponse } from '../../proto';

/** Per-call limits a link passes on to the node: the deadline (epoch ms, always set) and the caller's cancellation. */
export type TeeLinkCallOptions = { deadline: number; signal?: AbortSignal };

/**
 * How the gateway reaches one TEE node: in process (`createLocalTeeLink`) or over gRPC to a `veil worker`
 * (`createRemoteTeeLink`). A link only moves bytes; it never opens them.
 * Failures: `TeeError` with the node's code (e.g. `tee_replay`), `TeeError('unavailable')` when the node cannot
 * be reached or is stopping, `VeilError('deadline_exceeded' | 'cancelled')` for the caller's limits.
 */
export type TeeLink = {
  readonly id: string;
  /** "in-process" or host:port; shown in ListNodes and logs. */
  readonly address: string;
  getEvidence(request: GetTeeEvidenceRequest, options: TeeLinkCallOptions): Promise<GetTeeEvidenceResponse>;
  infer(request: TeeInferRequest, options: TeeLinkCallOptions): Promise<TeeInferResponse>;
  close(): void;
};

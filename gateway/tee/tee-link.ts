import type { GetTeeEvidenceRequest, GetTeeEvidenceResponse, TeeInferRequest, TeeInferResponse, TeeStreamEvent } from '../../proto';

/** Per-call limits a link passes on to the node: the deadline (epoch ms, always set) and the caller's cancellation. */
export type TeeLinkCallOptions = { deadline: number; signal?: AbortSignal };

/**
 * How the gateway reaches one TEE node: in process (`createLocalTeeLink`) or over gRPC to a `veil worker`
 * (`createRemoteTeeLink`). A link only moves bytes; it never opens them.
 * Failures: `TeeError` with the node's code (e.g. `tee_replay`); `TeeError('unavailable')` only when the node cannot
 * be reached or is stopping (the one failure the router counts against a node); `VeilError` for the caller's limits
 * (`deadline_exceeded`, `cancelled`) and for refusals of the request itself (`message_too_large`, `invalid_argument`, …).
 */
export type TeeLink = {
  readonly id: string;
  /** "in-process" or host:port; shown in ListNodes and logs. */
  readonly address: string;
  /** Largest gRPC message the link sends or accepts (`tee.maxMessageBytes`); 0 = in process, no message limit. */
  readonly maxMessageBytes: number;
  getEvidence(request: GetTeeEvidenceRequest, options: TeeLinkCallOptions): Promise<GetTeeEvidenceResponse>;
  infer(request: TeeInferRequest, options: TeeLinkCallOptions): Promise<TeeInferResponse>;
  /** The node's sealed event stream, relayed event by event (issue #10); same failures as `infer`. Breaking out cancels the node call. */
  inferStream(request: TeeInferRequest, options: TeeLinkCallOptions): AsyncIterable<TeeStreamEvent>;
  close(): void;
};

import type { TeeCallContext, TeeRouter } from '../tee';

/**
 * One node event of a sealed stream, relayed untouched (proto `veil.v1.TeeStreamEvent`, the same shape as its TypeScript type). The last event of a stream
 * carries the node's receipt (`signature`, `signingAddress`) and timings; earlier ones carry only `sealedEvent`.
 */
export type HttpTeeStreamEvent = { sealedEvent: Uint8Array; signature?: string; signingAddress?: string; nodeMicros?: number; computeMicros?: number };

/** A model some healthy attested node serves, as the router reports it. */
export type HttpTeeModel = { id: string; kind: string; contextLength: number; nodes: number };

/**
 * What the HTTP surface needs of the TEE router: evidence, unary relay, stream relay and the model list. Narrow on
 * purpose, so routes are tested against fakes; `TeeRouter` satisfies it.
 */
export type HttpTeeRouter = Pick<TeeRouter, 'getEvidence' | 'infer'> & {
  inferStream(params: Parameters<TeeRouter['infer']>[0], context: TeeCallContext): AsyncIterable<HttpTeeStreamEvent>;
  models(): HttpTeeModel[];
};

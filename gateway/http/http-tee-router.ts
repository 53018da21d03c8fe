import type { TeeStreamEvent } from '../../proto';
import type { TeeRouter } from '../tee';

/**
 * One node event of a sealed stream, relayed untouched. The last event of a stream carries the node's receipt
 * (`signature`, `signingAddress`) and timings; earlier ones carry only `sealedEvent`.
 */
export type HttpTeeStreamEvent = TeeStreamEvent;

/** A model some healthy attested node serves, as the router reports it. */
export type HttpTeeModel = ReturnType<TeeRouter['models']>[number];

/**
 * What the HTTP surface needs of the TEE router: evidence, unary relay, stream relay and the model list. Narrow on
 * purpose, so routes are tested against fakes; `TeeRouter` is one.
 */
export type HttpTeeRouter = Pick<TeeRouter, 'getEvidence' | 'infer' | 'inferStream' | 'models'>;

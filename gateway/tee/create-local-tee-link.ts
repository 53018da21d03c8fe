import { runWithLimits, streamWithLimits } from '../../proto';
import { TeeError } from '../../tee';
import type { TeeNode } from '../../workers/tee';
import { VeilError } from '../errors';
import type { TeeLink, TeeLinkCallOptions } from './tee-link';

const ERRORS = { cancelled: () => new VeilError('cancelled'), deadlineExceeded: () => new VeilError('deadline_exceeded') };

/**
 * A link to a TEE node running inside the gateway process (the development default, SIMULATED evidence). The
 * caller's deadline and cancellation reach the node as a signal: it skips evidence, queued tasks, sealing and
 * signing nobody waits for, exactly as a remote node does.
 */
export function createLocalTeeLink(id: string, node: TeeNode): TeeLink {
  const call = <T>(run: (signal: AbortSignal) => Promise<T>, limits: TeeLinkCallOptions) =>
    runWithLimits(async (signal) => {
      try {
        return await run(signal);
      } catch (err) {
        throw err instanceof Error ? err : new TeeError('internal', 'the TEE node failed');
      }
    }, limits, ERRORS);
  return {
    id,
    address: 'in-process',
    maxMessageBytes: 0,
    getEvidence: (request, limits) => call((signal) => node.getEvidence(request, { signal }), limits),
    infer: (request, limits) => call((signal) => node.infer(request, { signal }), limits),
    inferStream: (request, limits) => streamWithLimits((signal) => node.inferStream(request, { signal }), limits, ERRORS),
    close: () => undefined,
  };
}

import { TeeError } from '../../tee';
import type { TeeNode } from '../../workers/tee';
import { VeilError } from '../errors';
import type { TeeLink } from './tee-link';

/**
 * A link to a TEE node running inside the gateway process (the development default, SIMULATED evidence).
 * The node API takes no signal, so a cancelled or late call is abandoned here (its result discarded) while the
 * pool finishes the task; remote links cancel the node call itself.
 */
export function createLocalTeeLink(id: string, node: TeeNode): TeeLink {
  return {
    id,
    address: 'in-process',
    getEvidence: (request, options) => withLimits(() => node.getEvidence(request), options),
    infer: (request, options) => withLimits(() => node.infer(request), options),
    close: () => undefined,
  };
}

function withLimits<T>(call: () => Promise<T>, options: { deadline: number; signal?: AbortSignal }): Promise<T> {
  if (options.signal?.aborted) return Promise.reject(new VeilError('cancelled'));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new VeilError('deadline_exceeded'))), Math.max(0, options.deadline - Date.now()));
    const onAbort = () => finish(() => reject(new VeilError('cancelled')));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      settle();
    };
    call().then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err instanceof Error ? err : new TeeError('internal', 'the TEE node failed'))),
    );
  });
}

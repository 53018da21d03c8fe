import { status as GrpcStatus } from '@grpc/grpc-js';
import { VeilClientError } from './veil-client-error';

export type RetryPolicy = {
  /** Attempts in all, the first included (1 = no retry). */
  attempts: number;
  /** The wait before the second attempt; doubled for each further one, with jitter. */
  backoffMs: number;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, backoffMs: 50 };

/**
 * A call failed because no gateway answered it (gRPC UNAVAILABLE: connection refused or dropped, or a replica that
 * is draining). Such a call never reached a handler that committed anything, or it carries an idempotency key: it is
 * safe to send again, and on a balanced channel the next attempt goes to another replica.
 */
export function isUnavailable(err: unknown): boolean {
  return err instanceof VeilClientError && (err.grpcStatus === GrpcStatus.UNAVAILABLE || (err.grpcStatus === undefined && err.code === 'unavailable'));
}

/**
 * Runs `attempt` until it succeeds, fails with anything but UNAVAILABLE, or the policy's attempts are spent; waits
 * between attempts (exponential, jittered, so clients that lost the same replica do not retry in step). An abort
 * stops the waiting at once.
 * @example const models = await retryUnavailable(() => unary(models, 'ListModels', {}), DEFAULT_RETRY_POLICY, signal);
 */
export async function retryUnavailable<T>(attempt: (n: number) => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n + 1 >= policy.attempts || !isUnavailable(err) || signal?.aborted) throw err;
      const wait = policy.backoffMs * 2 ** n * (0.5 + Math.random() / 2);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}

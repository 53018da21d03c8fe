import { VeilError } from '../errors';

export type UploadStreamLimits = {
  /** Aborted when the client cancels or its own deadline passes. */
  signal: AbortSignal;
  /** The client's deadline (epoch ms, 0 = none): tells a deadline from a cancel when `signal` aborts. */
  clientDeadline: number;
  /** Longest wait for the next message. */
  idleTimeoutMs: number;
  /** Epoch ms by which the whole stream must have arrived. */
  deadline: number;
  now?: () => number;
};

export type UploadStream<T> = {
  /** The next message, or undefined once the client half-closed. @throws {VeilError} `cancelled`, `deadline_exceeded`, `upload_timeout`. */
  next(): Promise<T | undefined>;
  /**
   * For a stream that ended before it was complete: resolves if it was a genuine half-close, throws `cancelled` if
   * the client in fact cancelled. A client's RST_STREAM reaches a grpc-js handler as end-of-stream first and as
   * 'cancelled' a few milliseconds later (measured 8 ms on loopback), so wait up to `graceMs` for the cancel.
   */
  confirmEnd(graceMs?: number): Promise<void>;
  /** Stops reading (the stream is destroyed; gRPC then answers with the handler's status). */
  close(): void;
};

/**
 * Reads a client stream under the upload limits: every wait for a message races the client's cancellation, the idle
 * timeout and the overall deadline, so a stalled, slow or cancelled upload stops holding memory and its upload slot
 * at once instead of waiting on a read that may never complete.
 */
export function readUploadStream<T>(stream: AsyncIterable<T>, limits: UploadStreamLimits): UploadStream<T> {
  const iterator = stream[Symbol.asyncIterator]();
  const now = limits.now ?? Date.now;
  const stopped = () => (limits.clientDeadline > 0 && now() >= limits.clientDeadline
    ? new VeilError('deadline_exceeded', 'the client deadline passed during the key upload')
    : new VeilError('cancelled', 'the client cancelled the key upload'));
  return {
    async next() {
      if (limits.signal.aborted) throw stopped();
      const overall = limits.deadline - now();
      if (overall <= 0) throw new VeilError('upload_timeout', 'the key upload did not complete in time');
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const interrupt = new Promise<never>((_, reject) => {
        const idle = limits.idleTimeoutMs <= overall;
        timer = setTimeout(() => reject(new VeilError('upload_timeout', idle
          ? `the key upload sent nothing for ${limits.idleTimeoutMs} ms`
          : 'the key upload did not complete in time')), Math.min(limits.idleTimeoutMs, overall));
        onAbort = () => reject(stopped());
        limits.signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        const result = await Promise.race([iterator.next(), interrupt]);
        return result.done ? undefined : result.value;
      } catch (err) {
        // gRPC destroys a cancelled stream ("Premature close") right after telling us it was cancelled.
        if (limits.signal.aborted) throw stopped();
        throw err;
      } finally {
        clearTimeout(timer);
        if (onAbort) limits.signal.removeEventListener('abort', onAbort);
      }
    },
    async confirmEnd(graceMs = 100) {
      if (!limits.signal.aborted) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            limits.signal.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, graceMs);
          limits.signal.addEventListener('abort', done, { once: true });
        });
      }
      if (limits.signal.aborted) throw stopped();
    },
    close() {
      void iterator.return?.().catch(() => undefined);
    },
  };
}

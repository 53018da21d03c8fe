import type { Readable } from 'node:stream';
import { VeilError } from '../errors';

/**
 * Reads a whole request body of at most `limit` bytes. A declared `content-length` above the limit is refused before
 * a byte is read, and a body that grows past it (chunked) as soon as it does, so memory never exceeds the limit.
 * A body still arriving when `signal` aborts (the call's deadline, the client gone) stops being read at once, with the
 * signal's reason. The request is never destroyed (the refusal is still answered on its connection).
 */
export async function readLimitedBody(body: Readable | undefined, contentLength: string | undefined, limit: number, signal?: AbortSignal): Promise<Buffer> {
  const declared = contentLength === undefined ? undefined : Number(contentLength);
  if (declared !== undefined && declared > limit) {
    throw new VeilError('message_too_large', `the body of ${declared} bytes exceeds the limit of ${limit} bytes`, { param: 'body' });
  }
  if (!body) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  let total = 0;
  const chunks: AsyncIterator<Buffer> = body.iterator({ destroyOnReturn: false });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(stopped(signal!));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await Promise.race([chunks.next(), aborted]);
      } catch (err) {
        if (err instanceof VeilError) throw err;
        throw new VeilError('cancelled', 'the client closed the connection while sending the body', { cause: err });
      }
      if (next.done) break;
      total += next.value.byteLength;
      if (total > limit) throw new VeilError('message_too_large', `the body exceeds the limit of ${limit} bytes`, { param: 'body' });
      parts.push(next.value);
    }
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    void chunks.return?.();
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

function stopped(signal: AbortSignal): VeilError {
  return signal.reason instanceof VeilError ? signal.reason : new VeilError('cancelled', 'the request was cancelled while its body was arriving');
}

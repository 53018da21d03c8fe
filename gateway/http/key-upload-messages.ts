import type { Readable } from 'node:stream';
import { MIN_KEY_CHUNK_BYTES, type CreateSessionRequest, type SessionHeader } from '../../proto';
import { VeilError } from '../errors';

/** The largest key chunk handed on, as the gRPC SDK sends them (CreateSession's ≤ 1 MiB chunks). */
export const MAX_KEY_CHUNK_BYTES = 1024 * 1024;

/**
 * An HTTP key upload as the CreateSession messages the gRPC path receives, so one implementation (createSession)
 * judges both: the header first, then the body — Galois keys ‖ relinearisation keys — cut into chunks of at most
 * `maxChunkBytes` as the bytes arrive, each labelled by where it lies. Bytes past the declared Galois size are
 * relinearisation key bytes (or, for a model without them, surplus Galois bytes), so an overlong body is refused by
 * the same "more bytes than the header declared" rule as on gRPC.
 *
 * Network reads can be small (a client writing 1 KB at a time), so bytes are gathered until a chunk holds at least
 * MIN_KEY_CHUNK_BYTES (the rule createSession enforces) or completes its key, and never more than `maxChunkBytes`
 * are held. Reading stops when the consumer stops (`return()`), without destroying the request, so
 * the refusal can still be answered on the connection. A connection that breaks mid-body ends the upload as
 * `cancelled`.
 */
export async function* keyUploadMessages(
  body: Readable | undefined, header: SessionHeader, maxChunkBytes = MAX_KEY_CHUNK_BYTES,
): AsyncGenerator<CreateSessionRequest, void, undefined> {
  yield { header };
  if (!body) return;
  const galois = header.galoisKeysBytes;
  const surplus = header.relinKeysBytes > 0 ? 'KIND_RELIN' : 'KIND_GALOIS';
  const chunks: AsyncIterator<Buffer> = body.iterator({ destroyOnReturn: false });
  let offset = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const kindAt = (at: number) => (at < galois ? 'KIND_GALOIS' as const : surplus);
  // Where the key containing `at` ends: a chunk never crosses it, and reaching it completes the key.
  const keyEnd = (at: number) => (at < galois ? galois : Infinity);
  const flush = (): CreateSessionRequest => {
    const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    const message: CreateSessionRequest = { chunk: { kind: kindAt(offset), data } };
    offset += pendingBytes;
    pending = [];
    pendingBytes = 0;
    return message;
  };
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (err) {
        throw new VeilError('cancelled', 'the client closed the connection during the key upload', { cause: err });
      }
      if (next.done) break;
      let data: Uint8Array = next.value;
      while (data.byteLength > 0) {
        const start = offset + pendingBytes;
        const take = Math.min(data.byteLength, maxChunkBytes - pendingBytes, keyEnd(start) - start);
        pending.push(data.subarray(0, take));
        pendingBytes += take;
        data = data.subarray(take);
        const completesKey = offset + pendingBytes === keyEnd(offset);
        if (pendingBytes >= Math.min(MIN_KEY_CHUNK_BYTES, maxChunkBytes) || completesKey) yield flush();
      }
    }
    // Whatever is left (the body ended): handed on as it is, so createSession reports the byte counts.
    if (pendingBytes > 0) yield flush();
  } finally {
    await chunks.return?.();
  }
}

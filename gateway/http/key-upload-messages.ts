import type { Readable } from 'node:stream';
import type { CreateSessionRequest, SessionHeader } from '../../proto';
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
 * Nothing is buffered here; reading stops when the consumer stops (`return()`), without destroying the request, so
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
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (err) {
        throw new VeilError('cancelled', 'the client closed the connection during the key upload', { cause: err });
      }
      if (next.done) return;
      let data: Uint8Array = next.value;
      while (data.byteLength > 0) {
        const inGalois = offset < galois;
        const take = Math.min(data.byteLength, maxChunkBytes, inGalois ? galois - offset : Infinity);
        yield { chunk: { kind: inGalois ? 'KIND_GALOIS' : surplus, data: data.subarray(0, take) } };
        offset += take;
        data = data.subarray(take);
      }
    }
  } finally {
    await chunks.return?.();
  }
}

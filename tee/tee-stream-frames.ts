/**
 * Sealed stream events (issue #10, tee/PROTOCOL.md §10): a response delivered as events, each its own AES-GCM frame
 * under the channel's server-to-client key. The event index enters both the nonce and the AAD, and the AAD carries the
 * hash of the request, so a relay cannot reorder, drop, repeat or move events between streams without detection; the
 * transcript hash over every frame is what the enclave signs at the end.
 *
 *   frame = 0x82 ‖ seq u64be ‖ index u32be ‖ AES-128-GCM(s2c_key, s2c_nonce XOR (u32be(index + 1) ‖ u64be(seq)),
 *           aad = "veil-tee-v1 stream" ‖ 0x00 ‖ SHA-256(sealed request) ‖ bytes[0..13))
 *
 * index + 1 keeps every event nonce distinct from the single-response nonce of the same seq (s2c_nonce XOR (0^4 ‖ seq)).
 * @internal
 */
import { createHash } from 'node:crypto';
import { FRAME_STREAM_EVENT, INDEX_BYTES, MAX_STREAM_EVENTS, SEQ_BYTES, STREAM_HEADER_BYTES, TEE_PROTOCOL } from './tee-protocol';
import { TeeError } from './tee-error';

const STREAM_AAD_LABEL = new TextEncoder().encode(`${TEE_PROTOCOL} stream`);

export function streamEventHeader(seq: bigint, index: number): Buffer {
  if (!Number.isInteger(index) || index < 0 || index > MAX_STREAM_EVENTS) throw new TeeError('tee_stream_invalid', 'the stream has too many events');
  const header = Buffer.alloc(STREAM_HEADER_BYTES);
  header[0] = FRAME_STREAM_EVENT;
  header.writeBigUInt64BE(seq, 1);
  header.writeUInt32BE(index, 1 + SEQ_BYTES);
  return header;
}

/** nonce = base XOR (u32be(index + 1) ‖ u64be(seq)); the 12-byte base is the channel's s2c nonce. */
export function streamEventNonce(base: Buffer, seq: bigint, index: number): Buffer {
  const mask = Buffer.alloc(INDEX_BYTES + SEQ_BYTES);
  mask.writeUInt32BE(index + 1, 0);
  mask.writeBigUInt64BE(seq, INDEX_BYTES);
  const nonce = Buffer.from(base);
  for (let i = 0; i < mask.length; i++) nonce[i]! ^= mask[i]!;
  return nonce;
}

/** aad = "veil-tee-v1 stream" ‖ 0x00 ‖ SHA-256(sealed request) ‖ header(13). */
export function streamEventAad(requestHash: Uint8Array, header: Uint8Array): Buffer {
  return Buffer.concat([STREAM_AAD_LABEL, Buffer.of(0), requestHash, header]);
}

/** @throws {TeeError} `tee_stream_invalid` for bytes that are not a stream event frame. */
export function parseStreamEventFrame(frame: Uint8Array): { header: Uint8Array; seq: bigint; index: number; ciphertext: Uint8Array } {
  const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (bytes[0] !== FRAME_STREAM_EVENT || bytes.byteLength <= STREAM_HEADER_BYTES) throw new TeeError('tee_stream_invalid', 'a stream event is not a veil-tee-v1 event frame');
  return { header: bytes.subarray(0, STREAM_HEADER_BYTES), seq: bytes.readBigUInt64BE(1), index: bytes.readUInt32BE(1 + SEQ_BYTES), ciphertext: bytes.subarray(STREAM_HEADER_BYTES) };
}

/** transcript = SHA-256(SHA-256(frame_0) ‖ … ‖ SHA-256(frame_{n-1})): fixed memory however long the stream. */
export type StreamTranscript = { add(frame: Uint8Array): void; readonly count: number; digest(): Buffer };

export function createStreamTranscript(): StreamTranscript {
  const outer = createHash('sha256');
  let count = 0;
  let done: Buffer | undefined;
  return {
    add(frame) {
      if (done) throw new TeeError('tee_stream_invalid', 'the stream transcript is already closed');
      outer.update(createHash('sha256').update(frame).digest());
      count++;
    },
    get count() {
      return count;
    },
    digest() {
      return (done ??= outer.digest());
    },
  };
}

/**
 * Frame headers and associated data of the TEE channel (layouts in tee/PROTOCOL.md). Everything here is
 * public framing; the secrets live in channel keys and HPKE contexts.
 * @internal
 */
import {
  ENC_BYTES, FRAME_HANDSHAKE_REQUEST, FRAME_RESPONSE, FRAME_SESSION_REQUEST, HANDSHAKE_HEADER_BYTES, MODEL_ID_PATTERN,
  RESPONSE_HEADER_BYTES, SEQ_BYTES, SESSION_HEADER_BYTES, SESSION_ID_BYTES, TEE_PROTOCOL,
} from './tee-protocol';
import { sha256 } from './channel-keys';
import { TeeError } from './tee-error';

const text = new TextEncoder();

/** HPKE `info` = "veil-tee-v1" ‖ 0x00 ‖ utf8(model id): a context for another model or protocol cannot open. */
export function hpkeInfo(modelId: string): Uint8Array {
  assertModelId(modelId);
  return Buffer.concat([text.encode(TEE_PROTOCOL), Buffer.of(0), text.encode(modelId)]);
}

/** AAD of a session request = info ‖ 0x00 ‖ header(25). */
export function sessionRequestAad(modelId: string, header: Uint8Array): Uint8Array {
  return Buffer.concat([hpkeInfo(modelId), Buffer.of(0), header]);
}

/** AAD of a response = "veil-tee-v1 response" ‖ 0x00 ‖ SHA-256(sealed request) ‖ header(9): a response answers exactly one request. */
export function responseAad(requestHash: Uint8Array, header: Uint8Array): Uint8Array {
  return Buffer.concat([text.encode(`${TEE_PROTOCOL} response`), Buffer.of(0), requestHash, header]);
}

export function sessionIdOf(enc: Uint8Array): Buffer {
  return sha256(enc).subarray(0, SESSION_ID_BYTES);
}

export function assertModelId(modelId: string): void {
  if (!MODEL_ID_PATTERN.test(modelId)) throw new TeeError('invalid_input', `model ids must match ${MODEL_ID_PATTERN.source}`);
}

export function seqHeader(kind: number, seq: bigint, prefix?: Uint8Array): Buffer {
  const header = Buffer.alloc(1 + (prefix?.byteLength ?? 0) + SEQ_BYTES);
  header[0] = kind;
  if (prefix) header.set(prefix, 1);
  header.writeBigUInt64BE(seq, header.length - SEQ_BYTES);
  return header;
}

export type ParsedRequestFrame =
  | { kind: 'handshake'; header: Uint8Array; enc: Uint8Array; ciphertext: Uint8Array }
  | { kind: 'session'; header: Uint8Array; sessionId: Uint8Array; seq: bigint; ciphertext: Uint8Array };

/** @throws {TeeError} `tee_decrypt_failed` for frames that cannot be ours. */
export function parseRequestFrame(sealed: Uint8Array): ParsedRequestFrame {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes[0] === FRAME_HANDSHAKE_REQUEST && bytes.byteLength > HANDSHAKE_HEADER_BYTES) {
    return { kind: 'handshake', header: bytes.subarray(0, HANDSHAKE_HEADER_BYTES), enc: bytes.subarray(1, 1 + ENC_BYTES), ciphertext: bytes.subarray(HANDSHAKE_HEADER_BYTES) };
  }
  if (bytes[0] === FRAME_SESSION_REQUEST && bytes.byteLength > SESSION_HEADER_BYTES) {
    const seq = bytes.readBigUInt64BE(1 + SESSION_ID_BYTES);
    return {
      kind: 'session', header: bytes.subarray(0, SESSION_HEADER_BYTES), sessionId: bytes.subarray(1, 1 + SESSION_ID_BYTES), seq,
      ciphertext: bytes.subarray(SESSION_HEADER_BYTES),
    };
  }
  throw new TeeError('tee_decrypt_failed', 'the sealed request is not a veil-tee-v1 frame');
}

/** @throws {TeeError} `tee_decrypt_failed` */
export function parseResponseFrame(sealed: Uint8Array): { header: Uint8Array; seq: bigint; ciphertext: Uint8Array } {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes[0] !== FRAME_RESPONSE || bytes.byteLength <= RESPONSE_HEADER_BYTES) throw new TeeError('tee_decrypt_failed', 'the sealed response is not a veil-tee-v1 frame');
  return { header: bytes.subarray(0, RESPONSE_HEADER_BYTES), seq: bytes.readBigUInt64BE(1), ciphertext: bytes.subarray(RESPONSE_HEADER_BYTES) };
}

export { FRAME_HANDSHAKE_REQUEST, FRAME_RESPONSE, FRAME_SESSION_REQUEST };

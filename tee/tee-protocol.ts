/**
 * Constants of the TEE channel protocol (`veil-tee-v1`). Byte layouts are in tee/PROTOCOL.md; change
 * nothing here without bumping the version, since both ends and every stored signature depend on them.
 */
export const TEE_PROTOCOL = 'veil-tee-v1' as const;

/** Frame kinds (first byte of every sealed frame). */
export const FRAME_HANDSHAKE_REQUEST = 0x01;
export const FRAME_SESSION_REQUEST = 0x02;
export const FRAME_RESPONSE = 0x81;
/** One sealed event of a streamed response (issue #10): `0x82 ‖ seq ‖ index`. */
export const FRAME_STREAM_EVENT = 0x82;

export const ENC_BYTES = 32;
export const SESSION_ID_BYTES = 16;
export const SEQ_BYTES = 8;
export const REQUEST_ID_BYTES = 16;
export const AEAD_TAG_BYTES = 16;
export const HANDSHAKE_HEADER_BYTES = 1 + ENC_BYTES;
export const SESSION_HEADER_BYTES = 1 + SESSION_ID_BYTES + SEQ_BYTES;
export const RESPONSE_HEADER_BYTES = 1 + SEQ_BYTES;
export const INDEX_BYTES = 4;
export const STREAM_HEADER_BYTES = 1 + SEQ_BYTES + INDEX_BYTES;
/** Most events one stream may carry (the index is a u32 and index+1 enters the nonce, so it must not wrap). */
export const MAX_STREAM_EVENTS = 0xffff_fffe;

/** HPKE exporter context for the channel keys; 56 bytes = c2s key 16 ‖ c2s nonce 12 ‖ s2c key 16 ‖ s2c nonce 12. */
export const EXPORT_LABEL = `${TEE_PROTOCOL} channel keys`;
export const EXPORT_BYTES = 56;

/** Prefix of the EIP-191 signed text: `veil-v1:{model}:{sha256(request) hex}:{sha256(response) hex}`. */
export const SIGNATURE_PREFIX = 'veil-v1' as const;

/** Prefix of the EIP-191 text a stream's last event carries: `veil-v1-stream:{model}:{sha256(request)}:{transcript}:{count}`. */
export const STREAM_SIGNATURE_PREFIX = 'veil-v1-stream' as const;

/** Prefix of a node's signed usage: `veil-v1-usage:{model}:{sha256(request)}:{events}:{input}:{output}` (issue #11). */
export const USAGE_SIGNATURE_PREFIX = 'veil-v1-usage' as const;

/** Model ids appear in `info`, `aad` and the signed text; `:` and control bytes are excluded so those stay unambiguous. */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** Body format version inside the encrypted payloads: 1 = tensors, 2 = operations (OpenAI JSON, issue #10). */
export const BODY_VERSION = 1;
export const OPERATION_BODY_VERSION = 2;

/** What a version-2 body asks the enclave to do; the body is that OpenAI request's JSON. */
export const TEE_OPERATIONS = ['chat.completions', 'embeddings'] as const;
export type TeeOperation = (typeof TEE_OPERATIONS)[number];

/** Kinds of stream events: `data` (one chunk), and exactly one terminal `end` or `error`. */
export const STREAM_EVENT_KINDS = ['data', 'end', 'error'] as const;
export type TeeStreamEventKind = (typeof STREAM_EVENT_KINDS)[number];

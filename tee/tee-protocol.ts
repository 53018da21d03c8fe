/**
 * Constants of the TEE channel protocol (`veil-tee-v1`). Byte layouts are in tee/PROTOCOL.md; change
 * nothing here without bumping the version, since both ends and every stored signature depend on them.
 */
export const TEE_PROTOCOL = 'veil-tee-v1' as const;

/** Frame kinds (first byte of every sealed frame). */
export const FRAME_HANDSHAKE_REQUEST = 0x01;
export const FRAME_SESSION_REQUEST = 0x02;
export const FRAME_RESPONSE = 0x81;

export const ENC_BYTES = 32;
export const SESSION_ID_BYTES = 16;
export const SEQ_BYTES = 8;
export const REQUEST_ID_BYTES = 16;
export const AEAD_TAG_BYTES = 16;
export const HANDSHAKE_HEADER_BYTES = 1 + ENC_BYTES;
export const SESSION_HEADER_BYTES = 1 + SESSION_ID_BYTES + SEQ_BYTES;
export const RESPONSE_HEADER_BYTES = 1 + SEQ_BYTES;

/** HPKE exporter context for the channel keys; 56 bytes = c2s key 16 ‖ c2s nonce 12 ‖ s2c key 16 ‖ s2c nonce 12. */
export const EXPORT_LABEL = `${TEE_PROTOCOL} channel keys`;
export const EXPORT_BYTES = 56;

/** Prefix of the EIP-191 signed text: `veil-v1:{model}:{sha256(request) hex}:{sha256(response) hex}`. */
export const SIGNATURE_PREFIX = 'veil-v1' as const;

/** Model ids appear in `info`, `aad` and the signed text; `:` and control bytes are excluded so those stay unambiguous. */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** Body format version inside the encrypted payloads. */
export const BODY_VERSION = 1;

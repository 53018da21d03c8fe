/**
 * Per-session symmetric keys exported from the HPKE context (RFC 9180 §5.3), and AES-128-GCM under them
 * with explicit sequence numbers. Exported keys (rather than the HPKE context's own implicit counter)
 * let requests of one session arrive in any order over concurrent RPCs; each direction has its own key
 * and base nonce, and nonce = base XOR (0^4 ‖ u64be(seq)) exactly as HPKE derives its own nonces.
 * @internal
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { AEAD_TAG_BYTES, EXPORT_BYTES, EXPORT_LABEL, SEQ_BYTES } from './tee-protocol';
import { TeeError } from './tee-error';

export type ChannelKeys = { c2sKey: KeyObject; c2sNonce: Buffer; s2cKey: KeyObject; s2cNonce: Buffer };

type Exporter = { export(exporterContext: ArrayBuffer, length: number): Promise<ArrayBuffer> };

const LABEL = new TextEncoder().encode(EXPORT_LABEL);

export async function deriveChannelKeys(context: Exporter): Promise<ChannelKeys> {
  const secret = Buffer.from(await context.export(toArrayBuffer(LABEL), EXPORT_BYTES));
  const keys = {
    c2sKey: createSecretKey(secret.subarray(0, 16)),
    c2sNonce: Buffer.from(secret.subarray(16, 28)),
    s2cKey: createSecretKey(secret.subarray(28, 44)),
    s2cNonce: Buffer.from(secret.subarray(44, 56)),
  };
  secret.fill(0);
  return keys;
}

export function channelNonce(base: Buffer, seq: bigint): Buffer {
  const nonce = Buffer.from(base);
  const counter = Buffer.alloc(SEQ_BYTES);
  counter.writeBigUInt64BE(seq);
  for (let i = 0; i < SEQ_BYTES; i++) nonce[nonce.length - SEQ_BYTES + i]! ^= counter[i]!;
  return nonce;
}

/** AES-128-GCM; returns ciphertext ‖ 16-byte tag. */
export function aeadSeal(key: KeyObject, nonce: Buffer, aad: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-128-gcm', key, nonce);
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** @throws {TeeError} `tee_decrypt_failed` when the tag does not verify. */
export function aeadOpen(key: KeyObject, nonce: Buffer, aad: Uint8Array, sealed: Uint8Array, what: 'request' | 'response'): Buffer {
  if (sealed.byteLength < AEAD_TAG_BYTES) throw new TeeError('tee_decrypt_failed', `the sealed ${what} is truncated`);
  const decipher = createDecipheriv('aes-128-gcm', key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - AEAD_TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.byteLength - AEAD_TAG_BYTES)), decipher.final()]);
  } catch (cause) {
    throw new TeeError('tee_decrypt_failed', `the sealed ${what} did not authenticate (tampered, or sealed for another key or model)`, undefined, { cause });
  }
}

export function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** An exact-size ArrayBuffer copy (Buffer views share a pooled ArrayBuffer, so `.buffer` is not safe). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

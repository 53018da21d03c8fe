import { createHash } from 'node:crypto';
import { recoverMessageAddress, type Hex } from 'viem';
import { SIGNATURE_PREFIX, STREAM_SIGNATURE_PREFIX } from './tee-protocol';
import { TeeError } from './tee-error';
import { assertModelId } from './tee-frames';

export type TeeSignatureTextParameters = {
  modelId: string;
  /** The sealed request exactly as sent (`TeeInferRequest.sealed_request`). */
  requestBytes: Uint8Array;
  /** The sealed response exactly as received (`TeeInferResponse.sealed_response`). */
  responseBytes: Uint8Array;
};

/**
 * The text the enclave signs with EIP-191 personal_sign:
 * `veil-v1:{model id}:{sha256(sealed request) hex}:{sha256(sealed response) hex}`. Hashing the sealed
 * bytes (not plaintexts) lets anyone holding the transcript check the receipt without learning the data.
 * @example teeSignatureText({ modelId: 'breast-cancer-lr', requestBytes, responseBytes })
 */
export function teeSignatureText({ modelId, requestBytes, responseBytes }: TeeSignatureTextParameters): string {
  assertModelId(modelId);
  const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  return `${SIGNATURE_PREFIX}:${modelId}:${hex(requestBytes)}:${hex(responseBytes)}`;
}

export type TeeStreamSignatureTextParameters = {
  modelId: string;
  /** SHA-256 of the sealed request exactly as sent (the enclave holds only this)… */
  requestHash?: Uint8Array;
  /** …or the sealed request itself. */
  requestBytes?: Uint8Array;
  /** SHA-256(SHA-256(frame_0) ‖ … ‖ SHA-256(frame_{count-1})) over every sealed event frame, the last included. */
  transcriptHash: Uint8Array;
  count: number;
};

/**
 * The text a stream's last event is signed over: `veil-v1-stream:{model}:{sha256(sealed request)}:{transcript}:{count}`.
 * Anyone holding the sealed request and the sealed events can recompute it without learning a token.
 */
export function teeStreamSignatureText({ modelId, requestHash, requestBytes, transcriptHash, count }: TeeStreamSignatureTextParameters): string {
  assertModelId(modelId);
  if (transcriptHash.byteLength !== 32 || !Number.isSafeInteger(count) || count < 1) throw new TeeError('invalid_input', 'a stream receipt needs a 32-byte transcript hash and at least one event');
  const digest = requestHash ?? (requestBytes ? createHash('sha256').update(requestBytes).digest() : undefined);
  if (!digest || digest.byteLength !== 32) throw new TeeError('invalid_input', 'a stream receipt needs the sealed request or its SHA-256');
  const request = Buffer.from(digest).toString('hex');
  return `${STREAM_SIGNATURE_PREFIX}:${modelId}:${request}:${Buffer.from(transcriptHash).toString('hex')}:${count}`;
}

export type VerifyTeeSignatureParameters = TeeSignatureTextParameters & {
  signature: string;
  /** The attested signing address (from verified evidence), never the one the response claims. */
  signingAddress: string;
};

/**
 * Recovers the EIP-191 signer of the exchange and requires it to be the attested address.
 * @throws {TeeError} `tee_bad_signature`
 */
export async function verifyTeeSignature(params: VerifyTeeSignatureParameters): Promise<void> {
  const message = teeSignatureText(params);
  let recovered: string;
  try {
    recovered = await recoverMessageAddress({ message, signature: params.signature as Hex });
  } catch (cause) {
    throw new TeeError('tee_bad_signature', 'the response signature is malformed', undefined, { cause });
  }
  if (recovered.toLowerCase() !== params.signingAddress.toLowerCase()) {
    throw new TeeError(
      'tee_bad_signature',
      'the response was not signed by the attested signing key over these exact request and response bytes (tampered, replayed or wrong signer)',
      { recovered, expected: params.signingAddress },
    );
  }
}

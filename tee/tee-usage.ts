import { assertModelId } from './tee-frames';
import { USAGE_SIGNATURE_PREFIX } from './tee-protocol';
import { TeeError } from './tee-error';
import { digestOf, recoverSignerAddress } from './secp256k1-receipts';

/** Token counts of one language-model call, or of a stream up to an event. */
export type TeeUsageCounts = { inputTokens: number; outputTokens: number };

export type TeeUsageTextParameters = TeeUsageCounts & {
  modelId: string;
  /** SHA-256 of the sealed request exactly as sent. */
  requestHash: Uint8Array;
  /** Stream events up to and including the one that carries the usage; 0 for a single response. */
  events: number;
};

/**
 * The text a node signs over a call's usage (tee/PROTOCOL.md §12):
 * `veil-v1-usage:{model}:{sha256(sealed request) hex}:{events}:{input tokens}:{output tokens}`.
 * The request hash ties the counts to one call and `events` to a place in its stream, so a relay can neither move
 * a count to another call nor charge a stream for events it did not deliver; it sees counts, never text.
 */
export function teeUsageText({ modelId, requestHash, events, inputTokens, outputTokens }: TeeUsageTextParameters): string {
  assertModelId(modelId);
  if (requestHash.byteLength !== 32) throw new TeeError('invalid_input', 'a usage statement needs the 32-byte SHA-256 of the sealed request');
  for (const [name, n] of [['events', events], ['inputTokens', inputTokens], ['outputTokens', outputTokens]] as const) {
    if (!Number.isSafeInteger(n) || n < 0) throw new TeeError('invalid_input', `usage ${name} must be a non-negative integer`);
  }
  return `${USAGE_SIGNATURE_PREFIX}:${modelId}:${Buffer.from(requestHash).toString('hex')}:${events}:${inputTokens}:${outputTokens}`;
}

export type VerifyTeeUsageParameters = TeeUsageTextParameters & {
  signature: string;
  /** The node's ATTESTED signing address (from verified evidence), never one a message claims. */
  signingAddress: string;
};

/**
 * Checks a usage statement against the attested signing address with libsecp256k1 (~0.05 ms).
 * @throws {TeeError} `tee_bad_signature` when it is malformed or not signed by that key over these exact counts
 */
export function verifyTeeUsage(params: VerifyTeeUsageParameters): void {
  const signer = recoverSignerAddress(digestOf(teeUsageText(params)), params.signature);
  if (!signer || signer.toLowerCase() !== params.signingAddress.toLowerCase()) {
    throw new TeeError('tee_bad_signature', 'the usage statement is not signed by the attested node key over these counts');
  }
}

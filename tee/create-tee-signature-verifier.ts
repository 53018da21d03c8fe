import { TeeError } from './tee-error';
import { teeSignatureText, teeStreamSignatureText, type TeeSignatureTextParameters, type TeeStreamSignatureTextParameters } from './tee-signature';
import { addressOf, digestOf, isLowS, parseReceiptSignature, recoverPublicKey, verifyWithPublicKey } from './secp256k1-receipts';
import { teeUsageText, type TeeUsageTextParameters } from './tee-usage';

export type TeeSignatureVerifier = {
  /** The attested address this verifier accepts. */
  readonly signingAddress: string;
  /** Whether the signer's public key has been recovered and checked against the address. */
  readonly keyCached: boolean;
  /**
   * Full ECDSA verification of the EIP-191 signature over {@link teeSignatureText}.
   * @throws {TeeError} `tee_bad_signature`
   */
  verify(params: TeeSignatureTextParameters & { signature: string }): void;
  /**
   * The same check for a stream's receipt over {@link teeStreamSignatureText} (issue #10).
   * @throws {TeeError} `tee_bad_signature`
   */
  verifyStream(params: TeeStreamSignatureTextParameters & { signature: string }): void;
  /**
   * The same check for a signed usage statement over {@link teeUsageText} (PROTOCOL §12): what a relay checks on
   * every stream event, so the cached key saves the recovery and the address hash each time.
   * @throws {TeeError} `tee_bad_signature`
   */
  verifyUsage(params: TeeUsageTextParameters & { signature: string }): void;
};

const BAD_SIGNER = 'the response was not signed by the attested signing key over these exact request and response bytes (tampered, replayed or wrong signer)';

/**
 * A per-node verifier of veil-tee-v1 receipts (EIP-191 personal_sign, the same bytes viem `verifyMessage` checks).
 * The first receipt recovers the signer's public key and requires its keccak address to be the attested one; every
 * later receipt gets a full ECDSA verification against that key (libsecp256k1, ~0.05 ms).
 * @example const verifier = createTeeSignatureVerifier(attestedAddress); verifier.verify({ modelId, requestBytes, responseBytes, signature });
 */
export function createTeeSignatureVerifier(signingAddress: string): TeeSignatureVerifier {
  const expected = signingAddress.toLowerCase();
  if (!/^0x[0-9a-f]{40}$/.test(expected)) throw new TeeError('invalid_input', 'the signing address must be 0x followed by 40 hex digits');
  let key: Uint8Array | undefined;

  return {
    signingAddress: expected,
    get keyCached() {
      return key !== undefined;
    },
    verify: (params) => verifyText(teeSignatureText(params), params.signature),
    verifyStream: (params) => verifyText(teeStreamSignatureText(params), params.signature),
    verifyUsage: (params) => verifyText(teeUsageText(params), params.signature),
  };

  function verifyText(text: string, signature: string): void {
    const parsed = parseReceiptSignature(signature);
    if (!parsed) throw new TeeError('tee_bad_signature', 'the response signature is malformed');
    const digest = digestOf(text);
    if (!key) {
      // High-S is refused here too, so the first signature is held to the rule every later one (and the chain) follows.
      if (!isLowS(parsed.compact)) throw new TeeError('tee_bad_signature', BAD_SIGNER, { expected });
      const recovered = recoverPublicKey(parsed.compact, parsed.recid, digest);
      if (!recovered) throw new TeeError('tee_bad_signature', 'the response signature is malformed');
      const address = addressOf(recovered);
      if (address !== expected) throw new TeeError('tee_bad_signature', BAD_SIGNER, { recovered: address, expected });
      key = recovered; // recovery itself proved this signature
      return;
    }
    if (!verifyWithPublicKey(parsed.compact, digest, key)) throw new TeeError('tee_bad_signature', BAD_SIGNER, { expected });
  }
}

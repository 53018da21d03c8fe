import { secp256k1 } from '@noble/curves/secp256k1';
import { invert } from '@noble/curves/abstract/modular';
import { hashMessage, keccak256, type Hex } from 'viem';
import { TeeError } from './tee-error';
import { teeSignatureText, type TeeSignatureTextParameters } from './tee-signature';

export type TeeSignatureVerifier = {
  /** The attested address this verifier accepts. */
  readonly signingAddress: string;
  /** Whether the signer's public key has been recovered, checked against the address and precomputed. */
  readonly keyCached: boolean;
  /**
   * Full ECDSA verification of the EIP-191 signature over {@link teeSignatureText}.
   * @throws {TeeError} `tee_bad_signature`
   */
  verify(params: TeeSignatureTextParameters & { signature: string }): void;
};

export type CreateTeeSignatureVerifierOptions = {
  /** wNAF window of the cached public-key table: 8 = 128 points per window, ~20–40 ms once per node. Default 8. */
  windowSize?: number;
};

const Point = secp256k1.ProjectivePoint;
const N = secp256k1.CURVE.n;
const BAD_SIGNER = 'the response was not signed by the attested signing key over these exact request and response bytes (tampered, replayed or wrong signer)';

/**
 * A per-node verifier of veil-tee-v1 receipts (EIP-191 personal_sign, same bytes viem `verifyMessage` checks).
 * The first receipt recovers the signer's public key (as `recoverMessageAddress` would) and requires its
 * keccak address to be the attested one; the key is then kept with precomputed wNAF window tables, and every
 * later receipt is verified as plain ECDSA (u1·G + u2·Q, x ≡ r) against it — a full verification each time,
 * about 3–4× cheaper than recovering the key again in pure JS.
 * @example const verifier = createTeeSignatureVerifier(attestedAddress); verifier.verify({ modelId, requestBytes, responseBytes, signature });
 */
export function createTeeSignatureVerifier(signingAddress: string, options: CreateTeeSignatureVerifierOptions = {}): TeeSignatureVerifier {
  const expected = signingAddress.toLowerCase();
  if (!/^0x[0-9a-f]{40}$/.test(expected)) throw new TeeError('invalid_input', 'the signing address must be 0x followed by 40 hex digits');
  const windowSize = options.windowSize ?? 8;
  let key: InstanceType<typeof Point> | undefined;

  const parse = (signature: string) => {
    if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) throw new TeeError('tee_bad_signature', 'the response signature is malformed');
    const r = BigInt(`0x${signature.slice(2, 66)}`);
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const v = Number.parseInt(signature.slice(130, 132), 16);
    const recovery = v >= 27 ? v - 27 : v;
    if (r < 1n || r >= N || s < 1n || s >= N || (recovery !== 0 && recovery !== 1)) throw new TeeError('tee_bad_signature', 'the response signature is malformed');
    return { r, s, recovery };
  };

  return {
    signingAddress: expected,
    get keyCached() {
      return key !== undefined;
    },
    verify(params) {
      const { r, s, recovery } = parse(params.signature);
      const digest = hashMessage(teeSignatureText(params));
      if (!key) {
        let recovered: InstanceType<typeof Point>;
        try {
          recovered = new secp256k1.Signature(r, s).addRecoveryBit(recovery).recoverPublicKey(digest.slice(2));
        } catch (cause) {
          throw new TeeError('tee_bad_signature', 'the response signature is malformed', undefined, { cause });
        }
        const address = `0x${keccak256(recovered.toRawBytes(false).subarray(1)).slice(-40)}`;
        if (address !== expected) throw new TeeError('tee_bad_signature', BAD_SIGNER, { recovered: address, expected });
        // Recovery itself proved this signature; cache the attested key for the fast path.
        key = secp256k1.utils.precompute(windowSize, recovered);
        return;
      }
      const h = BigInt(digest as Hex) % N;
      const w = invert(s, N);
      // The constant-time wNAF path, which uses the cached tables. (noble 1.9.1's variable-time multiplyUnsafe with
      // precomputed tables returns wrong points for large scalars, so it is not used here.)
      const R = Point.BASE.multiply((h * w) % N).add(key.multiply((r * w) % N));
      if (R.equals(Point.ZERO) || R.toAffine().x % N !== r) throw new TeeError('tee_bad_signature', BAD_SIGNER, { expected });
    },
  };
}

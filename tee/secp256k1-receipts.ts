import { randomBytes } from 'node:crypto';
import secp256k1 from 'secp256k1';
import { keccak256, type Hex } from 'viem';

/**
 * EIP-191 personal_sign receipts with libsecp256k1 (native bindings, prebuilt for linux-x64): ~0.05 ms to sign or
 * verify instead of ~0.4–1.8 ms in pure JS, which is most of what TEE mode adds to a small model's latency.
 * Signatures are the standard 65-byte r ‖ s ‖ v (v = 27 + recovery id, low-S), so viem `verifyMessage` accepts them.
 */
export type ReceiptSigner = { address: Hex; sign(message: string): Hex };

/** Creates a fresh signing key that lives only in this closure (never serialised, logged or written). */
export function createReceiptSigner(): ReceiptSigner {
  let key: Buffer;
  do key = randomBytes(32);
  while (!secp256k1.privateKeyVerify(key));
  const address = addressOf(secp256k1.publicKeyCreate(key, false));
  return {
    address,
    sign(message) {
      const { signature, recid } = secp256k1.ecdsaSign(digestOf(message), key);
      return `0x${Buffer.from(signature).toString('hex')}${(27 + recid).toString(16)}`;
    },
  };
}

/** The 64-byte compact signature and recovery id of a 65-byte hex signature, or undefined when malformed. */
export function parseReceiptSignature(signature: string): { compact: Uint8Array; recid: number } | undefined {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return undefined;
  const bytes = Buffer.from(signature.slice(2), 'hex');
  const v = bytes[64]!;
  const recid = v >= 27 ? v - 27 : v;
  if (recid !== 0 && recid !== 1) return undefined;
  return { compact: bytes.subarray(0, 64), recid };
}

/**
 * The EIP-191 digest of `message`: keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ message), len the decimal
 * UTF-8 byte length — exactly viem's hashMessage (tested against it), built from bytes: hashMessage goes through hex
 * strings both ways, which cost as much as the hash itself on every stream event.
 */
export function digestOf(message: string): Uint8Array {
  const bytes = Buffer.from(message, 'utf8');
  return keccak256(Buffer.concat([Buffer.from(`\x19Ethereum Signed Message:\n${bytes.byteLength}`, 'latin1'), bytes]), 'bytes');
}

/** Recovers the uncompressed public key that signed `digest`, or undefined when the signature is not valid. */
export function recoverPublicKey(compact: Uint8Array, recid: number, digest: Uint8Array): Uint8Array | undefined {
  try {
    return secp256k1.ecdsaRecover(compact, recid, digest, false);
  } catch {
    return undefined;
  }
}

/** Plain ECDSA verification against a known public key (rejects high-S, as EIP-2 requires). */
export function verifyWithPublicKey(compact: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return secp256k1.ecdsaVerify(compact, digest, publicKey);
  } catch {
    return false;
  }
}

/** EVM address of an uncompressed (65-byte) public key. */
export function addressOf(publicKey: Uint8Array): Hex {
  return `0x${keccak256(publicKey.subarray(1)).slice(-40)}`;
}

const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/**
 * The address that signed a 32-byte digest with a 65-byte r ‖ s ‖ v signature, or undefined when the signature is
 * malformed or high-S. High-S is refused as the EVM contracts here refuse it (EIP-2), so what passes here is exactly
 * what passes on chain. Used for payment vouchers (EIP-712 digests) with the same native library as the receipts.
 */
export function recoverSignerAddress(digest: Uint8Array, signature: string): Hex | undefined {
  const parsed = parseReceiptSignature(signature);
  if (!parsed || digest.byteLength !== 32 || !isLowS(parsed.compact)) return undefined;
  const key = recoverPublicKey(parsed.compact, parsed.recid, digest);
  return key ? addressOf(key) : undefined;
}

/** Whether a 64-byte r ‖ s signature has s ≤ n/2 (EIP-2); libsecp256k1's verify requires it, its recovery does not. */
export function isLowS(compact: Uint8Array): boolean {
  return BigInt(`0x${Buffer.from(compact.subarray(32, 64)).toString('hex')}`) <= HALF_N;
}

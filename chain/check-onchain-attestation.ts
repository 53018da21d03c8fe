import type { Address, Hex } from 'viem';
import { getAttestation, type AttestationRecord } from './get-attestation';
import { getMeasurement, type MeasurementState } from './get-measurement';
import { isAttested } from './is-attested';
import { readRegistry } from './read-registry';
import type { RegistryPublicClient } from './types';
import { toAddress, toBytes32 } from './validate';

export type CheckOnchainAttestationParameters = {
  signingAddress: Address;
  /** keccak256 of the evidence the caller verified off-chain; must equal the published hash. */
  evidenceHash: Hex;
  /** Optional: keccak256 of the HPKE public key the caller is about to encrypt to. */
  hpkeKeyHash?: Hex;
  /** Unix seconds to judge expiry at. Defaults to the latest block's timestamp, which is what the contract uses. */
  now?: bigint;
};

export type OnchainAttestationReasonCode =
  | 'not_published'
  | 'revoked'
  | 'expired'
  | 'measurement_not_approved'
  | 'measurement_reapproved_since'
  | 'evidence_mismatch'
  | 'hpke_key_mismatch'
  | 'contract_disagrees';

export type OnchainAttestationReason = { code: OnchainAttestationReasonCode; message: string };

export type CheckOnchainAttestationReturnType = {
  ok: boolean;
  /** Every failed check, not just the first, so logs explain the whole picture. Empty when ok. */
  reasons: OnchainAttestationReason[];
  record: AttestationRecord | null;
  measurement: MeasurementState | null;
  /** The block all reads were pinned to, so the checks see one consistent state. */
  blockNumber: bigint;
  blockTimestamp: bigint;
};

/**
 * Checks that `signingAddress` is attested on-chain with an approved, unrevoked, unexpired measurement and that the
 * published evidence hash is the one the caller verified. Policy failures come back as `reasons`; only a failure to
 * read the chain throws, because "could not check" must not look like "checked and refused".
 *
 * @example
 * const { ok, reasons } = await checkOnchainAttestation(publicClient, registryAddress, { signingAddress, evidenceHash })
 * @throws {ChainError} `rpc_unavailable`, `registry_not_found`, `invalid_address`, `invalid_hex`
 */
export async function checkOnchainAttestation(
  publicClient: RegistryPublicClient,
  registryAddress: Address,
  { signingAddress, evidenceHash, hpkeKeyHash, now }: CheckOnchainAttestationParameters,
): Promise<CheckOnchainAttestationReturnType> {
  const address = toAddress('registryAddress', registryAddress);
  const signer = toAddress('signingAddress', signingAddress);
  const expectedEvidence = toBytes32('evidenceHash', evidenceHash);
  const expectedHpke = hpkeKeyHash === undefined ? undefined : toBytes32('hpkeKeyHash', hpkeKeyHash);

  const block = await readRegistry('checkOnchainAttestation', () => publicClient.getBlock({ blockTag: 'latest' }));
  const blockNumber = block.number;
  const [record, contractSays] = await Promise.all([
    getAttestation(publicClient, { registryAddress: address, signingAddress: signer, blockNumber }),
    isAttested(publicClient, { registryAddress: address, signingAddress: signer, blockNumber }),
  ]);
  const result = (reasons: OnchainAttestationReason[], measurement: MeasurementState | null) => ({
    ok: reasons.length === 0,
    reasons,
    record,
    measurement,
    blockNumber,
    blockTimestamp: block.timestamp,
  });
  if (!record) return result([{ code: 'not_published', message: `no attestation is published for ${signer}` }], null);

  const measurement = await getMeasurement(publicClient, { registryAddress: address, measurementId: record.measurementId, blockNumber });
  const at = now ?? block.timestamp;
  const reasons: OnchainAttestationReason[] = [];
  if (record.revoked) reasons.push({ code: 'revoked', message: 'the attestation was revoked' });
  if (record.expiresAt <= at) reasons.push({ code: 'expired', message: `the attestation expired at ${record.expiresAt} (now ${at})` });
  if (!measurement.approved) {
    reasons.push({ code: 'measurement_not_approved', message: `measurement ${record.measurementId} is not approved` });
  } else if (measurement.epoch !== record.measurementEpoch) {
    reasons.push({
      code: 'measurement_reapproved_since',
      message: 'the measurement was revoked and re-approved after this attestation; it must be republished',
    });
  }
  if (record.evidenceHash !== expectedEvidence) {
    reasons.push({ code: 'evidence_mismatch', message: 'the published evidence hash differs from the verified evidence' });
  }
  if (expectedHpke !== undefined && record.hpkeKeyHash !== expectedHpke) {
    reasons.push({ code: 'hpke_key_mismatch', message: 'the published HPKE key hash differs from the expected key' });
  }
  // Our reading of the record and the contract's own verdict must agree; if they do not, this code is out of date with
  // the contract, and refusing is the safe side.
  const weSay = !reasons.some((r) => r.code !== 'evidence_mismatch' && r.code !== 'hpke_key_mismatch');
  if (now === undefined && weSay !== contractSays) {
    reasons.push({ code: 'contract_disagrees', message: `isAttested() returned ${contractSays}, the record implies ${weSay}` });
  }
  if (now !== undefined && !contractSays && weSay) {
    reasons.push({ code: 'contract_disagrees', message: 'isAttested() returned false at the latest block' });
  }
  return result(reasons, measurement);
}

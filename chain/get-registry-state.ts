import type { Address, Hash, Hex } from 'viem';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { getAttestation, type AttestationRecord } from './get-attestation';
import { isAttested } from './is-attested';
import { platformFromTag, type Platform } from './platform';
import { readRegistry } from './read-registry';
import type { RegistryPublicClient } from './types';
import { toAddress } from './validate';

export type GetRegistryStateParameters = {
  registryAddress: Address;
  /** First block to scan for events; the deployment block is enough. Defaults to 0. */
  fromBlock?: bigint;
};

export type MeasurementHistoryEntry =
  | { type: 'approved'; epoch: number; label: string; source: string; blockNumber: bigint; transactionHash: Hash }
  | { type: 'revoked'; epoch: number; blockNumber: bigint; transactionHash: Hash };

export type MeasurementSummary = {
  measurementId: Hex;
  platform: Platform | undefined;
  measurement: Hex;
  /** Label and source of the latest approval. */
  label: string;
  source: string;
  approved: boolean;
  epoch: number;
  history: MeasurementHistoryEntry[];
};

export type AttestationSummary = AttestationRecord & { attested: boolean };

export type GetRegistryStateReturnType = {
  registryAddress: Address;
  owner: Address;
  pendingOwner: Address | null;
  operators: Address[];
  measurements: MeasurementSummary[];
  attestations: AttestationSummary[];
  blockNumber: bigint;
};

/**
 * Rebuilds the registry's state from its event history (labels and sources exist only there) plus current views.
 *
 * @example
 * const state = await getRegistryState(publicClient, { registryAddress, fromBlock: deployment.blockNumber })
 * @throws {ChainError} `rpc_unavailable`, `registry_not_found`
 */
export async function getRegistryState(
  publicClient: RegistryPublicClient,
  { registryAddress, fromBlock = 0n }: GetRegistryStateParameters,
): Promise<GetRegistryStateReturnType> {
  const address = toAddress('registryAddress', registryAddress);
  const blockNumber = await readRegistry('getRegistryState', () => publicClient.getBlockNumber({ cacheTime: 0 }));
  const [owner, pendingOwner, events] = await Promise.all([
    readRegistry('getRegistryState', () => publicClient.readContract({ address, abi: veilRegistryAbi, functionName: 'owner', blockNumber })),
    readRegistry('getRegistryState', () =>
      publicClient.readContract({ address, abi: veilRegistryAbi, functionName: 'pendingOwner', blockNumber }),
    ),
    readRegistry('getRegistryState', () =>
      publicClient.getContractEvents({ address, abi: veilRegistryAbi, fromBlock, toBlock: blockNumber, strict: true }),
    ),
  ]);

  const measurements = new Map<Hex, MeasurementSummary>();
  const operators = new Map<Address, boolean>();
  const signers = new Set<Address>();
  for (const event of events) {
    const at = { blockNumber: event.blockNumber, transactionHash: event.transactionHash };
    switch (event.eventName) {
      case 'MeasurementApproved': {
        const { measurementId, platform, epoch, measurement, label, source } = event.args;
        const entry = measurements.get(measurementId) ?? {
          measurementId,
          platform: platformFromTag(platform),
          measurement,
          label,
          source,
          approved: true,
          epoch,
          history: [],
        };
        Object.assign(entry, { label, source, approved: true, epoch });
        entry.history.push({ type: 'approved', epoch, label, source, ...at });
        measurements.set(measurementId, entry);
        break;
      }
      case 'MeasurementRevoked': {
        const entry = measurements.get(event.args.measurementId);
        // A revoke without a seen approval means fromBlock was after the approval; nothing to attach it to.
        if (entry) {
          entry.approved = false;
          entry.history.push({ type: 'revoked', epoch: event.args.epoch, ...at });
        }
        break;
      }
      case 'OperatorSet':
        operators.set(event.args.operator, event.args.authorised);
        break;
      case 'AttestationPublished':
      case 'AttestationRevoked':
        signers.add(event.args.signer);
        break;
      default:
        break;
    }
  }

  const attestations = await Promise.all(
    [...signers].map(async (signingAddress): Promise<AttestationSummary | null> => {
      const [record, attested] = await Promise.all([
        getAttestation(publicClient, { registryAddress: address, signingAddress, blockNumber }),
        isAttested(publicClient, { registryAddress: address, signingAddress, blockNumber }),
      ]);
      return record && { ...record, attested };
    }),
  );

  return {
    registryAddress: address,
    owner,
    pendingOwner: pendingOwner === '0x0000000000000000000000000000000000000000' ? null : pendingOwner,
    operators: [...operators].filter(([, on]) => on).map(([op]) => op),
    measurements: [...measurements.values()],
    attestations: attestations.filter((a): a is AttestationSummary => a !== null),
    blockNumber,
  };
}

import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { GetRegistryResponse } from '../../proto';
import type { TrustRegistryInfo } from '../chain/start-trust-registry';
import type { Logger } from '../logger';
import { handleUnary } from './handle-call';

/** veil.v1.Trust: tells clients which registry this gateway publishes its enclaves' attestations to. */
export function createTrustService(info: () => TrustRegistryInfo | undefined, logger: Logger): UntypedServiceImplementation {
  return {
    GetRegistry: handleUnary<unknown, GetRegistryResponse>('GetRegistry', logger, async () => {
      const current = info();
      return current
        ? { enabled: true, chainId: current.chainId, rpcUrl: current.rpcUrl, registryAddress: current.registryAddress, embedded: current.embedded }
        : { enabled: false, chainId: 0, rpcUrl: '', registryAddress: '', embedded: false };
    }),
  };
}

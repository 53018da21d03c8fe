/** One factory for every provider kind. */
import { createConfigfsTsmProvider, type ConfigfsTsmProviderOptions } from './create-configfs-tsm-provider';
import { createSimulatedProvider, type SimulatedProviderOptions } from './create-simulated-provider';
import type { EvidenceProvider } from './evidence-provider';

export type CreateEvidenceProviderOptions =
  | ({ kind: 'configfs-tsm' } & ConfigfsTsmProviderOptions)
  | ({ kind: 'simulated' } & SimulatedProviderOptions);

/**
 * @example
 * const provider = createEvidenceProvider({ kind: 'configfs-tsm' });
 * const envelope = await provider.getEvidence({ hpkePublicKey, signingAddress, nonce });
 */
export function createEvidenceProvider(options: CreateEvidenceProviderOptions): EvidenceProvider {
  return options.kind === 'simulated' ? createSimulatedProvider(options) : createConfigfsTsmProvider(options);
}

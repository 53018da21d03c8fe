/**
 * Trust anchors, injectable. Defaults are the public roots pinned in this repository; tests and
 * private deployments pass their own (e.g. a self-made CA) through `verifyEvidence(..., { roots })`.
 */
import { MILAN_ARK_PEM, MILAN_ASK_PEM, MILAN_ASVK_PEM } from './sev-snp/roots/milan';
import { GENOA_ARK_PEM, GENOA_ASK_PEM, GENOA_ASVK_PEM } from './sev-snp/roots/genoa';
import { TURIN_ARK_PEM, TURIN_ASK_PEM, TURIN_ASVK_PEM } from './sev-snp/roots/turin';
import { INTEL_SGX_ROOT_CA_PEM } from './tdx/roots/intel-sgx-root-ca';
import { AWS_NITRO_ROOT_G1_PEM } from './nitro/roots/aws-nitro-root';

export type SnpProduct = 'Milan' | 'Genoa' | 'Turin';

export interface SnpRootSet {
  product: SnpProduct;
  /** AMD Root Key (self-signed trust anchor), PEM. */
  ark: string;
  /** AMD SEV Key (VCEK issuer), PEM. */
  ask: string;
  /** AMD SEV VLEK Key (VLEK issuer), PEM, when known. */
  asvk?: string;
}

export interface TrustRoots {
  sevSnp: readonly SnpRootSet[];
  /** Intel SGX Root CA(s), PEM. */
  tdx: readonly string[];
  /** AWS Nitro root(s), PEM. */
  nitro: readonly string[];
}

export const DEFAULT_TRUST_ROOTS: TrustRoots = Object.freeze({
  sevSnp: Object.freeze([
    Object.freeze({ product: 'Milan' as const, ark: MILAN_ARK_PEM, ask: MILAN_ASK_PEM, asvk: MILAN_ASVK_PEM }),
    Object.freeze({ product: 'Genoa' as const, ark: GENOA_ARK_PEM, ask: GENOA_ASK_PEM, asvk: GENOA_ASVK_PEM }),
    Object.freeze({ product: 'Turin' as const, ark: TURIN_ARK_PEM, ask: TURIN_ASK_PEM, asvk: TURIN_ASVK_PEM }),
  ]),
  tdx: Object.freeze([INTEL_SGX_ROOT_CA_PEM]),
  nitro: Object.freeze([AWS_NITRO_ROOT_G1_PEM]),
});

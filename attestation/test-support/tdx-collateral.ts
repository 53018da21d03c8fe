/** Test-only loaders for the TDX collateral vectors (dcap-qvl JSON and the go-tdx-guest PCS folder). @internal */
import { readFileSync } from 'node:fs';
import { collateralFromPcsResponses, parseTdxCollateral, type TdxCollateral } from '../tdx/parse-tdx-collateral';
import { vectorPath } from './vectors';

export function dcapQvlCollateral(file: string): TdxCollateral {
  return parseTdxCollateral(readFileSync(vectorPath(`tdx/${file}`), 'utf8'));
}

export function gtgCollateral(): TdxCollateral {
  const f = (n: string) => vectorPath(`tdx/gtg_collateral/${n}`);
  return collateralFromPcsResponses({
    tcbInfoResponse: readFileSync(f('tcb_info_response.json'), 'utf8'),
    qeIdentityResponse: readFileSync(f('qe_identity_response.json'), 'utf8'),
    tcbInfoIssuerChain: readFileSync(f('tcb_signing_chain.pem'), 'utf8'),
    pckCrl: new Uint8Array(readFileSync(f('pck_crl_platform.der'))),
    pckCrlIssuerChain: readFileSync(f('pck_crl_issuer_chain.pem'), 'utf8'),
    rootCaCrl: new Uint8Array(readFileSync(f('root_ca_crl.der'))),
  });
}

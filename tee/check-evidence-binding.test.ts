import { computeReportData } from '../attestation';
import { evidenceBindsIdentity, type EvidenceBindingParameters } from './check-evidence-binding';
import { TEE_PROTOCOL } from './tee-protocol';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const key = new Uint8Array(32).fill(3);
const address = '0x' + 'ab'.repeat(20);
const nonce = new Uint8Array(32).fill(9);

function valid(): EvidenceBindingParameters {
  return {
    envelope: { nonce: hex(nonce), hpkePublicKey: hex(key), signingAddress: address },
    verifiedReportData: hex(computeReportData({ hpkePublicKey: key, signingAddress: address, nonce })),
    identity: { hpkePublicKey: key, signingAddress: address.toUpperCase().replace('0X', '0x'), protocol: TEE_PROTOCOL },
    nonce,
  };
}

describe('evidenceBindsIdentity', () => {
  test('binds when report_data, nonce and presented keys all agree (address case-insensitive)', () => {
    expect(evidenceBindsIdentity(valid())).toBe(true);
  });

  test.each<[string, (p: EvidenceBindingParameters) => EvidenceBindingParameters]>([
    ['another verifier\'s nonce', (p) => ({ ...p, nonce: new Uint8Array(32).fill(1) })],
    ['an envelope naming another nonce', (p) => ({ ...p, envelope: { ...p.envelope, nonce: '00'.repeat(32) } })],
    ['report_data over other keys', (p) => ({ ...p, verifiedReportData: hex(computeReportData({ hpkePublicKey: new Uint8Array(32), signingAddress: address, nonce })) })],
    ['a presented HPKE key the evidence does not bind', (p) => ({ ...p, identity: { ...p.identity!, hpkePublicKey: new Uint8Array(32).fill(4) } })],
    ['a presented signer the evidence does not bind', (p) => ({ ...p, identity: { ...p.identity!, signingAddress: '0x' + 'cd'.repeat(20) } })],
    ['another protocol', (p) => ({ ...p, identity: { ...p.identity!, protocol: 'veil-tee-v0' } })],
    ['no presented identity', (p) => ({ ...p, identity: null })],
  ])('error: refuses %s', (_name, mutate) => {
    expect(evidenceBindsIdentity(mutate(valid()))).toBe(false);
  });
});

/**
 * Publish (gateway side) → check (client side) against a real embedded anvil: the enclave check passes for the
 * published evidence and fails, naming the reason, for a different measurement, key or evidence.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getAddress } from 'viem';
import { createSimulatedProvider, verifyEvidence, type AttestationPolicy } from '../attestation';
import { connectChain } from '../chain';
import { checkEnclaveOnchain } from '../client/trust';
import { createLogger, loadConfig } from '../gateway';
import { startTrustRegistry, type TrustRegistry } from '../gateway/chain/start-trust-registry';

const POLICY: AttestationPolicy = {
  measurements: 'any', debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600,
  nonce: 'any', reportDataBinding: 'required', simulated: 'allow',
};

let dataDir: string;
let registry: TrustRegistry;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-onchain-'));
  registry = (await startTrustRegistry(loadConfig({ env: {}, overrides: { dataDir } }), { logger: createLogger({ level: 'silent', format: 'text' }) }))!;
});
afterAll(async () => {
  await registry?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function attested(signer: string) {
  const provider = createSimulatedProvider();
  const envelope = await provider.getEvidence({ hpkePublicKey: new Uint8Array(32).fill(9), signingAddress: getAddress(signer), nonce: new Uint8Array(8) });
  const verified = await verifyEvidence(envelope, POLICY, { now: new Date(), roots: { simulated: [provider.verifierKey] } });
  if (!verified.ok) throw new Error('simulated evidence did not verify');
  return { envelope, claims: verified.claims };
}

test('a published enclave passes; other evidence, keys or measurements are refused with their reason', async () => {
  const { publicClient } = await connectChain({ rpcUrl: registry.info().rpcUrl, registryAddress: registry.info().registryAddress });
  const node = await attested('0x2222222222222222222222222222222222222222');
  expect((await registry.publishAttestation(node)).ok).toBe(true);
  const check = (envelope = node.envelope, claims = node.claims) =>
    checkEnclaveOnchain({ publicClient, registryAddress: registry.info().registryAddress, envelope, claims });

  expect(await check()).toMatchObject({ ok: true, reasons: [] });

  const otherKey = { ...node.envelope, hpkePublicKey: '00'.repeat(32) };
  expect((await check(otherKey)).reasons.map((r) => r.code)).toContain('hpke_key_mismatch');

  const fresh = await attested('0x2222222222222222222222222222222222222222');
  expect((await check(fresh.envelope, fresh.claims)).reasons.map((r) => r.code)).toContain('evidence_mismatch');

  const otherMeasurement = { ...node.claims, measurement: 'ab'.repeat(48) };
  expect((await check(node.envelope, otherMeasurement)).reasons.map((r) => r.code)).toContain('measurement_mismatch');

  const unpublished = await attested('0x3333333333333333333333333333333333333333');
  expect((await check(unpublished.envelope, unpublished.claims)).reasons.map((r) => r.code)).toEqual(['not_published']);
});

/**
 * The gateway's registry connection against a real embedded anvil: the simulated measurement is approved on
 * first start, a verified node's attestation is published so that the on-chain check passes, and a restart
 * reuses the same registry.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getAddress } from 'viem';
import { createSimulatedProvider, verifyEvidence, type AttestationPolicy } from '../../attestation';
import { checkOnchainAttestation, connectChain, evidenceHash, hpkeKeyHash } from '../../chain';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { startTrustRegistry } from './start-trust-registry';

const POLICY: AttestationPolicy = {
  measurements: 'any', debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600,
  nonce: 'any', reportDataBinding: 'required', simulated: 'allow',
};

let dataDir: string;
beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-trust-'));
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

test('embedded chain: approve simulated measurement, publish a verified node, verify on-chain, reuse after restart', async () => {
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) });
  const config = loadConfig({ env: {}, overrides: { dataDir } });
  const registry = await startTrustRegistry(config, { logger });
  expect(registry).toBeDefined();
  const firstAddress = registry!.info().registryAddress;
  try {
    const provider = createSimulatedProvider();
    const hpkePublicKey = new Uint8Array(32).fill(7);
    const signingAddress = getAddress('0x1111111111111111111111111111111111111111');
    const envelope = await provider.getEvidence({ hpkePublicKey, signingAddress, nonce: new Uint8Array(16) });
    const verified = await verifyEvidence(envelope, POLICY, { now: new Date(), roots: { simulated: [provider.verifierKey] } });
    if (!verified.ok) throw new Error(JSON.stringify(verified.failures));

    const outcome = await registry!.publishAttestation({ envelope, claims: verified.claims });
    expect(outcome.ok).toBe(true);

    const { publicClient } = await connectChain({ rpcUrl: registry!.info().rpcUrl, registryAddress: firstAddress });
    const check = await checkOnchainAttestation(publicClient, firstAddress, {
      signingAddress,
      evidenceHash: evidenceHash(Buffer.from(envelope.evidence, 'base64')),
      hpkeKeyHash: hpkeKeyHash(hpkePublicKey),
    });
    expect(check.reasons).toEqual([]);
    expect(check.ok).toBe(true);
    const wrong = await checkOnchainAttestation(publicClient, firstAddress, { signingAddress, evidenceHash: evidenceHash(new Uint8Array([1])) });
    expect(wrong.ok).toBe(false);
  } finally {
    await registry!.close();
  }
  expect(logs.join('\n')).not.toMatch(/ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80/);

  const again = await startTrustRegistry(config, { logger });
  try {
    expect(again!.info().registryAddress).toBe(firstAddress);
  } finally {
    await again!.close();
  }
});

test('disabled chain starts nothing', async () => {
  const config = loadConfig({ env: { VEIL_CHAIN_ENABLED: 'false' }, overrides: { dataDir } });
  expect(await startTrustRegistry(config, { logger: createLogger({ level: 'silent', format: 'text' }) })).toBeUndefined();
});

test('error: a configured chain needs a registry address', async () => {
  const config = loadConfig({ env: { VEIL_CHAIN_RPC_URL: 'http://127.0.0.1:9' }, overrides: { dataDir } });
  await expect(startTrustRegistry(config, { logger: createLogger({ level: 'silent', format: 'text' }) })).rejects.toThrow(/chain.registryAddress/);
});

test('a configured chain that is down does not stop startup: publishing reports rpc_unavailable and never throws', async () => {
  const logs: string[] = [];
  const config = loadConfig({
    env: { VEIL_CHAIN_RPC_URL: 'http://127.0.0.1:9', VEIL_CHAIN_REGISTRY_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
    overrides: { dataDir },
  });
  const registry = await startTrustRegistry(config, {
    logger: createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) }),
    env: { VEIL_CHAIN_PRIVATE_KEY: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' },
    sleep: () => new Promise((r) => setTimeout(r, 5)),
  });
  try {
    expect(registry!.info()).toMatchObject({ chainId: 0, embedded: false, rpcUrl: 'http://127.0.0.1:9' });
    const provider = createSimulatedProvider();
    const envelope = await provider.getEvidence({ hpkePublicKey: new Uint8Array(32), signingAddress: getAddress('0x1111111111111111111111111111111111111111'), nonce: new Uint8Array(4) });
    const verified = await verifyEvidence(envelope, POLICY, { now: new Date(), roots: { simulated: [provider.verifierKey] } });
    if (!verified.ok) throw new Error('simulated evidence did not verify');
    await expect(registry!.publishAttestation({ envelope, claims: verified.claims })).resolves.toMatchObject({ ok: false, code: 'rpc_unavailable' });
    await new Promise((r) => setTimeout(r, 50));
    expect(logs.some((l) => l.includes('chain unreachable'))).toBe(true);
    expect(logs.join('\n')).not.toContain('59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
  } finally {
    await registry!.close();
  }
});

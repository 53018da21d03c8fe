/**
 * `veil proxy` with the on-chain gate (as `veil verify --onchain`), against a real embedded anvil registry: an
 * enclave the registry lists is served even though the proxy verified its own fresh evidence (not the published
 * bytes); an enclave it does not list is refused before anything is sealed to it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { DEFAULT_SIMULATED_MEASUREMENT, verifyEvidence, type AttestationPolicy } from '../attestation';
import { connectChain } from '../chain';
import { startVeilProxy } from '../client';
import { requireEnclaveOnchain } from '../client/trust';
import { startFakeGateway, type FakeGateway } from '../client/proxy/test-support/start-fake-gateway';
import { createLogger, loadConfig } from '../gateway';
import { startTrustRegistry, type TrustRegistry } from '../gateway/chain/start-trust-registry';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const TEE_POLICY = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 60 } as const;
const GATEWAY_POLICY: AttestationPolicy = { ...TEE_POLICY, measurements: 'any', nonce: 'any', reportDataBinding: 'required', simulated: 'allow' };

let dataDir: string;
let registry: TrustRegistry;
let listed: FakeGateway;
let unlisted: FakeGateway;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-proxy-onchain-'));
  registry = (await startTrustRegistry(loadConfig({ env: {}, overrides: { dataDir } }), { logger: createLogger({ level: 'silent', format: 'text' }) }))!;
  [listed, unlisted] = await Promise.all([startFakeGateway(), startFakeGateway()]);
  // What a gateway publishes: evidence it verified under its own nonce.
  const identity = listed.identities[0]!;
  const envelope = await listed.provider.getEvidence({ hpkePublicKey: identity.hpkePublicKey, signingAddress: identity.signingAddress, nonce: new Uint8Array(32).fill(7) });
  const verified = await verifyEvidence(envelope, GATEWAY_POLICY, { now: new Date(), roots: { simulated: [listed.provider.verifierKey] } });
  if (!verified.ok) throw new Error('evidence did not verify');
  expect((await registry.publishAttestation({ envelope, claims: verified.claims })).ok).toBe(true);
});
afterAll(async () => {
  await Promise.all([listed?.close(), unlisted?.close()]);
  await registry?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('the registry gates which enclaves the proxy seals to', async () => {
  const { publicClient, registryAddress } = await connectChain({ rpcUrl: registry.info().rpcUrl, registryAddress: registry.info().registryAddress });
  const checkEnclave = requireEnclaveOnchain({ publicClient, registryAddress });
  for (const [gateway, ok] of [[listed, true], [unlisted, false]] as const) {
    const proxy = await startVeilProxy({ gateway: gateway.url, policy: TEE_POLICY, allowSimulated: true, roots: { simulated: [gateway.provider.verifierKey] }, port: 0, checkEnclave });
    try {
      const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const answer = await openai.chat.completions.create({ model: 'toy-chat', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      if (ok) {
        expect(answer).toMatchObject({ choices: [{ message: { content: 'echo: hi' } }] });
        expect(proxy.attestations()[0]).toMatchObject({ onchain: true, signing_address: gateway.identities[0]!.signingAddress });
      } else {
        expect(answer).toMatchObject({ status: 502, code: 'tee_attestation_failed' });
        expect((answer as Error).message).toContain('onchain_not_published');
        expect(gateway.sealedBodies).toHaveLength(0);
      }
    } finally {
      await proxy.close();
    }
  }
});

/**
 * `veil verify --onchain` against a running gateway: its attested (SIMULATED) enclave verifies off-chain and
 * on-chain; simulated evidence needs the explicit opt-in; a revoked attestation is refused with its reason.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getAddress } from 'viem';
import { connectChain, DEV_ACCOUNTS, revokeAttestation } from '../chain';
import { run } from '../cli/verify';
import { captureCli } from './support/capture-cli';
import { createGateway, createLogger, loadConfig, type Gateway } from '../gateway';

let gateway: Gateway;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-verify-onchain-'));
  const config = loadConfig({
    env: {},
    overrides: { dataDir, grpc: { port: 0 }, fhe: { models: ['breast-cancer-lr'], workers: 1 }, tee: { models: ['breast-cancer-lr'] } },
  });
  gateway = await createGateway(config, { logger: createLogger({ level: 'silent', format: 'text' }) });
  await gateway.trust!.idle(); // the first attestation is published asynchronously after the node is verified
});

afterAll(async () => {
  await gateway?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function verify(args: string[]): Promise<{ code: number; json: any; text: string }> {
  const { code, out, err } = await captureCli(run, args);
  return { code, text: [out, err].filter(Boolean).join('\n'), json: args.includes('--json') ? JSON.parse(out.split('\n')[0]!) : undefined };
}

test('the gateway-attested simulated enclave is valid on-chain with --allow-simulated, refused without it', async () => {
  const ok = await verify(['--onchain', '--target', gateway.address, '--allow-simulated', '--json']);
  expect(ok.code).toBe(0);
  expect(ok.json).toMatchObject({ verdict: 'valid', platform: 'simulated', reasons: [], onchain: true });
  expect(ok.json.registry.registryAddress).toBe(gateway.trust!.info().registryAddress);
  expect(ok.json.measurement).toMatch(/^[0-9a-f]{96}$/);

  const refused = await verify(['--onchain', '--target', gateway.address, '--json']);
  expect(refused.code).toBe(1);
  expect(refused.json.reasons.map((r: { code: string }) => r.code)).toContain('simulated_forbidden');
});

test('an envelope file checked against a pinned registry; a revoked attestation is refused with its reason', async () => {
  const node = gateway.tee!.nodes().find((n) => n.state === 'healthy')!;
  const file = path.join(dataDir, 'envelope.json');
  fs.writeFileSync(file, node.attestedEvidenceJson);
  const { rpcUrl, registryAddress } = gateway.trust!.info();
  const pinned = await verify(['--onchain', file, '--rpc', rpcUrl, '--registry', registryAddress, '--allow-simulated']);
  expect(pinned.text).toContain('VALID');
  expect(pinned.code).toBe(0);

  const chain = await connectChain({ rpcUrl, registryAddress, privateKey: DEV_ACCOUNTS[0].privateKey, pollingInterval: 50 });
  await revokeAttestation(chain.walletClient!, chain.publicClient, { registryAddress, signingAddress: getAddress(node.signingAddress) });
  const revoked = await verify(['--onchain', file, '--rpc', rpcUrl, '--registry', registryAddress, '--allow-simulated', '--json']);
  expect(revoked.code).toBe(1);
  expect(revoked.json.reasons.map((r: { code: string }) => r.code)).toContain('onchain_revoked');
});

test('error: usage problems exit 2 with a message naming the flag', async () => {
  expect((await verify(['--onchain', '--rpc', 'http://127.0.0.1:1'])).code).toBe(2);
  const bad = await verify(['--onchain', '--rpc', 'http://127.0.0.1:1', '--registry', 'nope']);
  expect(bad.code).toBe(2);
  expect(bad.text).toContain('--registry must be a 0x address');
});

/**
 * `veil verify --onchain` against a running gateway: the registry must be pinned (or the gateway's taken on an explicit
 * opt-in), a development registry needs --allow-simulated, SIMULATED evidence needs its pinned key; then the attested
 * enclave verifies off-chain and on-chain, and a revoked attestation is refused with its reason.
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
    overrides: { dataDir, grpc: { port: 0 }, http: { port: 0 }, fhe: { models: ['breast-cancer-lr'], workers: 1 }, tee: { models: ['breast-cancer-lr'], languageModels: [] } },
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

const simulatedKey = () => ['--simulated-key', Buffer.from(gateway.tee!.simulatedKeys[0]!).toString('hex')];
const pinned = () => ['--rpc', gateway.trust!.info().rpcUrl, '--registry', gateway.trust!.info().registryAddress];

test('error: the registry the gateway names is not taken without --rpc/--registry or --trust-gateway-registry', async () => {
  const res = await verify(['--onchain', '--target', gateway.address, '--allow-simulated', ...simulatedKey()]);
  expect(res.code).toBe(2);
  expect(res.text).toContain('pin the registry: give --rpc URL --registry ADDR');
});

test('error: the embedded dev registry is refused without --allow-simulated, whether named by the gateway or pinned', async () => {
  const named = await verify(['--onchain', '--target', gateway.address, '--trust-gateway-registry', '--json']);
  expect(named.code).toBe(1);
  expect(named.json).toMatchObject({ verdict: 'invalid', reasons: [{ code: 'dev_registry_refused' }] });
  expect(named.json.reasons[0].message).toContain('embedded dev registry');
  // Pinning the gateway's anvil does not make it a real chain: its chain id (31337) gives it away.
  const pinnedDev = await verify(['--onchain', '--target', gateway.address, ...pinned(), ...simulatedKey()]);
  expect(pinnedDev.code).toBe(1);
  expect(pinnedDev.text).toContain('dev_registry_refused: the registry is on chain 31337, a local development chain');
});

test('the gateway-attested simulated enclave is valid on-chain with --allow-simulated and its pinned key', async () => {
  const ok = await verify(['--onchain', '--target', gateway.address, ...pinned(), '--allow-simulated', ...simulatedKey(), '--json']);
  expect(ok.code).toBe(0);
  expect(ok.json).toMatchObject({ verdict: 'valid', platform: 'simulated', reasons: [], onchain: true, registry: { source: 'flags' } });
  expect(ok.json.registry.registryAddress).toBe(gateway.trust!.info().registryAddress);
  expect(ok.json.measurement).toMatch(/^[0-9a-f]{96}$/);

  const named = await verify(['--onchain', '--target', gateway.address, '--trust-gateway-registry', '--allow-simulated', ...simulatedKey(), '--json']);
  expect(named.code).toBe(0);
  expect(named.json.registry.source).toBe('gateway');

  // The key inside the gateway's envelopes is not trusted by itself.
  const unpinned = await verify(['--onchain', '--target', gateway.address, ...pinned(), '--allow-simulated', '--json']);
  expect(unpinned.code).toBe(1);
  expect(unpinned.json.reasons.map((r: { code: string }) => r.code)).toContain('simulated_key_missing');
});

test('an envelope file checked against a pinned registry; a revoked attestation is refused with its reason', async () => {
  const node = gateway.tee!.nodes().find((n) => n.state === 'healthy')!;
  const file = path.join(dataDir, 'envelope.json');
  fs.writeFileSync(file, node.attestedEvidenceJson);
  const { rpcUrl, registryAddress } = gateway.trust!.info();
  const ok = await verify(['--onchain', file, '--rpc', rpcUrl, '--registry', registryAddress, '--allow-simulated', ...simulatedKey()]);
  expect(ok.text).toContain('VALID');
  expect(ok.text).toContain('pinned with --rpc/--registry');
  expect(ok.code).toBe(0);

  const chain = await connectChain({ rpcUrl, registryAddress, privateKey: DEV_ACCOUNTS[0].privateKey, pollingInterval: 50 });
  await revokeAttestation(chain.walletClient!, chain.publicClient, { registryAddress, signingAddress: getAddress(node.signingAddress) });
  const revoked = await verify(['--onchain', file, '--rpc', rpcUrl, '--registry', registryAddress, '--allow-simulated', ...simulatedKey(), '--json']);
  expect(revoked.code).toBe(1);
  expect(revoked.json.reasons.map((r: { code: string }) => r.code)).toContain('onchain_revoked');
});

test('error: usage problems exit 2 with a message naming the flag', async () => {
  expect((await verify(['--onchain', '--rpc', 'http://127.0.0.1:1'])).code).toBe(2);
  const bad = await verify(['--onchain', '--rpc', 'http://127.0.0.1:1', '--registry', 'nope']);
  expect(bad.code).toBe(2);
  expect(bad.text).toContain('--registry must be a 0x address');
});

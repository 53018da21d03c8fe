/**
 * The embedded dev chain keeps its state across restarts and reuses the registry it deployed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256 } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { approveMeasurement } from './approve-measurement';
import { DEV_ACCOUNTS } from './dev-accounts';
import { getRegistryState } from './get-registry-state';
import { isAttested } from './is-attested';
import { publishAttestation } from './publish-attestation';
import { DEV_DEPLOYMENT_FILE, DEV_STATE_FILE, startDevChain, type DevChain } from './start-dev-chain';
import { connectParty, randomHex } from './testing/start-test-chain';

let dataDir: string;
const running: DevChain[] = [];
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'veil-devchain-test-'));
});
afterAll(async () => {
  await Promise.all(running.map((d) => d.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(dir = dataDir) {
  const dev = await startDevChain({ dataDir: dir });
  running.push(dev);
  return dev;
}

test('state and the registry survive a restart', async () => {
  const first = await start();
  expect(first.reused).toBe(false);
  expect(first.chainId).toBe(31337);
  const record = JSON.parse(readFileSync(join(dataDir, DEV_DEPLOYMENT_FILE), 'utf8'));
  expect(record).toMatchObject({ registryAddress: first.registryAddress, chainId: 31337, deployer: DEV_ACCOUNTS[0].address });

  const owner = await connectParty(first.rpcUrl, first.registryAddress, DEV_ACCOUNTS[0].privateKey);
  const measurement = randomHex(48);
  await approveMeasurement(owner.walletClient, owner.publicClient, {
    registryAddress: first.registryAddress,
    platform: 'sev-snp',
    measurement,
    label: 'persisted',
    source: 'git:feed',
  });
  const signingAddress = privateKeyToAccount(generatePrivateKey()).address;
  const block = await owner.publicClient.getBlock();
  await publishAttestation(owner.walletClient, owner.publicClient, {
    registryAddress: first.registryAddress,
    evidenceHash: keccak256('0x1234'),
    platform: 'sev-snp',
    measurement,
    signingAddress,
    hpkeKeyHash: keccak256('0x5678'),
    expiresAt: block.timestamp + 86_400n,
  });
  await first.stop();
  await first.stop(); // idempotent
  expect(existsSync(join(dataDir, DEV_STATE_FILE))).toBe(true);

  const second = await start();
  expect(second.reused).toBe(true);
  expect(second.registryAddress).toBe(first.registryAddress);
  const again = await connectParty(second.rpcUrl, second.registryAddress, DEV_ACCOUNTS[0].privateKey);
  expect(await isAttested(again.publicClient, { registryAddress: second.registryAddress, signingAddress })).toBe(true);
  // The event history (labels, sources) is part of the saved state too.
  const state = await getRegistryState(again.publicClient, { registryAddress: second.registryAddress });
  expect(state.measurements.map((m) => m.label)).toEqual(['persisted']);
  expect(state.attestations.map((a) => a.signingAddress)).toEqual([signingAddress]);
  await second.stop();
});

test('a lost state file means a fresh deployment, and the record is rewritten', async () => {
  unlinkSync(join(dataDir, DEV_STATE_FILE));
  const dev = await start();
  expect(dev.reused).toBe(false);
  const owner = await connectParty(dev.rpcUrl, dev.registryAddress, DEV_ACCOUNTS[0].privateKey);
  const state = await getRegistryState(owner.publicClient, { registryAddress: dev.registryAddress });
  expect(state.measurements).toEqual([]);
  await dev.stop();
});

test('a corrupt deployment record is ignored, not trusted', async () => {
  writeFileSync(join(dataDir, DEV_DEPLOYMENT_FILE), '{ not json');
  const dev = await start();
  expect(dev.reused).toBe(false);
  expect(JSON.parse(readFileSync(join(dataDir, DEV_DEPLOYMENT_FILE), 'utf8')).registryAddress).toBe(dev.registryAddress);
  await dev.stop();
});

test('error: the dev chain refuses a non-loopback host', async () => {
  await expect(startDevChain({ dataDir, host: '0.0.0.0' })).rejects.toThrow(
    'host: the dev chain listens on loopback only (got 0.0.0.0); its keys are public',
  );
});

test('error: a corrupt state file is reported, not silently discarded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'veil-devchain-bad-'));
  writeFileSync(join(dir, DEV_STATE_FILE), 'garbage');
  await expect(startDevChain({ dataDir: dir })).rejects.toMatchObject({
    code: 'dev_chain_failed',
    message: expect.stringContaining(`invalid value '${join(dir, DEV_STATE_FILE)}' for '--state <PATH>': failed to parse json`),
  });
  rmSync(dir, { recursive: true, force: true });
});

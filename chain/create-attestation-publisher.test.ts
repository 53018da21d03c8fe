/**
 * The publisher against a real anvil that goes away and comes back (on the same port, from its saved state).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { approveMeasurement } from './approve-measurement';
import { createAttestationPublisher, type AttestationPublisherLogEntry, type PublishRequest } from './create-attestation-publisher';
import { DEV_ACCOUNTS } from './dev-accounts';
import { isAttested } from './is-attested';
import { startDevChain, type DevChain } from './start-dev-chain';
import { connectParty, randomHex, type Party } from './testing/start-test-chain';

let dataDir: string;
let dev: DevChain | undefined;
let owner: Party;
let port: number;
let measurement: Hex;
const NOW_MS = 1_900_000_000_000;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'veil-publisher-test-'));
  dev = await startDevChain({ dataDir });
  port = Number(new URL(dev.rpcUrl).port);
  owner = await connectParty(dev.rpcUrl, dev.registryAddress, DEV_ACCOUNTS[0].privateKey);
  measurement = randomHex(48);
  await approveMeasurement(owner.walletClient, owner.publicClient, {
    registryAddress: dev.registryAddress,
    platform: 'sev-snp',
    measurement,
    label: 'publisher test',
    source: 'test',
  });
});
afterAll(async () => {
  await dev?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function request(): PublishRequest {
  return {
    evidenceHash: keccak256(randomHex(64)),
    platform: 'sev-snp',
    measurement,
    signingAddress: privateKeyToAccount(generatePrivateKey()).address,
    hpkeKeyHash: keccak256(randomHex(32)),
    // Far ahead of both the fake clock and the chain's clock.
    expiresAt: BigInt(NOW_MS / 1000 + 86_400),
  };
}

test('publishes while the chain is up', async () => {
  const logs: AttestationPublisherLogEntry[] = [];
  const publisher = createAttestationPublisher({ client: owner, registryAddress: owner.registryAddress, log: (e) => logs.push(e) });
  const req = request();
  const outcome = await publisher.publish(req);
  expect(outcome).toMatchObject({ ok: true, attempts: 1 });
  expect(await isAttested(owner.publicClient, { registryAddress: owner.registryAddress, signingAddress: req.signingAddress })).toBe(true);
  expect(logs.map((l) => l.event)).toEqual(['attestation_published']);
});

test('a contract refusal is not retried and does not throw', async () => {
  const sleeps: number[] = [];
  const publisher = createAttestationPublisher({
    client: owner,
    registryAddress: owner.registryAddress,
    sleep: async (ms) => void sleeps.push(ms),
    now: () => NOW_MS,
  });
  const outcome = await publisher.publish({ ...request(), measurement: randomHex(48) });
  expect(outcome).toMatchObject({ ok: false, code: 'measurement_not_approved', retryable: false, attempts: 1 });
  expect(sleeps).toEqual([]);
});

test('RPC down: retries with exponential backoff, gives up cleanly after maxRetries', async () => {
  await dev?.stop();
  dev = undefined;
  const sleeps: number[] = [];
  const logs: AttestationPublisherLogEntry[] = [];
  const publisher = createAttestationPublisher({
    client: owner,
    registryAddress: owner.registryAddress,
    maxRetries: 3,
    initialDelayMs: 100,
    sleep: async (ms) => void sleeps.push(ms),
    now: () => NOW_MS,
    log: (e) => logs.push(e),
  });
  const outcome = await publisher.publish(request());
  expect(outcome).toEqual({
    ok: false,
    code: 'rpc_unavailable',
    message: 'publishAttestation: the RPC endpoint is unreachable',
    retryable: true,
    attempts: 4,
  });
  expect(sleeps).toEqual([100, 200, 400]);
  expect(logs.map((l) => l.event)).toEqual([
    'attestation_publish_retry',
    'attestation_publish_retry',
    'attestation_publish_retry',
    'attestation_publish_failed',
  ]);
  const logged = JSON.stringify(logs);
  expect(logged).not.toContain(DEV_ACCOUNTS[0].privateKey.slice(2));
});

test('RPC down: retries until the chain comes back, then succeeds against the restored state', async () => {
  const sleeps: number[] = [];
  const publisher = createAttestationPublisher({
    client: owner,
    registryAddress: owner.registryAddress,
    initialDelayMs: 100,
    now: () => NOW_MS,
    sleep: async (ms) => {
      sleeps.push(ms);
      // The outage ends during the second backoff: anvil restarts on the same port from its saved state.
      if (sleeps.length === 2) dev = await startDevChain({ dataDir, port });
    },
  });
  const req = request();
  const outcome = await publisher.publish(req);
  expect(outcome).toMatchObject({ ok: true, attempts: 3 });
  expect(sleeps).toEqual([100, 200]);
  expect(dev?.reused).toBe(true);
  expect(await isAttested(owner.publicClient, { registryAddress: owner.registryAddress, signingAddress: req.signingAddress })).toBe(true);
});

test('stops retrying once the attestation would have expired', async () => {
  await dev?.stop();
  dev = undefined;
  const sleeps: number[] = [];
  const publisher = createAttestationPublisher({
    client: owner,
    registryAddress: owner.registryAddress,
    sleep: async (ms) => void sleeps.push(ms),
    now: () => NOW_MS,
  });
  // Expires 1 s after "now": the first 500 ms backoff still fits, the next (1 s) would not.
  const outcome = await publisher.publish({ ...request(), expiresAt: BigInt(NOW_MS / 1000 + 1) });
  expect(outcome).toMatchObject({ ok: false, code: 'rpc_unavailable', attempts: 2 });
  expect(sleeps).toEqual([500]);
});

test('invalid input resolves as a failure instead of throwing', async () => {
  const publisher = createAttestationPublisher({ client: owner, registryAddress: owner.registryAddress });
  await expect(publisher.publish({ ...request(), signingAddress: 'nope' as Hex })).resolves.toMatchObject({
    ok: false,
    code: 'invalid_address',
    message: 'signingAddress: not an EVM address (expected 0x followed by 40 hex digits)',
  });
  await expect(
    createAttestationPublisher({ client: { ...owner, walletClient: undefined }, registryAddress: owner.registryAddress }).publish(request()),
  ).resolves.toMatchObject({ ok: false, code: 'private_key_missing' });
});

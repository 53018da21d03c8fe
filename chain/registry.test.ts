/**
 * VeilRegistry end to end against a real anvil: approve → publish → verify, and every refusal path.
 */
import { keccak256, type Hex } from 'viem';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { acceptOwnership } from './accept-ownership';
import { approveMeasurement } from './approve-measurement';
import { deployRegistry } from './deploy-registry';
import { setOperator } from './set-operator';
import { transferOwnership } from './transfer-ownership';
import { checkOnchainAttestation } from './check-onchain-attestation';
import { ChainError } from './errors';
import { getAttestation } from './get-attestation';
import { getRegistryState } from './get-registry-state';
import { isAttested } from './is-attested';
import { measurementId } from './measurement-id';
import { platformTag } from './platform';
import { publishAttestation, type PublishAttestationParameters } from './publish-attestation';
import { revokeAttestation } from './revoke-attestation';
import { revokeMeasurement } from './revoke-measurement';
import { toChainError } from './to-chain-error';
import { randomHex, startTestChain, type TestChain } from './testing/start-test-chain';

let t: TestChain;
let registryAddress: Hex;
beforeAll(async () => {
  t = await startTestChain();
  registryAddress = t.dev.registryAddress;
});
afterAll(async () => {
  await t?.stop();
});

async function approve(platform: 'sev-snp' | 'tdx' = 'sev-snp') {
  const measurement = randomHex(platform === 'sev-snp' ? 48 : 32);
  const { measurementId: id } = await approveMeasurement(t.owner.walletClient, t.owner.publicClient, {
    registryAddress,
    platform,
    measurement,
    label: `worker ${platform}`,
    source: 'git:0123abc',
  });
  return { measurement, id };
}

async function publish(measurement: Hex, overrides: Partial<PublishAttestationParameters> = {}) {
  const signingAddress = privateKeyToAccount(generatePrivateKey()).address;
  const evidenceHash = keccak256(randomHex(64));
  const params: PublishAttestationParameters = {
    registryAddress,
    evidenceHash,
    platform: 'sev-snp',
    measurement,
    signingAddress,
    hpkeKeyHash: keccak256(randomHex(32)),
    expiresAt: (await t.chainTime()) + 3600n,
    ...overrides,
  };
  const result = await publishAttestation(t.operator.walletClient, t.operator.publicClient, params);
  return { ...params, ...result };
}

async function refusal(promise: Promise<unknown>): Promise<ChainError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ChainError)) throw new Error(`expected a ChainError, got ${String(err)}`);
  return err;
}

test('approve → publish → verify', async () => {
  const { measurement, id } = await approve();
  expect(id).toBe(measurementId('sev-snp', measurement));
  const p = await publish(measurement);
  expect(p.gasUsed).toBeGreaterThan(0n);

  expect(await isAttested(t.owner.publicClient, { registryAddress, signingAddress: p.signingAddress })).toBe(true);
  const record = await getAttestation(t.stranger.publicClient, { registryAddress, signingAddress: p.signingAddress });
  expect(record).toMatchObject({
    evidenceHash: p.evidenceHash,
    platform: 'sev-snp',
    measurementId: id,
    hpkeKeyHash: p.hpkeKeyHash,
    operator: t.operator.account,
    expiresAt: p.expiresAt,
    measurementEpoch: 1,
    revoked: false,
  });

  const check = await checkOnchainAttestation(t.stranger.publicClient, registryAddress, {
    signingAddress: p.signingAddress,
    evidenceHash: p.evidenceHash,
    hpkeKeyHash: p.hpkeKeyHash,
  });
  expect(check).toMatchObject({ ok: true, reasons: [] });

  const wrong = await checkOnchainAttestation(t.stranger.publicClient, registryAddress, {
    signingAddress: p.signingAddress,
    evidenceHash: keccak256('0x01'),
  });
  expect(wrong.ok).toBe(false);
  expect(wrong.reasons.map((r) => r.code)).toEqual(['evidence_mismatch']);
});

test('the contract derives the same measurement id as the TS helper', async () => {
  const measurement = randomHex(48);
  const onchain = await t.owner.publicClient.readContract({
    address: registryAddress,
    abi: veilRegistryAbi,
    functionName: 'measurementIdOf',
    args: [platformTag('sev-snp'), measurement],
  });
  expect(onchain).toBe(measurementId('sev-snp', measurement));
});

test('revoking a measurement un-attests its signers; re-approval does not resurrect them', async () => {
  const { measurement, id } = await approve();
  const p = await publish(measurement);
  await revokeMeasurement(t.owner.walletClient, t.owner.publicClient, { registryAddress, measurementId: id });
  expect(await isAttested(t.owner.publicClient, { registryAddress, signingAddress: p.signingAddress })).toBe(false);
  const check = await checkOnchainAttestation(t.owner.publicClient, registryAddress, p);
  expect(check.reasons.map((r) => r.code)).toEqual(['measurement_not_approved']);

  // Re-approval is a new event and epoch; the old attestation stays dead until republished.
  await approveMeasurement(t.owner.walletClient, t.owner.publicClient, {
    registryAddress,
    platform: 'sev-snp',
    measurement,
    label: 'worker sev-snp (rebuilt)',
    source: 'git:4567def',
  });
  const after = await checkOnchainAttestation(t.owner.publicClient, registryAddress, p);
  expect(after.reasons.map((r) => r.code)).toEqual(['measurement_reapproved_since']);
  await publish(measurement, { signingAddress: p.signingAddress, evidenceHash: p.evidenceHash });
  expect(await isAttested(t.owner.publicClient, { registryAddress, signingAddress: p.signingAddress })).toBe(true);

  const state = await getRegistryState(t.owner.publicClient, { registryAddress });
  const entry = state.measurements.find((m) => m.measurementId === id);
  expect(entry).toMatchObject({ approved: true, epoch: 2, label: 'worker sev-snp (rebuilt)', source: 'git:4567def', measurement });
  expect(entry?.history.map((h) => `${h.type}:${h.epoch}`)).toEqual(['approved:1', 'revoked:1', 'approved:2']);
  expect(state.owner).toBe(t.owner.account);
  expect(state.operators).toEqual(expect.arrayContaining([t.owner.account, t.operator.account]));
  expect(state.attestations.find((a) => a.signingAddress === p.signingAddress)?.attested).toBe(true);
});

test('revoking an attestation: the publishing operator or the owner, once', async () => {
  const { measurement } = await approve();
  const p = await publish(measurement);
  const byStranger = await refusal(
    revokeAttestation(t.stranger.walletClient, t.stranger.publicClient, { registryAddress, signingAddress: p.signingAddress }),
  );
  expect(byStranger.code).toBe('not_authorised');

  await revokeAttestation(t.operator.walletClient, t.operator.publicClient, { registryAddress, signingAddress: p.signingAddress });
  expect(await isAttested(t.owner.publicClient, { registryAddress, signingAddress: p.signingAddress })).toBe(false);
  const check = await checkOnchainAttestation(t.owner.publicClient, registryAddress, p);
  expect(check.reasons.map((r) => r.code)).toEqual(['revoked']);

  const again = await refusal(
    revokeAttestation(t.owner.walletClient, t.owner.publicClient, { registryAddress, signingAddress: p.signingAddress }),
  );
  expect(again.code).toBe('attestation_already_revoked');

  const q = await publish(measurement);
  await revokeAttestation(t.owner.walletClient, t.owner.publicClient, { registryAddress, signingAddress: q.signingAddress });
  expect(await isAttested(t.owner.publicClient, { registryAddress, signingAddress: q.signingAddress })).toBe(false);
});

test('an attestation expires with chain time', async () => {
  const { measurement } = await approve();
  const p = await publish(measurement, { expiresAt: (await t.chainTime()) + 600n });
  expect(await isAttested(t.owner.publicClient, { registryAddress, signingAddress: p.signingAddress })).toBe(true);
  await t.testClient.increaseTime({ seconds: 601 });
  await t.testClient.mine({ blocks: 1 });
  expect(await isAttested(t.owner.publicClient, { registryAddress, signingAddress: p.signingAddress })).toBe(false);
  const check = await checkOnchainAttestation(t.owner.publicClient, registryAddress, p);
  expect(check.reasons.map((r) => r.code)).toEqual(['expired']);
});

test('error: publishing under an unapproved measurement is refused with the custom error', async () => {
  const measurement = randomHex(48);
  const err = await refusal(publish(measurement));
  expect(err.code).toBe('measurement_not_approved');
  expect(err.message).toBe('publishAttestation: the measurement is not approved in the registry (MeasurementNotApproved)');
  expect(err.details).toMatchObject({ contractError: 'MeasurementNotApproved', args: [measurementId('sev-snp', measurement)] });
});

test('error: a non-owner cannot approve or revoke measurements', async () => {
  const err = await refusal(
    approveMeasurement(t.stranger.walletClient, t.stranger.publicClient, {
      registryAddress,
      platform: 'tdx',
      measurement: randomHex(32),
      label: 'x',
      source: 'y',
    }),
  );
  expect(err.code).toBe('not_owner');
  expect(err.message).toBe('approveMeasurement: the sender is not the registry owner (NotOwner)');
  const { id } = await approve();
  expect((await refusal(revokeMeasurement(t.operator.walletClient, t.operator.publicClient, { registryAddress, measurementId: id }))).code).toBe(
    'not_owner',
  );
});

test('error: only operators publish, and only the publisher refreshes a live attestation', async () => {
  const { measurement } = await approve();
  const p = await publish(measurement);
  const notOperator = await refusal(
    publishAttestation(t.stranger.walletClient, t.stranger.publicClient, { ...p, signingAddress: p.signingAddress }),
  );
  expect(notOperator.code).toBe('not_operator');
  // The owner is also an operator (dev chain default), but a different one from the publisher.
  const takeover = await refusal(publishAttestation(t.owner.walletClient, t.owner.publicClient, p));
  expect(takeover.code).toBe('attestation_held_by_other_operator');
});

test('error: platform mismatch, past expiry and duplicate approval', async () => {
  const { measurement, id } = await approve('tdx');
  // Through the TS API the id binds the platform, so the wrong platform is simply another, unapproved identity…
  expect((await refusal(publish(measurement, { platform: 'simulated' }))).code).toBe('measurement_not_approved');
  // …and a caller passing raw ids to the contract gets the explicit PlatformMismatch.
  const raw = t.operator.walletClient
    .writeContract({
      address: registryAddress,
      abi: veilRegistryAbi,
      functionName: 'publishAttestation',
      args: [keccak256('0x01'), platformTag('simulated'), id, t.stranger.account, keccak256('0x02'), (await t.chainTime()) + 60n],
    })
    .catch((e: unknown) => Promise.reject(toChainError(e, 'publishAttestation')));
  expect((await refusal(raw)).code).toBe('platform_mismatch');
  expect((await refusal(publish(measurement, { platform: 'tdx', expiresAt: 1n }))).code).toBe('expiry_not_in_future');
  const dup = await refusal(
    approveMeasurement(t.owner.walletClient, t.owner.publicClient, { registryAddress, platform: 'tdx', measurement, label: 'a', source: 'b' }),
  );
  expect(dup.code).toBe('measurement_already_approved');
});

test('error: bad input is named before anything is sent', async () => {
  await expect(
    isAttested(t.owner.publicClient, { registryAddress, signingAddress: '0x1234' as Hex }),
  ).rejects.toThrow('signingAddress: not an EVM address (expected 0x followed by 40 hex digits)');
  await expect(publish(randomHex(48), { evidenceHash: '0xabc' as Hex })).rejects.toThrow(
    'evidenceHash: not a non-empty, even-length hex string',
  );
});

test('error: reading a registry at an address with no code', async () => {
  const err = await refusal(
    isAttested(t.owner.publicClient, { registryAddress: '0x000000000000000000000000000000000000dEaD', signingAddress: t.owner.account }),
  );
  expect(err.code).toBe('registry_not_found');
});

test('error: a write to an address with no code is not mistaken for success', async () => {
  const err = await refusal(
    approveMeasurement(t.owner.walletClient, t.owner.publicClient, {
      registryAddress: '0x000000000000000000000000000000000000dEaD',
      platform: 'tdx',
      measurement: randomHex(32),
      label: 'x',
      source: 'y',
    }),
  );
  expect(err.code).toBe('registry_not_found');
});

test('ownership moves in two steps; only the pending owner can accept', async () => {
  const fresh = await deployRegistry(t.owner.walletClient, t.owner.publicClient);
  const at = { registryAddress: fresh.address };
  await transferOwnership(t.owner.walletClient, t.owner.publicClient, { ...at, newOwner: t.operator.account });
  expect((await refusal(acceptOwnership(t.stranger.walletClient, t.stranger.publicClient, at))).code).toBe('not_pending_owner');
  expect((await getRegistryState(t.owner.publicClient, at)).pendingOwner).toBe(t.operator.account);
  await acceptOwnership(t.operator.walletClient, t.operator.publicClient, at);
  const state = await getRegistryState(t.owner.publicClient, at);
  expect(state).toMatchObject({ owner: t.operator.account, pendingOwner: null });
  expect((await refusal(setOperator(t.owner.walletClient, t.owner.publicClient, { ...at, operator: t.owner.account, authorised: true }))).code).toBe(
    'not_owner',
  );
});

/**
 * VeilPaymentChannels against a hostile ERC-20 (compiled here from testing/HostileToken.sol): reentrancy from inside a
 * token transfer (a deposit, or a claim from its payout) is refused by the lock, and fee-on-transfer tokens are refused by
 * the balance-delta check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import solc from 'solc';
import { encodeFunctionData, toFunctionSelector, type Abi, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { veilPaymentChannelsAbi } from './artifacts/veil-payment-channels';
import { COMPILER_SETTINGS } from './build-contracts';
import type { ChannelConfig } from './channel-config';
import { channelId, toChannelConfigMessage } from './channel-id';
import { deployPaymentChannels } from './deploy-payment-channels';
import { getChannel } from './get-channel';
import { signVoucher } from './sign-voucher';
import { toChainError } from './to-chain-error';
import { randomHex, startTestChain, type TestChain } from './testing/start-test-chain';

let t: TestChain;
let contractAddress: Address;
let token: Address;
let tokenAbi: Abi;

beforeAll(async () => {
  const input = {
    language: 'Solidity',
    sources: { 'HostileToken.sol': { content: readFileSync(join(__dirname, 'testing', 'HostileToken.sol'), 'utf8') } },
    settings: COMPILER_SETTINGS,
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as {
    contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const compiled = out.contracts['HostileToken.sol']!.HostileToken!;
  tokenAbi = compiled.abi;
  t = await startTestChain();
  contractAddress = (await deployPaymentChannels(t.owner.walletClient, t.owner.publicClient)).address;
  const hash = await t.owner.walletClient.deployContract({ abi: tokenAbi, bytecode: `0x${compiled.evm.bytecode.object}` });
  token = (await t.owner.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
  await tokenWrite('mint', [t.operator.account, 10n ** 9n]);
  await tokenWrite('mint', [token, 10n ** 9n]); // the token itself funds the reentrant deposit
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

async function tokenWrite(functionName: string, args: unknown[]) {
  const hash = await t.owner.walletClient.writeContract({ address: token, abi: tokenAbi, functionName, args });
  await t.owner.publicClient.waitForTransactionReceipt({ hash });
}
const tokenRead = (functionName: string) => t.owner.publicClient.readContract({ address: token, abi: tokenAbi, functionName });

function config(): ChannelConfig {
  return { payer: t.operator.account, payerAuthorizer: privateKeyToAccount(generatePrivateKey()).address, receiver: t.stranger.account, token, withdrawDelay: 900, salt: randomHex(32) };
}

test('a deposit reentered from inside the token transfer is refused, and only the outer amount is credited', async () => {
  const cfg = config();
  const reenter = encodeFunctionData({ abi: veilPaymentChannelsAbi, functionName: 'deposit', args: [toChannelConfigMessage(cfg), 50n] });
  await tokenWrite('setHook', [contractAddress, reenter]);
  // Sent directly: HostileToken has no allowance(), which depositChannel reads first.
  const hash = await t.operator.walletClient.writeContract({ address: contractAddress, abi: veilPaymentChannelsAbi, functionName: 'deposit', args: [toChannelConfigMessage(cfg), 100n] });
  expect((await t.owner.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
  expect(await tokenRead('hookSucceeded')).toBe(false);
  expect(((await tokenRead('hookResult')) as Hex).slice(0, 10)).toBe(toFunctionSelector('Reentrancy()'));
  expect((await getChannel(t.owner.publicClient, { contractAddress, config: cfg })).deposited).toBe(100n);
});

test('a fee-on-transfer token is refused on deposit', async () => {
  await tokenWrite('setFee', [1n]);
  const cfg = config();
  const err = await t.operator.publicClient
    .simulateContract({ account: t.operator.account, address: contractAddress, abi: veilPaymentChannelsAbi, functionName: 'deposit', args: [toChannelConfigMessage(cfg), 100n] })
    .then(() => undefined, (e: unknown) => toChainError(e, 'deposit'));
  expect(err?.code).toBe('fee_on_transfer_token');
  await tokenWrite('setFee', [0n]);
});

test('a claim reentered from inside the payout transfer is refused, and the outer claim pays its charged total once', async () => {
  const authorizer = privateKeyToAccount(generatePrivateKey());
  const cfg = { ...config(), payerAuthorizer: authorizer.address };
  const open = await t.operator.walletClient.writeContract({ address: contractAddress, abi: veilPaymentChannelsAbi, functionName: 'deposit', args: [toChannelConfigMessage(cfg), 1_000n] });
  await t.owner.publicClient.waitForTransactionReceipt({ hash: open });
  const chainId = t.owner.walletClient.chain.id;
  const voucher = await signVoucher(authorizer, { chainId, contractAddress, channelId: channelId({ chainId, contractAddress, config: cfg }), maxClaimableAmount: 600n });
  const entry = (totalClaimed: bigint) => ({ config: toChannelConfigMessage(cfg), maxClaimableAmount: 600n, signature: voucher.signature, totalClaimed });
  await tokenWrite('setHook', [contractAddress, encodeFunctionData({ abi: veilPaymentChannelsAbi, functionName: 'claim', args: [[entry(600n)]] })]);
  const before = (await t.owner.publicClient.readContract({ address: token, abi: tokenAbi, functionName: 'balanceOf', args: [t.stranger.account] })) as bigint;
  const hash = await t.stranger.walletClient.writeContract({ address: contractAddress, abi: veilPaymentChannelsAbi, functionName: 'claim', args: [[entry(250n)]] });
  expect((await t.owner.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
  expect(await tokenRead('hookSucceeded')).toBe(false);
  expect(((await tokenRead('hookResult')) as Hex).slice(0, 10)).toBe(toFunctionSelector('Reentrancy()'));
  const after = (await t.owner.publicClient.readContract({ address: token, abi: tokenAbi, functionName: 'balanceOf', args: [t.stranger.account] })) as bigint;
  expect(after - before).toBe(250n);
  expect((await getChannel(t.owner.publicClient, { contractAddress, config: cfg })).claimed).toBe(250n);
});

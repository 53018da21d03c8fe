/**
 * Payment-channel bench: gas per operation of VeilPaymentChannels against a real anvil on loopback, with the per-channel
 * cost of a batched claim. Run: `node bin/run-ts.cjs bench/payment-channels.ts` → bench/results/payment-channels.{json,md}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestClient, erc20Abi, http, maxUint256, toHex, type LocalAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  channelId,
  claimVouchers,
  closeChannel,
  connectChain,
  DEV_ACCOUNTS,
  deployDevToken,
  deployPaymentChannels,
  depositChannel,
  finalizeWithdraw,
  initiateWithdraw,
  mintDevToken,
  rotateAuthorizer,
  signClose,
  signVoucher,
  startDevChain,
  topUpChannel,
  veilPaymentChannelsDeployedBytecode,
  type ChannelConfig,
} from '../chain';
import { machineInfo, markdownTable, round, writeBenchReport } from './write-bench-report';

const DELAY = 15 * 60;
const BATCH = 10;

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'veil-paychan-bench-'));
  const dev = await startDevChain({ dataDir });
  try {
    const connect = (i: 0 | 1 | 2) =>
      connectChain({ rpcUrl: dev.rpcUrl, registryAddress: dev.registryAddress, privateKey: DEV_ACCOUNTS[i].privateKey, pollingInterval: 20, retryCount: 0 });
    const [deployer, payer, receiver] = await Promise.all([connect(0), connect(1), connect(2)]);
    const pub = deployer.publicClient;
    const dw = deployer.walletClient!;
    const pw = payer.walletClient!;
    const rw = receiver.walletClient!;
    const chainId = dw.chain.id;
    const gas: { operation: string; gasUsed: bigint; note: string }[] = [];

    const deployed = await deployPaymentChannels(dw, pub);
    const contractAddress = deployed.address;
    gas.push({ operation: 'deploy', gasUsed: deployed.gasUsed, note: `runtime code ${(veilPaymentChannelsDeployedBytecode.length - 2) / 2} bytes` });
    const token = (await deployDevToken(dw, pub)).address;
    await mintDevToken(dw, pub, { tokenAddress: token, to: payer.account!, amount: 10n ** 15n });
    // One unlimited approval up front, so the deposit figures are the deposit alone.
    await pub.waitForTransactionReceipt({ hash: await pw.writeContract({ address: token, abi: erc20Abi, functionName: 'approve', args: [contractAddress, maxUint256] }) });

    const newChannel = (): { config: ChannelConfig; key: LocalAccount } => {
      const key = privateKeyToAccount(generatePrivateKey());
      return {
        key,
        config: { payer: payer.account!, payerAuthorizer: key.address, receiver: receiver.account!, token, withdrawDelay: DELAY, salt: toHex(crypto.getRandomValues(new Uint8Array(32))) },
      };
    };
    const voucher = (ch: { config: ChannelConfig; key: LocalAccount }, amount: bigint) =>
      signVoucher(ch.key, { chainId, contractAddress, channelId: channelId({ chainId, contractAddress, config: ch.config }), maxClaimableAmount: amount });

    const a = newChannel();
    gas.push({ operation: 'deposit (opens)', gasUsed: (await depositChannel(pw, pub, { contractAddress, config: a.config, amount: 1_000_000n })).gasUsed, note: 'first deposit, allowance already given' });
    const p = newChannel();
    gas.push({
      operation: 'depositWithPermit (opens)',
      gasUsed: (await depositChannel(pw, pub, { contractAddress, config: p.config, amount: 1_000_000n, allowance: 'permit' })).gasUsed,
      note: 'EIP-2612 permit + first deposit, one transaction',
    });
    gas.push({ operation: 'top-up', gasUsed: (await topUpChannel(pw, pub, { contractAddress, config: a.config, amount: 500_000n })).gasUsed, note: 'second deposit' });

    // Metered claims, as the gateway sends them: the voucher is a ceiling (charged so far + the next call's ceiling) and
    // the receiver claims the total it actually charged, below that ceiling.
    const claim1 = await claimVouchers(rw, pub, { contractAddress, claims: [{ config: a.config, voucher: await voucher(a, 1_000n), totalClaimed: 900n }] });
    gas.push({ operation: 'claim, 1 channel', gasUsed: claim1.gasUsed, note: 'first claim ever: also creates the receiver’s token balance slot (~17k)' });
    const latest = await voucher(a, 2_000n);
    const claim1Again = await claimVouchers(rw, pub, { contractAddress, claims: [{ config: a.config, voucher: latest, totalClaimed: 1_900n }] });
    gas.push({ operation: 'claim, 1 channel (again)', gasUsed: claim1Again.gasUsed, note: 'later claim on the same channel, receiver balance already non-zero' });
    const claimStale = await claimVouchers(rw, pub, { contractAddress, claims: [{ config: a.config, voucher: latest, totalClaimed: 1_900n }] });
    gas.push({ operation: 'claim, 1 channel (stale total)', gasUsed: claimStale.gasUsed, note: 'same total again: verified, pays nothing, no transfer' });

    const many = Array.from({ length: BATCH }, newChannel);
    for (const ch of many) await depositChannel(pw, pub, { contractAddress, config: ch.config, amount: 1_000_000n });
    const claims = await Promise.all(many.map(async (ch) => ({ config: ch.config, voucher: await voucher(ch, 1_000n), totalClaimed: 900n })));
    const claim10 = await claimVouchers(rw, pub, { contractAddress, claims });
    gas.push({ operation: `claim, ${BATCH} channels in one tx`, gasUsed: claim10.gasUsed, note: 'first claim on each, one token transfer' });
    const perChannelAverage = Number(claim10.gasUsed) / BATCH;
    // Marginal against the warm single claim: both then write a non-zero receiver balance, so the difference is the channels.
    const perChannelMarginal = Number(claim10.gasUsed - claim1Again.gasUsed) / (BATCH - 1);

    gas.push({ operation: 'rotateAuthorizer', gasUsed: (await rotateAuthorizer(pw, pub, { contractAddress, config: a.config, newAuthorizer: newChannel().key.address })).gasUsed, note: 'new slot for the pending key' });
    gas.push({ operation: 'initiateWithdraw', gasUsed: (await initiateWithdraw(pw, pub, { contractAddress, config: a.config })).gasUsed, note: '' });
    const testClient = createTestClient({ mode: 'anvil', transport: http(dev.rpcUrl) });
    await testClient.increaseTime({ seconds: DELAY });
    await testClient.mine({ blocks: 1 });
    gas.push({ operation: 'finalizeWithdraw', gasUsed: (await finalizeWithdraw(pw, pub, { contractAddress, config: a.config })).gasUsed, note: 'refund transfer to the payer' });
    const [c1, c2] = many;
    gas.push({ operation: 'close (receiver)', gasUsed: (await closeChannel(rw, pub, { contractAddress, config: c1!.config })).gasUsed, note: 'cooperative, refund transfer to the payer' });
    const receiverKey = privateKeyToAccount(DEV_ACCOUNTS[2].privateKey);
    const receiverSignature = await signClose(receiverKey, { chainId, contractAddress, channelId: channelId({ chainId, contractAddress, config: c2!.config }) });
    gas.push({ operation: 'closeWithSignature (payer relays)', gasUsed: (await closeChannel(pw, pub, { contractAddress, config: c2!.config, receiverSignature })).gasUsed, note: 'cooperative, receiver-signed' });

    const x402 = { claim1: 40_252, claim10: 192_043, depositErc3009First: 111_738, exactPerPaymentMin: 61_105, exactPerPaymentMax: 90_053 };
    const report = {
      machine: machineInfo(),
      chain: { node: 'anvil 1.7.1 (loopback HTTP)', solc: '0.8.37, optimizer 200 runs, evm cancun' },
      gas: gas.map((g) => ({ ...g, gasUsed: Number(g.gasUsed) })),
      claimPerChannel: { batch: BATCH, averageGas: round(perChannelAverage, 0), marginalGas: round(perChannelMarginal, 0) },
      x402Reference: x402,
    };
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const md = [
      '# Payment-channel bench: VeilPaymentChannels on anvil',
      '',
      `Machine: ${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}, ${report.machine.date}. Token: VeilDevToken (plain ERC-20).`,
      '',
      '## Gas per operation (receipt gasUsed, includes the 21,000 base)',
      '',
      markdownTable(report.gas.map((g) => ({ operation: g.operation, gasUsed: fmt(g.gasUsed), note: g.note }))),
      '',
      '## Claim cost per channel',
      '',
      markdownTable([
        { measure: `average over a ${BATCH}-channel claim`, gas: fmt(perChannelAverage) },
        { measure: `marginal channel ((claim ${BATCH} − claim 1 again) / ${BATCH - 1})`, gas: fmt(perChannelMarginal) },
        { measure: 'x402BatchSettlement claim_10_channels / 10 (reference, its gas snapshot)', gas: fmt(x402.claim10 / 10) },
        { measure: 'x402 `exact`, one transfer per call (reference, Base USDC)', gas: `${fmt(x402.exactPerPaymentMin)}–${fmt(x402.exactPerPaymentMax)}` },
      ]),
      '',
      'x402BatchSettlement only updates accounting in `claim` and moves tokens in a separate `settle` sweep (31,204 gas); this',
      'contract transfers inside the claim (one transfer per token per batch), so its claim figures include the sweep.',
    ].join('\n');
    writeBenchReport('payment-channels', report, md);
  } finally {
    await dev.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

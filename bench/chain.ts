/**
 * Registry bench: gas per write call and latency of the read paths, against a real anvil on loopback.
 * Run: `node bin/run-ts.cjs bench/chain.ts` → bench/results/chain.{json,md}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeFunctionData, keccak256, toHex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  approveMeasurement,
  checkOnchainAttestation,
  connectChain,
  DEV_ACCOUNTS,
  deployRegistry,
  isAttested,
  publishAttestation,
  revokeAttestation,
  revokeMeasurement,
  setOperator,
  startDevChain,
  veilRegistryAbi,
  veilRegistryDeployedBytecode,
} from '../chain';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';

const READ_SAMPLES = 300;
const random = (bytes: number) => toHex(crypto.getRandomValues(new Uint8Array(bytes)));

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'veil-chain-bench-'));
  const t0 = performance.now();
  const dev = await startDevChain({ dataDir });
  const startMs = performance.now() - t0;
  try {
    const conn = await connectChain({ rpcUrl: dev.rpcUrl, registryAddress: dev.registryAddress, privateKey: DEV_ACCOUNTS[0].privateKey, pollingInterval: 20, retryCount: 0 });
    const wallet = conn.walletClient!;
    const pub = conn.publicClient;
    const gas: { call: string; gasUsed: bigint; note: string }[] = [];

    const deployed = await deployRegistry(wallet, pub);
    const registryAddress = deployed.address;
    gas.push({ call: 'deployRegistry', gasUsed: deployed.gasUsed, note: `runtime code ${(veilRegistryDeployedBytecode.length - 2) / 2} bytes` });
    gas.push({ call: 'setOperator', gasUsed: (await setOperator(wallet, pub, { registryAddress, operator: conn.account!, authorised: true })).gasUsed, note: 'authorise' });

    const label = 'veil-worker 0.1.0 (cpu)';
    const source = 'https://github.com/veil/veil/commit/0123456789abcdef0123456789abcdef01234567';
    const snp = random(48);
    const approved = await approveMeasurement(wallet, pub, { registryAddress, platform: 'sev-snp', measurement: snp, label, source });
    gas.push({ call: 'approveMeasurement', gasUsed: approved.gasUsed, note: `sev-snp 48-byte measurement, ${label.length}-char label, ${source.length}-char source` });
    const nitro = await approveMeasurement(wallet, pub, { registryAddress, platform: 'nitro', measurement: random(144), label, source });
    gas.push({ call: 'approveMeasurement', gasUsed: nitro.gasUsed, note: 'nitro PCR0‖PCR1‖PCR2 (144 bytes), same strings' });

    const signingAddress = privateKeyToAccount(generatePrivateKey()).address;
    const block = await pub.getBlock();
    const publishParams = {
      registryAddress,
      evidenceHash: keccak256(random(1200)),
      platform: 'sev-snp' as const,
      measurement: snp,
      signingAddress,
      hpkeKeyHash: keccak256(random(32)),
      expiresAt: block.timestamp + 86_400n,
    };
    gas.push({ call: 'publishAttestation', gasUsed: (await publishAttestation(wallet, pub, publishParams)).gasUsed, note: 'first publish for a signer' });
    gas.push({
      call: 'publishAttestation',
      gasUsed: (await publishAttestation(wallet, pub, { ...publishParams, evidenceHash: keccak256(random(1200)), expiresAt: block.timestamp + 2n * 86_400n })).gasUsed,
      note: 'refresh (same signer, new evidence)',
    });

    // Read latencies while the attestation is live.
    const timeIt = async (fn: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < 20; i++) await fn(); // warm-up: HTTP keep-alive, viem caches
      for (let i = 0; i < READ_SAMPLES; i++) {
        const s = performance.now();
        await fn();
        samples.push(performance.now() - s);
      }
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      return { p50Ms: round(percentile(samples, 0.5), 3), p95Ms: round(percentile(samples, 0.95), 3), meanMs: round(mean, 3), samples: samples.length };
    };
    const isAttestedLatency = await timeIt(() => isAttested(pub, { registryAddress, signingAddress }));
    const checkLatency = await timeIt(() =>
      checkOnchainAttestation(pub, registryAddress, { signingAddress, evidenceHash: publishParams.evidenceHash }),
    );
    const isAttestedCallGas = await pub.estimateGas({
      to: registryAddress,
      data: encodeFunctionData({ abi: veilRegistryAbi, functionName: 'isAttested', args: [signingAddress] }),
      account: conn.account!,
    });

    gas.push({ call: 'revokeAttestation', gasUsed: (await revokeAttestation(wallet, pub, { registryAddress, signingAddress })).gasUsed, note: 'by the owner' });
    gas.push({ call: 'revokeMeasurement', gasUsed: (await revokeMeasurement(wallet, pub, { registryAddress, measurementId: approved.measurementId })).gasUsed, note: '' });
    const reapproved = await approveMeasurement(wallet, pub, { registryAddress, platform: 'sev-snp', measurement: snp, label, source });
    gas.push({ call: 'approveMeasurement', gasUsed: reapproved.gasUsed, note: 're-approval after revoke (warm slot)' });

    const report = {
      machine: machineInfo(),
      chain: { node: 'anvil 1.7.1 (loopback HTTP)', devChainStartMs: round(startMs, 1), solc: '0.8.37, optimizer 200 runs, evm cancun' },
      gas: gas.map((g) => ({ ...g, gasUsed: Number(g.gasUsed) })),
      reads: {
        isAttested: { ...isAttestedLatency, gasAsTransaction: Number(isAttestedCallGas) },
        checkOnchainAttestation: { ...checkLatency, rpcCalls: 4 },
      },
    };
    const md = [
      '# Chain bench: VeilRegistry on anvil',
      '',
      `Machine: ${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}, ${report.machine.date}. Dev chain (anvil start + registry deploy) ready in ${report.chain.devChainStartMs} ms.`,
      '',
      '## Gas per call (receipt gasUsed, includes the 21,000 base)',
      '',
      markdownTable(report.gas.map((g) => ({ call: g.call, gasUsed: g.gasUsed.toLocaleString('en-US'), note: g.note }))),
      '',
      `## Read latency (${READ_SAMPLES} sequential calls after warm-up, loopback HTTP)`,
      '',
      markdownTable([
        { read: 'isAttested', calls: '1 eth_call', p50Ms: isAttestedLatency.p50Ms, p95Ms: isAttestedLatency.p95Ms, meanMs: isAttestedLatency.meanMs },
        {
          read: 'checkOnchainAttestation',
          calls: 'getBlock + 3 eth_call',
          p50Ms: checkLatency.p50Ms,
          p95Ms: checkLatency.p95Ms,
          meanMs: checkLatency.meanMs,
        },
      ]),
      '',
      `isAttested executed as a transaction would cost ${Number(isAttestedCallGas).toLocaleString('en-US')} gas (free as eth_call).`,
    ].join('\n');
    writeBenchReport('chain', report, md);
  } finally {
    await dev.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

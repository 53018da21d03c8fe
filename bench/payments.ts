/**
 * Payments benchmark (issue #11 §5), in one run against a real anvil on loopback:
 *  1. voucher verification (libsecp256k1 recovery + EIP-712 hashing) and the gate's admit + commit on the SQLite ledger, µs;
 *  2. paid vs unpaid FHE predictions over HTTP on the same calls: two gateways (payments off / on), rounds alternating
 *     in a random order, sequential p50 and 8-in-flight throughput. Vouchers are signed before the timed call (a client
 *     signs while its previous call runs); their cost is reported on its own;
 *  3. settlement: 10,000 paid calls over 10 channels, claimed by the settlement worker; the claim's gas per channel and
 *     calls per claim, and the on-chain cost of the 10,000 calls next to x402 `exact` (one transferWithAuthorization per
 *     call, 61k–90k gas on Base, from ../shared/research/payments-gateway-anchors.md §0; not measured here).
 *
 *   node bin/run-ts.cjs bench/payments.ts [sequential calls per arm per round = 40] [rounds = 5]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { erc20Abi, type Address } from 'viem';
import {
  claimVouchers, connectChain, DEV_ACCOUNTS, getChannel,
  type ChainConnection,
} from '../chain';
import { connectFheModel, createHttpFheClient, type FheModelClient } from '../client';
import { createGateway, createLogger, loadConfig, type Gateway } from '../gateway';
import { loadDataset } from '../models';
import {
  createPaymentGate, createSettlementWorker, encodeX402, openSqliteLedger, verifyVoucher, X402_VERSION, type PaidAdmission,
} from '../payments';
import { openTestChannel } from '../test/support/paid-channel';
import { renderPaymentsChart } from './render-payments-chart';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';

const CALLS = Number(process.argv[2] ?? 40);

const ROUNDS = Number(process.argv[3] ?? 5);
const CONCURRENCY = 8;
const SETTLE_CALLS = 10_000;
const SETTLE_CHANNELS = 10;
const X402_EXACT_GAS = { low: 61_000, high: 90_000 };

type Wallet = ChainConnection & { walletClient: NonNullable<ChainConnection['walletClient']> };

const channelFor = (payer: Wallet, chainId: number, contract: Address, token: Address, receiver: Address, deposit: bigint) =>
  openTestChannel({ payer, chainId, contract, token, receiver, amount: deposit }).then((c) => ({ ...c, sign: (max: bigint) => c.payment(max) }));

const timeUs = async (n: number, fn: (i: number) => Promise<unknown> | unknown) => {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push((performance.now() - t0) * 1000);
  }
  return { p50: round(percentile(samples, 0.5), 1), p90: round(percentile(samples, 0.9), 1) };
};

async function main() {
  const machine = machineInfo();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-pay-bench-'));
  const gateways: Gateway[] = [];
  try {
    // The paid gateway runs the embedded dev chain; the unpaid one none. Both serve the same FHE model and variant.
    const quiet = { logger: createLogger({ level: 'warn', format: 'text' }) };
    const common = { grpc: { port: 0 }, fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 }, tee: { enabled: false } };
    const paidGw = await createGateway(loadConfig({ env: { VEIL_HTTP_PORT: '0' }, overrides: { ...common, dataDir: path.join(dir, 'paid'), chain: { enabled: true }, payments: { enabled: true, claimIntervalSeconds: 7 * 24 * 3600 } } }), quiet);
    gateways.push(paidGw);
    const normalGw = await createGateway(loadConfig({ env: { VEIL_HTTP_PORT: '0' }, overrides: { ...common, dataDir: path.join(dir, 'normal'), chain: { enabled: true }, payments: { enabled: true, claimIntervalSeconds: 7 * 24 * 3600, sqliteSynchronous: 'normal' } } }), quiet);
    gateways.push(normalGw);
    const freeGw = await createGateway(loadConfig({ env: { VEIL_HTTP_PORT: '0' }, overrides: { ...common, dataDir: path.join(dir, 'free'), chain: { enabled: false } } }), quiet);
    gateways.push(freeGw);
    const registry = paidGw.trust!.info();
    const pricing = (await (await fetch(`${paidGw.httpUrl}/v1/pricing`)).json()) as { contract: Address; token: Address; receiver: Address; network: string };
    const payer = (await connectChain({ rpcUrl: registry.rpcUrl, registryAddress: registry.registryAddress, privateKey: DEV_ACCOUNTS[1].privateKey, pollingInterval: 20, retryCount: 0 })) as Wallet;
    const chainId = registry.chainId;

    // 1. Voucher verification and the gate on a SQLite ledger of its own (no HTTP, no FHE).
    const micro = await channelFor(payer, chainId, pricing.contract, pricing.token, pricing.receiver, 10n ** 9n);
    const payment = await micro.sign(5_000n);
    const verifyArgs = { chainId, contractAddress: pricing.contract, payment, receiver: pricing.receiver, token: pricing.token, minWithdrawDelay: 900 };
    for (let i = 0; i < 200; i++) verifyVoucher(verifyArgs);
    const verify = await timeUs(2_000, () => verifyVoucher(verifyArgs));
    const signing = await timeUs(300, (i) => micro.sign(BigInt(i + 1)));
    const chainState = { ...(await getChannel(payer.publicClient, { contractAddress: pricing.contract, channelId: micro.id })), block: await payer.publicClient.getBlockNumber() };
    const ceiling = 1_100n;
    const headers: string[] = [];
    for (let i = 0; i < 2_400; i++) headers.push(await micro.header(BigInt(i + 1) * ceiling));
    // One channel, one voucher sequence, two ledgers in turn: the chain state is cached, so this is verify + ledger.
    const admitCommit: Record<'full' | 'normal', { p50: number; p90: number }> = {} as never;
    for (const synchronous of ['full', 'normal'] as const) {
      const ledger = await openSqliteLedger({ file: path.join(dir, `micro-${synchronous}.sqlite`), synchronous });
      const gate = createPaymentGate({
        ledger, deployment: { chainId, contractAddress: pricing.contract }, receiver: pricing.receiver, token: pricing.token, minWithdrawDelaySeconds: 900,
        chainCacheMs: 3_600_000, readChannel: async () => chainState,
      });
      let own = 0;
      admitCommit[synchronous] = await timeUs(1_200, async (i) => {
        // Each ledger has seen only its own calls: its voucher sequence restarts.
        const a = (await gate.admit({ requestId: `micro-${i}`, resource: 'fhe:breast-cancer-lr', ceiling, header: headers[own++]! })) as PaidAdmission;
        await a.commit(ceiling);
      });
      await ledger.close();
    }

    // 2. Paid vs unpaid FHE predictions over HTTP.
    const sample = [loadDataset('breast-cancer').test.features[0]!];
    // Each paid gateway runs its own embedded chain: the arm opens its channel there.
    const paidArm = async (name: string, gw: Gateway) => {
      const reg = gw.trust!.info();
      const price = (await (await fetch(`${gw.httpUrl}/v1/pricing`)).json()) as typeof pricing;
      const who = (await connectChain({ rpcUrl: reg.rpcUrl, registryAddress: reg.registryAddress, privateKey: DEV_ACCOUNTS[1].privateKey, pollingInterval: 20, retryCount: 0 })) as Wallet;
      const ch = await channelFor(who, reg.chainId, price.contract, price.token, price.receiver, 10n ** 9n);
      let sent = 0n;
      const queue: string[] = [];
      // The i-th paid request's voucher covers i calls plus the CONCURRENCY others that may be in flight and admitted
      // before it (requests on different connections arrive in any order), as a payer with calls in flight signs.
      const refill = async (n: number) => {
        while (queue.length < n) queue.push(await ch.header((++sent + BigInt(CONCURRENCY)) * ceiling));
      };
      const paidFetch: typeof fetch = async (input, init) => {
        if (!String(input).endsWith('/predict')) return fetch(input, init);
        const headersOut = new Headers(init?.headers);
        headersOut.set('payment-signature', queue.shift()!);
        return fetch(input, { ...init, headers: headersOut });
      };
      return { name, model: await connectFheModel({ client: createHttpFheClient({ baseUrl: gw.httpUrl!, fetch: paidFetch }), modelId: 'breast-cancer-lr', variant: 'blocks' }), before: refill };
    };
    const arms: { name: string; model: FheModelClient; before(n: number): Promise<void> }[] = [
      { name: 'unpaid', model: await connectFheModel({ client: createHttpFheClient({ baseUrl: freeGw.httpUrl! }), modelId: 'breast-cancer-lr', variant: 'blocks' }), before: async () => undefined },
      await paidArm('paid · full', paidGw),
      await paidArm('paid · normal', normalGw),
    ];
    const latency = new Map(arms.map((a) => [a.name, [] as number[]]));
    const throughput = new Map(arms.map((a) => [a.name, [] as number[]]));
    for (const arm of arms) {
      await arm.before(10);
      for (let i = 0; i < 10; i++) await arm.model.predict(sample); // warm-up
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const arm of [...arms].sort(() => Math.random() - 0.5)) {
        await arm.before(CALLS + CALLS * 2);
        for (let i = 0; i < CALLS; i++) {
          const t0 = performance.now();
          await arm.model.predict(sample);
          latency.get(arm.name)!.push(performance.now() - t0);
        }
        // 8 in flight on one channel: each paid call's voucher covers everything charged and in flight before it.
        const t0 = performance.now();
        let left = CALLS * 2;
        await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
          while (left-- > 0) await arm.model.predict(sample);
        }));
        throughput.get(arm.name)!.push((CALLS * 2) / ((performance.now() - t0) / 1000));
      }
    }
    const unpaidP50 = percentile(latency.get('unpaid')!, 0.5);
    const unpaidTput = percentile(throughput.get('unpaid')!, 0.5);
    const callRows = arms.map((a) => ({
      arm: a.name,
      'p50 ms': round(percentile(latency.get(a.name)!, 0.5), 3),
      'p90 ms': round(percentile(latency.get(a.name)!, 0.9), 3),
      [`calls/s (${CONCURRENCY} in flight, median round)`]: round(percentile(throughput.get(a.name)!, 0.5), 1),
      'added p50 ms': round(percentile(latency.get(a.name)!, 0.5) - unpaidP50, 3),
      'throughput ÷ unpaid': round(percentile(throughput.get(a.name)!, 0.5) / unpaidTput, 3),
    }));
    for (const a of arms) await a.model.close();

    // 3. Settlement of 10,000 calls over 10 channels in one claim transaction.
    const settleLedger = await openSqliteLedger({ file: path.join(dir, 'settle.sqlite') });
    const settleChannels = [];
    for (let i = 0; i < SETTLE_CHANNELS; i++) settleChannels.push(await channelFor(payer, chainId, pricing.contract, pricing.token, pricing.receiver, 10n ** 8n));
    const states = new Map<string, Awaited<ReturnType<typeof getChannel>> & { block: bigint }>();
    for (const c of settleChannels) states.set(c.id, { ...(await getChannel(payer.publicClient, { contractAddress: pricing.contract, channelId: c.id })), block: await payer.publicClient.getBlockNumber() });
    const settleGate = createPaymentGate({
      ledger: settleLedger, deployment: { chainId, contractAddress: pricing.contract }, receiver: pricing.receiver, token: pricing.token, minWithdrawDelaySeconds: 900,
      chainCacheMs: 3_600_000, readChannel: async (id) => states.get(id)!,
    });
    const perChannel = SETTLE_CALLS / SETTLE_CHANNELS;
    const settleStarted = performance.now();
    for (const c of settleChannels) {
      // The last voucher of each channel covers all its calls (a payer signs each call's; we keep the last one's cost out).
      const header = await c.header(BigInt(perChannel) * ceiling);
      for (let i = 0; i < perChannel; i++) {
        const a = (await settleGate.admit({ requestId: `${c.id}-${i}`, resource: 'fhe:breast-cancer-lr', ceiling, header })) as PaidAdmission;
        await a.commit(BigInt(700 + (i % 400)));
      }
    }
    const chargeSeconds = (performance.now() - settleStarted) / 1000;
    const receiverWallet = (await connectChain({ rpcUrl: registry.rpcUrl, registryAddress: registry.registryAddress, privateKey: DEV_ACCOUNTS[2].privateKey, pollingInterval: 20, retryCount: 0 })) as Wallet;
    const balanceBefore = await payer.publicClient.readContract({ address: pricing.token, abi: erc20Abi, functionName: 'balanceOf', args: [pricing.receiver] });
    let gasUsed = 0n;
    const worker = createSettlementWorker({
      ledger: settleLedger, thresholdAmount: 1n, intervalMs: 7 * 24 * 3_600_000,
      claim: async (claims, onSent) => {
        gasUsed += (await claimVouchers(receiverWallet.walletClient, receiverWallet.publicClient, { contractAddress: pricing.contract, claims, onSent })).gasUsed;
      },
      receiptOf: async () => 'unknown',
    });
    const settled = await worker.run('all');
    await worker.stop();
    const totals = await settleLedger.totals();
    const paidOut = (await payer.publicClient.readContract({ address: pricing.token, abi: erc20Abi, functionName: 'balanceOf', args: [pricing.receiver] })) - balanceBefore;
    if (paidOut !== totals.charged || settled.amount !== totals.charged) throw new Error(`settlement mismatch: paid out ${paidOut}, ledger charged ${totals.charged}`);
    await settleLedger.close();
    const deposits = 116_000 * SETTLE_CHANNELS; // bench/results/payment-channels.md: a first deposit (approve path) ≈ 116k gas
    const settleRows = [
      { what: `Veil: ${SETTLE_CALLS.toLocaleString('en')} calls, ${SETTLE_CHANNELS} channels, 1 claim`, 'claim gas': Number(gasUsed), 'gas per channel': round(Number(gasUsed) / SETTLE_CHANNELS, 0), 'calls per claim': SETTLE_CALLS, 'gas per call (claim only)': round(Number(gasUsed) / SETTLE_CALLS, 1), 'gas per call (with deposits)': round((Number(gasUsed) + deposits) / SETTLE_CALLS, 1) },
      { what: `x402 exact: ${SETTLE_CALLS.toLocaleString('en')} transfers (cited)`, 'claim gas': `${(X402_EXACT_GAS.low * SETTLE_CALLS).toLocaleString('en')}–${(X402_EXACT_GAS.high * SETTLE_CALLS).toLocaleString('en')}`, 'gas per channel': '—', 'calls per claim': 1, 'gas per call (claim only)': `${X402_EXACT_GAS.low.toLocaleString('en')}–${X402_EXACT_GAS.high.toLocaleString('en')}`, 'gas per call (with deposits)': '—' },
    ];

    const microRows = [
      { operation: 'verifyVoucher (EIP-712 hash + libsecp256k1 recover, low-S, binding)', 'p50 µs': verify.p50, 'p90 µs': verify.p90 },
      { operation: 'gate admit + commit (verify, chain state cached, SQLite reserve + commit, synchronous=FULL)', 'p50 µs': admitCommit.full.p50, 'p90 µs': admitCommit.full.p90 },
      { operation: 'gate admit + commit (same, synchronous=NORMAL)', 'p50 µs': admitCommit.normal.p50, 'p90 µs': admitCommit.normal.p90 },
      { operation: 'client: sign one voucher (viem signTypedData, pure JS)', 'p50 µs': signing.p50, 'p90 µs': signing.p90 },
    ];
    const targets = callRows.slice(1).flatMap((row) => [
      { arm: row.arm, target: 'paid ÷ unpaid throughput ≥ 0.95', measured: row['throughput ÷ unpaid'], met: (row['throughput ÷ unpaid'] as number) >= 0.95 ? 'met' : 'NOT met' },
      { arm: row.arm, target: 'added p50 ≤ 0.2 ms', measured: row['added p50 ms'], met: (row['added p50 ms'] as number) <= 0.2 ? 'met' : 'NOT met' },
    ]);
    const md = [
      '# Payments: voucher verification, paid vs unpaid calls, settlement gas',
      '',
      `Machine: ${machine.cpu}, ${machine.cores} cores (shared with other jobs), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.date}. Load average ${os.loadavg().map((x) => round(x)).join(' / ')}.`,
      '',
      'Real anvil on loopback (the embedded dev chain), SQLite ledgers under a temp dir. Client, gateways and chain share the machine.',
      '',
      '## Hot path',
      '',
      markdownTable(microRows),
      '',
      `## Paid vs unpaid: breast-cancer-lr FHE predictions over HTTP, 1 sample, blocks variant (${ROUNDS} rounds × ${CALLS} sequential + ${CALLS * 2} with ${CONCURRENCY} in flight per arm)`,
      '',
      'Three gateways in this process: payments off; on with the SQLite ledger at `payments.sqliteSynchronous=full` (the default: every charge fsynced before its answer); on with `normal` (survives a gateway crash, not a power loss). Each paid gateway runs its own embedded chain. Every round runs the arms in a random order. A paid call\'s voucher is signed before the call is timed (a client signs the next while its previous call runs).',
      '',
      markdownTable(callRows),
      '',
      markdownTable(targets),
      '',
      `## Settlement: ${SETTLE_CALLS.toLocaleString('en')} calls charged through the gate (${round(chargeSeconds, 1)} s, ${round(SETTLE_CALLS / chargeSeconds, 0)} calls/s sequential), claimed by the settlement worker`,
      '',
      `Paid out on chain: ${paidOut} atomic units = the ledger's charged total (checked).`,
      '',
      markdownTable(settleRows),
    ].join('\n');
    const json = { machine, calls: CALLS, rounds: ROUNDS, micro: microRows, paidVsUnpaid: callRows, targets, settlement: settleRows, paidOut: paidOut.toString() };
    writeBenchReport('payments', json, md);
    renderPaymentsChart({ paidVsUnpaid: callRows, veilGasPerCall: Number(gasUsed) / SETTLE_CALLS, veilGasPerCallWithDeposits: (Number(gasUsed) + deposits) / SETTLE_CALLS, x402: X402_EXACT_GAS });
  } finally {
    for (const g of gateways) await g.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});


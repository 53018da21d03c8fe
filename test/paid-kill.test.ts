/**
 * kill -9 of a paying gateway (issue #11 §5): `veil serve` with payments on (SQLite ledger, a real anvil the test
 * owns) serves paid FHE predictions, each under its own Idempotency-Key; the gateway is killed with SIGKILL in the
 * middle of the load and started again on the same data dir; the client retries the call that was cut with the same
 * key and voucher and goes on. Afterwards: the ledger holds exactly one receipt per call served and charges exactly
 * those calls, and the settlement claim pays the receiver exactly the ledger's total.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { erc20Abi } from 'viem';
import { childProcessEnv, claimVouchers, DEV_ACCOUNTS, getChannel } from '../chain';
import { connectFheModel, createHttpFheClient } from '../client';
import { loadDataset } from '../models';
import { openSqliteLedger } from '../payments';
import { childExit, hasExited } from './support/child-exit';
import { connectDevWallet, openTestChannel, startPaymentsChain, type PaymentsChain } from './support/paid-channel';

const CALLS = 24;
const KILL_AT = 10;
const CEILING = 1_100n; // breast-cancer-lr: perCall 100 + 1 group × 1,000

let chain: PaymentsChain;
const children: ChildProcess[] = [];

beforeAll(async () => {
  chain = await startPaymentsChain();
}, 120_000);
afterAll(async () => {
  for (const c of children) if (!hasExited(c)) c.kill('SIGKILL');
  await chain?.stop();
});

/** `veil serve` on the test's chain (not the embedded one: the chain must outlive the gateway's SIGKILL). */
function serve(): Promise<{ child: ChildProcess; httpUrl: string }> {
  const { dev, contract, token, receiver, dir } = chain;
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'veil.cjs'), 'serve'], {
    env: childProcessEnv({
      extra: {
        VEIL_DATA_DIR: path.join(dir, 'gateway'), VEIL_GRPC_HOST: '127.0.0.1', VEIL_GRPC_PORT: '0', VEIL_HTTP_PORT: '0', VEIL_LOG_LEVEL: 'warn',
        VEIL_TEE_ENABLED: 'false', VEIL_FHE_MODELS: 'breast-cancer-lr', VEIL_FHE_VARIANTS: 'blocks', VEIL_FHE_WORKERS: '1',
        VEIL_CHAIN_RPC_URL: dev.rpcUrl, VEIL_CHAIN_REGISTRY_ADDRESS: dev.registryAddress, VEIL_CHAIN_PRIVATE_KEY: DEV_ACCOUNTS[0].privateKey,
        VEIL_PAYMENTS_ENABLED: 'true', VEIL_PAYMENTS_CONTRACT_ADDRESS: contract, VEIL_PAYMENTS_TOKEN_ADDRESS: token, VEIL_PAYMENTS_RECEIVER: receiver,
        // Settlement is the test's to trigger after the load: the gateway does not claim on its own here.
        VEIL_PAYMENTS_SETTLEMENT_KEY_FILE: 'none',
      },
    }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('veil serve did not start in 120 s')), 120_000);
    child.once('exit', (code) => reject(new Error(`veil serve exited (${code}) before listening`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const http = /HTTP API on (\S+)/.exec(out);
      if (http && /^try: /m.test(out)) {
        clearTimeout(timer);
        resolve({ child, httpUrl: http[1]! });
      }
    });
  });
}

test('SIGKILL mid-load, restart, retry under the same keys: ledger charges = calls served, on-chain claim = ledger', async () => {
  const { contract, token, receiver, payer } = chain;
  const ch = await openTestChannel({ payer, chainId: chain.dev.chainId, contract, token, receiver, amount: 10n ** 8n });
  const id = ch.id;
  const header = ch.header;
  // Call i pays under key i with a voucher for i + 1 ceilings: a retry of call i sends exactly what it sent before.
  let current = { key: '', signature: '' };
  const paying: typeof fetch = async (input, init) => {
    if (!String(input).endsWith('/predict')) return fetch(input, init);
    const headers = new Headers(init?.headers);
    headers.set('payment-signature', current.signature);
    headers.set('idempotency-key', current.key);
    return fetch(input, { ...init, headers });
  };
  const sample = [loadDataset('breast-cancer').test.features[2]!];
  const connect = async (url: string) => connectFheModel({ client: createHttpFheClient({ baseUrl: url, fetch: paying }), modelId: 'breast-cancer-lr', variant: 'blocks' });

  let gateway = await serve();
  let model = await connect(gateway.httpUrl);
  let served = 0;
  let cut = 0;
  for (let i = 0; i < CALLS; i++) {
    current = { key: `kill-test-${i}`, signature: await header(BigInt(i + 1) * CEILING) };
    const call = model.predict(sample);
    if (i === KILL_AT) gateway.child.kill('SIGKILL'); // while call i is in flight (or just answered)
    try {
      await call;
    } catch {
      cut++;
      // The gateway is gone: start it again on the same data dir, open a new FHE session, retry the same call.
      await childExit(gateway.child);
      gateway = await serve();
      model = await connect(gateway.httpUrl);
      await model.predict(sample);
    }
    served++;
  }
  await model.close();
  gateway.child.kill('SIGTERM');
  await childExit(gateway.child);
  expect(served).toBe(CALLS);
  expect(cut).toBe(1); // the kill did cut a call (its retry is one of the calls served)

  const ledger = await openSqliteLedger({ file: path.join(chain.dir, 'gateway', 'payments.sqlite') });
  try {
    const totals = await ledger.totals();
    expect(totals.receipts).toBe(CALLS);
    expect(totals.charged).toBe(BigInt(CALLS) * CEILING);
    expect(totals.reserved).toBe(0n);
    expect((await ledger.channel(id))!.charged).toBe(BigInt(CALLS) * CEILING);

    // Settle what the ledger charged: the chain pays exactly that.
    const receiverWallet = await connectDevWallet(chain.dev, 2);
    const before = await payer.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [receiver] });
    const due = await ledger.claimable(10);
    expect(due).toHaveLength(1);
    await claimVouchers(receiverWallet.walletClient, receiverWallet.publicClient, {
      contractAddress: contract,
      claims: due.map((c) => ({ config: c.config, voucher: { channelId: c.channelId as `0x${string}`, maxClaimableAmount: c.signedMax, signature: c.signature as `0x${string}` }, totalClaimed: c.amount })),
    });
    const paid = (await payer.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [receiver] })) - before;
    expect(paid).toBe(totals.charged);
    expect((await getChannel(payer.publicClient, { contractAddress: contract, channelId: id })).claimed).toBe(totals.charged);
  } finally {
    await ledger.close();
  }
}, 300_000);

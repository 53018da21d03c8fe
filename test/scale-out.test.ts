/**
 * Issue #12 §2, scale-out on one machine, every part its own process: two `veil serve` gateways on one PostgreSQL
 * ledger (each in its own network namespace joined by veth where `ip netns` works, else on loopback — said loudly),
 * two `veil worker` TEE nodes, anvil with the payment contracts, and nginx (deploy/nginx/veil.conf itself) in front
 * of the gateways' HTTP ports. Paid load from the SDK (gRPC, round robin over both gateways, FHE predictions) and from
 * the official `openai` client (through `veil proxy`, paying, → nginx → either gateway → a worker). One gateway is
 * SIGKILLed mid-run. Every call must end served — by the SDK's own failover, or by the test retrying a clear
 * retriable error under the same idempotency key — and the ledger must hold exactly one receipt per served call,
 * adding up to what the payers were told (no call lost, none charged twice); the surviving gateway keeps serving.
 */
import OpenAI from 'openai';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { startGatewayProcess, type GatewayProcess } from '../bench/start-gateway-process';
import { connectChain, DEV_ACCOUNTS, getChannel } from '../chain';
import {
  connectFheModel, createChannelPayer, createSessionKey, createVeilClient, payingInterceptor, startVeilProxy,
  type ChannelPayer, type FheModelClient, type SettledCall, type VeilClient, type VeilProxy,
} from '../client';
import { loadDataset } from '../models';
import { openPostgresLedger } from '../payments';
import { createReplicaNetwork, type ReplicaNetwork } from './support/create-replica-network';
import { forwardTcp, type TcpForward } from './support/forward-tcp';
import { startPaymentsChain, type PaymentsChain } from './support/paid-channel';
import { findNginx, startNginx, type StartedNginx } from './support/start-nginx';
import { findPostgresBin, startPostgres, type StartedPostgres } from './support/start-postgres';
import { startVeilWorker, type VeilWorkerProcess } from './support/start-veil-worker';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 } as const;
const CHAT = 'toy-chat-kjv';
const FHE_CALLS = 36;
const CHAT_CALLS = 16;
/** Errors that say "not served, send it again" — after a replica went away, or while its reservation is still held. */
const RETRIABLE = new Set(['http_connection', 'unavailable', 'payment_in_progress', 'session_not_found', 'tee_node_unavailable', 'http_502', 'http_503', 'upstream_unavailable']);

const pgBin = findPostgresBin();
const nginxBin = findNginx();

if (!pgBin || !nginxBin) {
  console.warn(`scale-out: SKIPPED, ${!pgBin ? 'PostgreSQL server binaries' : 'nginx'} not found (apt-get install ${!pgBin ? 'postgresql' : 'nginx-light'})`);
  test.skip('scale-out across two gateway processes (binaries not found)', () => {});
} else {
  let net: ReplicaNetwork;
  let pg: StartedPostgres;
  let chain: PaymentsChain;
  const forwards: TcpForward[] = [];
  const workers: VeilWorkerProcess[] = [];
  const gateways: GatewayProcess[] = [];
  let nginx: StartedNginx;
  /** What the test opened, closed in afterAll even when an assertion failed midway. */
  const opened: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    net = createReplicaNetwork(2);
    if (net.mode === 'loopback') console.warn(`scale-out: NO NETWORK NAMESPACES (${net.reason}); gateways, workers and clients all talk over loopback`);
    [pg, chain] = await Promise.all([startPostgres({ bin: pgBin }), startPaymentsChain()]);
    // PostgreSQL and anvil listen on loopback only; the gateways' namespaces reach them through the hub address.
    const [pgForward, chainForward] = await Promise.all([forwardTcp(net.hub, pg.port), forwardTcp(net.hub, Number(new URL(chain.dev.rpcUrl).port))]);
    forwards.push(pgForward, chainForward);
    workers.push(...await Promise.all([0, 1].map(() => startVeilWorker(['--host', net.hub, '--threads', '1', '--models', 'breast-cancer-lr', '--language-models', CHAT, '--language-host', 'in-process']))));
    const env = (i: number): Record<string, string> => ({
      VEIL_GRPC_HOST: net.bind[i]!, VEIL_HTTP_HOST: net.bind[i]!, VEIL_HTTP_PORT: '0', VEIL_LOG_LEVEL: 'error',
      VEIL_FHE_MODELS: 'breast-cancer-lr', VEIL_FHE_VARIANTS: 'blocks', VEIL_FHE_WORKERS: '1',
      // The same nodes in the same order on every replica: node ids (remote-1, remote-2) mean the same node everywhere,
      // so what veil proxy attested through one replica it can reach through the other.
      VEIL_TEE_LOCAL: 'false', VEIL_TEE_NODES: workers.map((w) => w.address).join(','), VEIL_TEE_SIMULATED_KEYS: workers.map((w) => w.simulatedKey).join(','),
      VEIL_TEE_HEALTH_CHECK_SECONDS: '1',
      VEIL_CHAIN_ENABLED: 'true', VEIL_CHAIN_RPC_URL: `http://${chainForward.host}:${chainForward.port}`, VEIL_CHAIN_REGISTRY_ADDRESS: chain.dev.registryAddress,
      // The trust registry on a configured chain takes its operator key from the environment (never the config).
      VEIL_CHAIN_PRIVATE_KEY: DEV_ACCOUNTS[0].privateKey,
      VEIL_PAYMENTS_ENABLED: 'true', VEIL_PAYMENTS_LEDGER: 'postgres', VEIL_PAYMENTS_POSTGRES_URL: `postgres://postgres@${pgForward.host}:${pgForward.port}/postgres`,
      VEIL_PAYMENTS_CONTRACT_ADDRESS: chain.contract, VEIL_PAYMENTS_TOKEN_ADDRESS: chain.token, VEIL_PAYMENTS_RECEIVER: chain.receiver,
      VEIL_PAYMENTS_SETTLEMENT_KEY_FILE: 'none',
      // A call cut by the kill holds its reservation until its lease lapses (no renewals from a dead replica); its retry
      // (same key) waits that out as payment_in_progress. Shorter than the 15 s default to keep the test short.
      VEIL_PAYMENTS_RESERVATION_LEASE_SECONDS: '5',
      // The replica that survives also settles (the receiver's key, dev account 2): every charge is claimed on chain
      // as soon as the chain watcher next looks, so the test can check the chain against the ledger.
      ...(i === 1 ? { VEIL_PAYMENTS_SETTLEMENT_PRIVATE_KEY: DEV_ACCOUNTS[2].privateKey, VEIL_PAYMENTS_CLAIM_THRESHOLD: '1', VEIL_PAYMENTS_WATCH_INTERVAL_SECONDS: '1' } : {}),
    });
    gateways.push(...await Promise.all([0, 1].map((i) => startGatewayProcess(env(i), { prefix: net.prefix(i) }))));
    nginx = await startNginx(gateways.map((g) => new URL(g.httpUrl!).host), nginxBin);
  }, 240_000);

  afterAll(async () => {
    for (const close of opened.reverse()) await Promise.resolve(close()).catch(() => undefined);
    await nginx?.stop();
    for (const g of gateways) await g.stop().catch(() => undefined);
    for (const w of workers) w.child.kill('SIGKILL');
    for (const f of forwards) await f.close();
    await chain?.stop();
    await pg?.stop();
    net?.close();
  }, 60_000);

  const payerFor = async (account: 1) => {
    const wallet = await connectChain({ rpcUrl: chain.dev.rpcUrl, registryAddress: chain.dev.registryAddress, privateKey: DEV_ACCOUNTS[account].privateKey, pollingInterval: 50, retryCount: 0 });
    return createChannelPayer({
      publicClient: wallet.publicClient, walletClient: wallet.walletClient!, sessionKey: createSessionKey(),
      contractAddress: chain.contract, receiver: chain.receiver, token: chain.token, withdrawDelay: 3600, deposit: 2_000_000n,
    });
  };

  /** One logical call: sent until served, retried (same idempotency key) only on errors that say it was not served. */
  const untilServed = async (surface: string, send: (attempt: number) => Promise<void>, log: string[]) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send(attempt);
      } catch (err) {
        const code = codeOf(err);
        log.push(`${surface} ${code}`);
        if (!RETRIABLE.has(code) || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 2_000)));
      }
    }
  };

  test('one gateway SIGKILLed under paid SDK and openai load: every call served, each charged exactly once, the other carries on', async () => {
    const fhePayer = await payerFor(1);
    const fheReceipts: SettledCall[] = [];
    const client: VeilClient = createVeilClient({
      targets: gateways.map((g) => g.address), interceptors: [payingInterceptor(fhePayer, { onSettled: (r) => fheReceipts.push(r) })],
    });
    opened.push(() => client.close());
    // Two models on one client: CreateSession takes the replicas in turn, so one session lives on each gateway.
    const models: FheModelClient[] = [];
    for (let i = 0; i < 2; i++) models.push(await connectFheModel({ client, modelId: 'breast-cancer-lr', variant: 'blocks', deadlineMs: 60_000 }));
    opened.push(async () => {
      for (const m of models) await m.close().catch(() => undefined);
    });
    const sample = [loadDataset('breast-cancer').test.features[3]!];
    await models[0]!.predict(sample); // the channel's deposit, once, before the load

    const chatPayer: ChannelPayer = await payerFor(1);
    const chatReceipts: SettledCall[] = [];
    const proxy: VeilProxy = await startVeilProxy({
      gateway: nginx.url, policy: POLICY, allowSimulated: true, roots: { simulated: workers.map((w) => Buffer.from(w.simulatedKey, 'hex')) }, host: '127.0.0.1', port: 0,
      payer: chatPayer, payment: { onSettled: (r) => chatReceipts.push(r) },
    });
    opened.push(() => proxy.close());
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused-by-veil', maxRetries: 0 });
    const chat = (key: string) => openai.chat.completions.create(
      { model: CHAT, messages: [{ role: 'user', content: 'And God said' }], temperature: 0, max_tokens: 6 }, { headers: { 'Idempotency-Key': key } },
    );
    await chat('warm-up');

    const errors: string[] = [];
    let fheDone = 0;
    let killedAt = -1;
    const started = Date.now();
    const fheLoad = Promise.all(Array.from({ length: 4 }, async (_, lane) => {
      for (let n = lane; n < FHE_CALLS; n += 4) {
        const key = `fhe-${n}`;
        await untilServed('fhe', async () => {
          const { outputs } = await models[n % 2]!.predict(sample, { idempotencyKey: key });
          expect(typeof outputs[0]).not.toBe('undefined');
        }, errors);
        // A third of the way in, gateway 0 dies without a chance to drain anything.
        if (++fheDone === Math.floor(FHE_CALLS / 3)) {
          killedAt = Date.now() - started;
          process.kill(gateways[0]!.pid, 'SIGKILL');
        }
      }
    }));
    const chatLoad = Promise.all(Array.from({ length: 2 }, async (_, lane) => {
      for (let n = lane; n < CHAT_CALLS; n += 2) {
        await untilServed('chat', async () => {
          const answer = await chat(`chat-${n}`);
          expect(answer.choices[0]!.message.content!.length).toBeGreaterThan(0);
        }, errors);
      }
    }));
    await Promise.all([fheLoad, chatLoad]);
    const loadMs = Date.now() - started;

    // The survivor keeps serving both surfaces.
    expect((await client.listModels()).models.map((m) => m.id)).toContain('breast-cancer-lr');
    await models[1]!.predict(sample, { idempotencyKey: 'after' });
    await chat('after');
    const served = { fhe: FHE_CALLS + 2, chat: CHAT_CALLS + 2 }; // the load plus the warm-up and the call after

    const ledger = await openPostgresLedger({ connectionString: pg.connectionString });
    try {
      const fheCharged = (await ledger.channel(fhePayer.channelId))!.charged;
      const chatCharged = (await ledger.channel(chatPayer.channelId))!.charged;
      const totals = await ledger.totals();
      console.log(`scale-out (${net.mode}): ${served.fhe} FHE predictions over gRPC and ${served.chat} chat completions through nginx in ${loadMs} ms;`
        + ` gateway 0 SIGKILLed at ${killedAt} ms; retried errors: ${errors.length ? [...new Set(errors)].map((c) => `${c}×${errors.filter((e) => e === c).length}`).join(', ') : 'none'};`
        + ` FHE sessions re-established: ${models.reduce((a, m) => a + m.reestablished, 0)}; ledger: ${totals.receipts} receipts, ${totals.charged} charged`);
      // One receipt per served call: no retry, on either replica, charged a call twice; no served call went unpaid.
      expect(totals.receipts).toBe(served.fhe + served.chat);
      // What the payers were told, receipt by receipt, is what the shared ledger charged their channels.
      expect(fheReceipts).toHaveLength(served.fhe);
      expect(chatReceipts).toHaveLength(served.chat);
      expect(fheCharged).toBe(fheReceipts.reduce((a, r) => a + r.charged, 0n));
      expect(chatCharged).toBe(chatReceipts.reduce((a, r) => a + r.charged, 0n));
      expect(totals.charged).toBe(fheCharged + chatCharged);
      // And the chain: the surviving replica's settlement worker claims exactly what the ledger charged.
      const claimed = async (channelId: `0x${string}`) => (await getChannel(chain.payer.publicClient, { contractAddress: chain.contract, channelId })).claimed;
      const deadline = Date.now() + 30_000;
      let onChain = [0n, 0n];
      while (Date.now() < deadline) {
        onChain = [await claimed(fhePayer.channelId), await claimed(chatPayer.channelId)];
        if (onChain[0] === fheCharged && onChain[1] === chatCharged) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(onChain).toEqual([fheCharged, chatCharged]);
    } finally {
      await ledger.close();
    }
    // The session that lived on the killed gateway was opened again on the survivor from the keys the SDK held.
    expect(models[0]!.reestablished).toBeGreaterThanOrEqual(1);
  }, 180_000);
}

function codeOf(err: unknown): string {
  if (err instanceof OpenAI.APIError) return typeof err.code === 'string' ? err.code : `http_${err.status ?? 'connection'}`;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : String(err);
}

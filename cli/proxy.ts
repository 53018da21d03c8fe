/**
 * `veil proxy`: the local OpenAI-compatible endpoint. Any OpenAI client points its baseURL at it; it attests the
 * gateway's TEE nodes itself, seals every request to the attested enclave and checks every answer's receipt.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parsePolicy, type AttestationPolicy } from '../attestation';
import { createHttpTeeTransport, type TeePolicy } from '../client/tee';
import { startVeilProxy, type ProxyAttestation } from '../client/proxy';
import { requireEnclaveOnchain } from '../client/trust';
import { checkPayFlags, connectProxyPayer, type ProxyPayer, type ProxyPayFlags } from './connect-proxy-payer';
import { simulatedTrust, UsageError } from './verify';
import { connectRegistry, OnchainRegistryRefused, OnchainUsageError, pinnedRegistryFlags } from './verify-onchain';

export const summary = 'local OpenAI-compatible endpoint: attests TEE nodes, seals to them, verifies every answer';

const DEFAULT_GATEWAY = 'http://127.0.0.1:8080';
const DEFAULT_PORT = 8787;

const HELP = `usage: veil proxy [--gateway URL] [--host H] [--port P] [--api-key KEY] [--model ID]... [--policy FILE]
                  [--allow-simulated [--simulated-key KEY]... | --accept-self-signed]
                  [--onchain --rpc URL --registry ADDR]
                  [--pay [--max-spend N] [--pay-rpc URL] [--max-per-call N] [--deposit N] [--key-file F] | --no-pay]

Serves the OpenAI API locally (/v1/chat/completions with and without stream, /v1/embeddings, /v1/models) plus
/v1/attestation (what it verified). For each model it fetches the serving node's evidence through the gateway for
its own nonce, verifies it under its own policy, seals the app's request to that enclave's attested key, relays
it, verifies the signed receipt (every stream event, in order, and the stream's signed end) and opens the answer.
The gateway sees model ids, node ids and sizes, never a prompt or a completion.
  --gateway       the gateway's HTTP URL (default ${DEFAULT_GATEWAY})
  --host          address to listen on (default 127.0.0.1; anything else exposes plaintext answers to the network)
  --port          port (default ${DEFAULT_PORT}; 0 picks a free port, printed on start)
  --api-key       the gateway's API key (default: VEIL_API_KEY; prefer the variable, flags show in ps)
  --model         a model to attest before listening (repeatable; default: every chat and embedding model the
                  gateway lists). Start fails if one is refused; other models are attested on first use.
  --policy        attestation policy JSON (attestation/README.md; nonce, report_data binding and the simulated
                  opt-in are set by the proxy); default: debug forbidden, TDX UpToDate/SWHardeningNeeded,
                  evidence at most 300 s old, measurement NOT pinned (pin one for production)
  --allow-simulated  accept SIMULATED nodes (development only: they prove nothing about hardware)
  --simulated-key KEY  pinned SIMULATED verifier key (hex SPKI DER as \`veil serve\`/\`veil worker\` print it, or a
                  PEM/DER file); repeatable. With --allow-simulated and no key, the envelope's own key is accepted
                  (SELF-SIGNED: only the binding to the proxy's nonce is checked)
  --accept-self-signed  accept the envelope's own SIMULATED key explicitly
  --onchain       also require the on-chain registry to list each enclave's signer with an approved, unrevoked,
                  unexpired measurement and its HPKE key (as veil verify --onchain)
  --rpc URL --registry ADDR  the chain and registry for --onchain, pinned from your own records; a development
                  chain (31337/1337) is refused unless --allow-simulated
  Payments: a gateway that charges (issue #11) on a development chain whose URL it publishes (\`npm start\`'s embedded
  anvil) is paid automatically from dev account 1, a PUBLIC key, with a budget of 10 vUSD. Anywhere else, --pay.
  --pay           pay from a fresh payment channel of the paying wallet: every call and stream window paid with a
                  voucher, every receipt checked (an overcharging gateway is refused)
  --max-spend N   the proxy's budget in token atomic units (vUSD: 1000000 = 1 vUSD); past it apps get HTTP 402
                  insufficient_quota and nothing more is signed. Required with --pay except on a development chain
  --pay-rpc URL   the chain the gateway takes payments on (default: the URL it publishes, its embedded chain only)
  --max-per-call N  the highest ceiling one call may ask for
  --deposit N     the channel's first deposit (default: the budget)
  --key-file F    the paying wallet's key (or VEIL_CHAIN_PRIVATE_KEY); on a development chain (31337/1337) the
                  default is dev account 1
  --no-pay        never pay: calls go through unpaid, and apps get the gateway's HTTP 402 where it charges

Point a client at it:  new OpenAI({ baseURL: 'http://127.0.0.1:${DEFAULT_PORT}/v1', apiKey: 'unused' })`;

type Flags = {
  gateway?: string; host?: string; port?: string; 'api-key'?: string; model?: string[]; policy?: string; help?: boolean;
  'allow-simulated'?: boolean; 'simulated-key'?: string[]; 'accept-self-signed'?: boolean; onchain?: boolean; rpc?: string; registry?: string;
} & ProxyPayFlags;

/** The default policy: fresh evidence for the proxy's own nonce, no debug TEEs, TDX TCB current; measurement not pinned. */
const DEFAULT_POLICY: TeePolicy = { measurements: 'any', debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: ['UpToDate', 'SWHardeningNeeded'], maxAgeSeconds: 300 };

export async function run(args: string[]): Promise<number> {
  let v: Flags;
  try {
    ({ values: v } = parseArgs({
      args,
      strict: true,
      options: {
        gateway: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, 'api-key': { type: 'string' },
        model: { type: 'string', multiple: true }, policy: { type: 'string' }, help: { type: 'boolean', short: 'h' },
        'allow-simulated': { type: 'boolean' }, 'simulated-key': { type: 'string', multiple: true }, 'accept-self-signed': { type: 'boolean' },
        onchain: { type: 'boolean' }, rpc: { type: 'string' }, registry: { type: 'string' },
        pay: { type: 'boolean' }, 'pay-rpc': { type: 'string' }, 'max-spend': { type: 'string' }, 'max-per-call': { type: 'string' },
        deposit: { type: 'string' }, 'key-file': { type: 'string' }, 'no-pay': { type: 'boolean' },
      },
    }));
  } catch (err) {
    console.error(`veil proxy: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (v.help) {
    console.log(HELP);
    return 0;
  }

  let settings: Awaited<ReturnType<typeof settingsOf>>;
  try {
    settings = await settingsOf(v);
  } catch (err) {
    if (err instanceof UsageError || err instanceof OnchainUsageError) {
      console.error(`veil proxy: ${err.message}`);
      return 2;
    }
    if (err instanceof OnchainRegistryRefused) {
      console.error(`veil proxy: ${err.message}`);
      return 1;
    }
    console.error(`veil proxy: could not reach the registry: ${(err as Error).message}`);
    return 1;
  }

  let paying: ProxyPayer | undefined;
  try {
    paying = await connectProxyPayer(v, settings.gateway);
  } catch (err) {
    console.error(`veil proxy: cannot pay: ${(err as Error).message}`);
    return err instanceof UsageError ? 2 : 1;
  }
  const transport = createHttpTeeTransport({ baseUrl: settings.gateway, apiKey: settings.apiKey, deadlineMs: 30_000, payer: paying?.payer });
  let models = v.model ?? [];
  if (models.length === 0) {
    try {
      models = (await transport.listModels({ deadlineMs: 10_000 })).filter((m) => m.kind === 'chat' || m.kind === 'embedding').map((m) => m.id);
    } catch (err) {
      console.error(`veil proxy: the gateway at ${settings.gateway} did not list its models: ${describe(err)}`);
      return 1;
    }
  }

  let proxy;
  try {
    proxy = await startVeilProxy({ ...settings, transport, models });
  } catch (err) {
    console.error(`veil proxy: refused to start: ${describe(err)}`);
    return 1;
  }
  console.log(startBanner(proxy.url, settings.gateway, proxy.attestations(), settings.onchain));
  if (paying) console.log(`  paying       ${paying.describe} (channel ${paying.payer.channelId}, opened on first use)`);
  if (!['127.0.0.1', '::1', 'localhost'].includes(settings.host)) {
    console.log(`  WARNING      listening on ${settings.host}: answers leave this machine in plaintext, and anyone who reaches the port uses the gateway key`);
  }

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void proxy.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

async function settingsOf(v: Flags) {
  checkPayFlags(v);
  let port = DEFAULT_PORT;
  if (v.port !== undefined) {
    port = Number(v.port);
    if (!/^\d+$/.test(v.port) || port > 65_535) throw new UsageError(`--port must be an integer from 0 to 65535 (got "${v.port}")`);
  }
  const gateway = v.gateway ?? DEFAULT_GATEWAY;
  try {
    const url = new URL(gateway);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
  } catch {
    throw new UsageError(`--gateway must be an http:// or https:// URL (got "${gateway}")`);
  }
  let policy = DEFAULT_POLICY;
  if (v.policy !== undefined) {
    let text: string;
    try {
      text = readFileSync(v.policy, 'utf8');
    } catch {
      throw new UsageError(`cannot read ${v.policy}`);
    }
    const { nonce: _n, reportDataBinding: _r, simulated: _s, ...rest } = parsePolicy(text) as AttestationPolicy;
    policy = rest;
  }
  const pinned = simulatedTrust(v);
  if (pinned !== undefined && !v['allow-simulated']) throw new UsageError('--simulated-key and --accept-self-signed need --allow-simulated');
  const allowSimulated = v['allow-simulated'] ?? false;
  // --allow-simulated alone: out-of-the-box development use; the banner says SELF-SIGNED.
  const simulated = pinned ?? (allowSimulated ? 'self-signed' : undefined);

  let checkEnclave;
  if (v.onchain) {
    const registry = pinnedRegistryFlags(v.rpc, v.registry);
    if (!registry) throw new UsageError('--onchain needs --rpc URL --registry ADDR (pinned from your own records)');
    const connection = await connectRegistry(registry.rpcUrl, registry.registryAddress, allowSimulated);
    checkEnclave = requireEnclaveOnchain({ publicClient: connection.publicClient, registryAddress: connection.registryAddress });
  } else if (v.rpc !== undefined || v.registry !== undefined) {
    throw new UsageError('--rpc and --registry go with --onchain');
  }
  const host = v.host ?? '127.0.0.1';
  return {
    gateway, host, port, policy, allowSimulated, roots: simulated ? { simulated } : undefined, checkEnclave, onchain: v.onchain ?? false,
    apiKey: v['api-key'] ?? process.env.VEIL_API_KEY,
  };
}

/** What the proxy attested, one block per model; SIMULATED said in capitals, with what it is worth. */
export function startBanner(url: string, gateway: string, attested: readonly ProxyAttestation[], onchain: boolean): string {
  const lines = [`veil proxy listening on ${url} (OpenAI-compatible: baseURL ${url}/v1)`, `  gateway      ${gateway}`];
  if (attested.length === 0) lines.push('  attested     nothing yet (models are attested on first use)');
  for (const a of attested) {
    const platform = a.simulated
      ? `SIMULATED (${a.simulated_key === 'self-signed' ? 'SELF-SIGNED key, ' : 'pinned development key, '}proves nothing about hardware)`
      : a.platform;
    lines.push(
      `  model        ${a.model}`,
      `    node         ${a.node_id || '(direct)'}`,
      `    platform     ${platform}`,
      `    measurement  ${a.measurement}`,
      `    signer       ${a.signing_address}`,
      `    verified at  ${a.verified_at}${onchain ? ' (and on-chain)' : ''}`,
    );
  }
  return lines.join('\n');
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return `${String(e?.message ?? err)}${typeof e?.code === 'string' ? ` (${e.code})` : ''}`;
}

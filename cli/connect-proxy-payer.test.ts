import { DEV_ACCOUNTS } from '../chain';
import { startPaymentsChain, type PaymentsChain } from '../test/support/paid-channel';
import { checkPayFlags, connectProxyPayer } from './connect-proxy-payer';
import { UsageError } from './verify';

/** A fetch that answers GET /v1/pricing with `body` (and records that it was asked). */
function pricingFetch(body: unknown): typeof fetch {
  return (async (url: URL | string) => {
    expect(String(url)).toBe('http://gw.test/v1/pricing');
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

const ADDR = '0x' + '11'.repeat(20);
const charging = (network: string, extra: Record<string, unknown> = {}) => ({ object: 'pricing', enabled: true, network, contract: ADDR, token: ADDR, receiver: ADDR, minWithdrawDelay: 3600, ...extra });

describe('the proxy\'s payer', () => {
  let chain: PaymentsChain;
  beforeAll(async () => {
    chain = await startPaymentsChain();
  });
  afterAll(() => chain.stop());

  test('flags: --pay and --no-pay contradict; amounts are whole numbers; the budget flags need --pay', () => {
    expect(() => checkPayFlags({ pay: true, 'no-pay': true })).toThrow(/contradict/);
    expect(() => checkPayFlags({ 'max-spend': '5' })).toThrow(/--max-spend goes with --pay/);
    expect(() => checkPayFlags({ pay: true, 'max-spend': '-1' })).toThrow(/positive whole number/);
    expect(() => checkPayFlags({ pay: true })).not.toThrow(); // budget and chain may come from the gateway's dev chain
  });

  test('a gateway that does not charge: no payer, and --pay is a usage error', async () => {
    const off = pricingFetch({ object: 'pricing', enabled: false });
    expect(await connectProxyPayer({}, 'http://gw.test', off)).toBeUndefined();
    await expect(connectProxyPayer({ pay: true }, 'http://gw.test', off)).rejects.toThrow(/does not charge.*drop --pay/);
  });

  test('a gateway charging on a real chain: refused without --pay, and --pay needs a budget and a key', async () => {
    const mainnet = pricingFetch(charging('eip155:1'));
    const unpaid = connectProxyPayer({}, 'http://gw.test', mainnet);
    await expect(unpaid).rejects.toBeInstanceOf(UsageError);
    await expect(connectProxyPayer({}, 'http://gw.test', mainnet)).rejects.toThrow(/charges for calls on eip155:1: start with --pay --max-spend N .* or --no-pay/);
    await expect(connectProxyPayer({ pay: true }, 'http://gw.test', mainnet)).rejects.toThrow(/--pay on eip155:1 needs --max-spend N/);
    await expect(connectProxyPayer({ pay: true, 'max-spend': '5' }, 'http://gw.test', mainnet)).rejects.toThrow(/publishes no chain URL.*--pay-rpc URL/);
    await expect(connectProxyPayer({ pay: true, 'max-spend': '5', 'pay-rpc': chain.dev.rpcUrl }, 'http://gw.test', mainnet)).rejects.toThrow(/needs the paying wallet's key.*--key-file/);
    expect(await connectProxyPayer({ 'no-pay': true }, 'http://gw.test', mainnet)).toBeUndefined();
  });

  test('the gateway\'s published dev chain: pays on its own from dev account 1 with the default budget', async () => {
    const dev = pricingFetch(charging('eip155:31337', { contract: chain.contract, token: chain.token, receiver: chain.receiver, rpcUrl: chain.dev.rpcUrl }));
    const paying = await connectProxyPayer({}, 'http://gw.test', dev);
    expect(paying?.describe).toBe(`${DEV_ACCOUNTS[1].address} on eip155:31337 (dev account 1), budget 10000000 — automatic: the gateway charges on a development chain (--no-pay to opt out)`);
    expect(paying?.payer.status()).toMatchObject({ opened: false, network: 'eip155:31337' }); // the channel opens on first use
    // The dev chain, but its URL not published (an operator's chain): the proxy does not guess.
    const unpublished = pricingFetch(charging('eip155:31337', { contract: chain.contract, token: chain.token, receiver: chain.receiver }));
    await expect(connectProxyPayer({}, 'http://gw.test', unpublished)).rejects.toThrow(/start with --pay/);
    // A --pay-rpc that is another chain than the pricing's is named.
    const other = pricingFetch(charging('eip155:1337', { contract: chain.contract, token: chain.token, receiver: chain.receiver }));
    await expect(connectProxyPayer({ pay: true, 'pay-rpc': chain.dev.rpcUrl }, 'http://gw.test', other)).rejects.toThrow(/--pay-rpc is chain 31337, but the gateway takes payments on eip155:1337/);
  });
});

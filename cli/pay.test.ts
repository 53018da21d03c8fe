/** `veil pay` against the embedded dev chain under a temporary data dir (a real anvil per command, as a user runs it). */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DEV_ACCOUNTS } from '../chain';
import { pricingBody } from '../gateway/payments';
import { DEFAULT_PRICE_TABLE } from '../payments';
import { captureCli } from '../test/support/capture-cli';
import { PAY_CHANNEL_FILE, run } from './pay';

let dir: string;
const saved = process.env.VEIL_DATA_DIR;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-pay-cli-'));
  process.env.VEIL_DATA_DIR = dir;
});
afterAll(() => {
  if (saved === undefined) delete process.env.VEIL_DATA_DIR;
  else process.env.VEIL_DATA_DIR = saved;
  fs.rmSync(dir, { recursive: true, force: true });
});

const pay = async (...args: string[]) => {
  const result = await captureCli(run, args);
  return { ...result, json: result.code === 0 && args.includes('--json') ? JSON.parse(result.out) : undefined };
};

test('open, status, topup, withdraw, then a new channel closed cooperatively (embedded dev chain, dev account 1)', async () => {
  const opened = await pay('open', '--amount', '2000', '--withdraw-delay', '900', '--json');
  expect(opened.err).toBe('');
  expect(opened.json).toMatchObject({ opened: true, open: true, embedded: true, deposited: '2000', claimed: '0', withdrawDelay: 900, network: 'eip155:31337' });
  // the gateway's dev contracts and receiver (startPayments' rule and record), so the channel pays this gateway
  const contracts = JSON.parse(fs.readFileSync(path.join(dir, 'chain', 'payments.json'), 'utf8'));
  expect(opened.json).toMatchObject({ contract: contracts.contract, token: contracts.token, receiver: DEV_ACCOUNTS[2].address });
  const record = JSON.parse(fs.readFileSync(path.join(dir, 'pay', PAY_CHANNEL_FILE), 'utf8'));
  expect(record.config.payerAuthorizer).toBe(opened.json.authorizer); // the derived session key is the channel's authorizer
  // public data only: the session key is derived from the payer's key and the salt, never written
  expect(Object.keys(record).sort()).toEqual(['chainId', 'config', 'contractAddress']);
  expect(Object.keys(record.config).sort()).toEqual(['payer', 'payerAuthorizer', 'receiver', 'salt', 'token', 'withdrawDelay']);
  const balance = BigInt(opened.json.payerBalance);

  expect((await pay('open', '--json')).json).toMatchObject({ opened: false, channelId: opened.json.channelId }); // already open: reported, not reopened
  expect((await pay('status', '--json')).json).toMatchObject({ channelId: opened.json.channelId, deposited: '2000', remaining: '2000' });
  expect((await pay('topup', '--amount', '500', '--json')).json).toMatchObject({ deposited: '2500', toppedUp: '500', payerBalance: (balance - 500n).toString() });

  const withdrawing = await pay('withdraw', '--json');
  expect(BigInt(withdrawing.json.withdrawReadyAt)).toBeGreaterThan(0n);
  const early = await pay('withdraw', '--finalize');
  expect(early.code).toBe(1);
  expect(early.err).toMatch(/\[withdraw_not_ready\]/);

  const second = await pay('open', '--amount', '700', '--json'); // the recorded one is withdrawing: a new channel
  expect(second.json).toMatchObject({ opened: true, deposited: '700' });
  expect(second.json.channelId).not.toBe(opened.json.channelId);
  const closed = await pay('close', '--json');
  expect(closed.json).toMatchObject({ closed: true, open: false, note: expect.stringMatching(/dev chain: signed as the receiver/) });
  expect(BigInt(closed.json.payerBalance)).toBe(BigInt(second.json.payerBalance) + 700n); // everything unclaimed refunded
  const text = await pay('status');
  expect(text.out).toMatch(/^closed\s+true$/m);
});

test('quote: the gateway\'s price table and where to pay, whole or for one model', async () => {
  const body = pricingBody({
    enabled: true, prices: DEFAULT_PRICE_TABLE,
    payTo: { network: 'eip155:31337', contract: DEV_ACCOUNTS[0].address, token: DEV_ACCOUNTS[1].address, receiver: DEV_ACCOUNTS[2].address, minWithdrawDelay: 3600 },
  });
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/v1/pricing' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const gateway = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    expect((await pay('quote', '--gateway', gateway, '--json')).json).toEqual(JSON.parse(JSON.stringify(body)));
    expect((await pay('quote', '--gateway', gateway, '--model', 'toy-chat-kjv', '--json')).json).toMatchObject({
      model: 'toy-chat-kjv', prices: { perCall: '50', perInputToken: '1', perOutputToken: '5' }, receiver: DEV_ACCOUNTS[2].address, scheme: 'veil-channel',
    });
    expect((await pay('quote', '--gateway', gateway, '--model', 'nope', '--json')).json).toMatchObject({ prices: { perCall: '100' }, note: expect.stringMatching(/default/) });
    expect((await pay('quote', '--gateway', gateway)).out).toMatch(/^receiver\s+0x3C44/m);
    expect(await pay('quote', '--gateway', 'ftp://x')).toMatchObject({ code: 2 });
  } finally {
    server.close();
  }
  expect(await pay('quote', '--gateway', gateway)).toMatchObject({ code: 1, err: expect.stringMatching(/cannot be reached/) });
});

test('usage errors exit 2 and name what is wrong', async () => {
  expect(await pay('topup')).toMatchObject({ code: 2, err: expect.stringMatching(/--amount N is required/) });
  expect(await pay('topup', '--amount', '1.5')).toMatchObject({ code: 2, err: expect.stringMatching(/positive whole number/) });
  expect(await pay('nope')).toMatchObject({ code: 2, err: expect.stringMatching(/unknown subcommand "nope"/) });
  expect(await pay('open', '--rpc', 'http://127.0.0.1:1')).toMatchObject({ code: 2, err: expect.stringMatching(/--contract ADDR is required with --rpc/) });
  expect((await pay('--help')).code).toBe(0);
});

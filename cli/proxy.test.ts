import { startFakeGateway, type FakeGateway } from '../client/proxy/test-support/start-fake-gateway';
import { captureCli } from '../test/support/capture-cli';
import { run, startBanner } from './proxy';

describe('veil proxy', () => {
  let gateway: FakeGateway;
  beforeAll(async () => {
    gateway = await startFakeGateway();
  });
  afterAll(() => gateway.close());

  test('flags: documented, and bad values are usage errors (exit 2)', async () => {
    const help = (await captureCli(run, ['--help'])).out;
    for (const flag of ['--gateway', '--port', '--api-key', '--allow-simulated', '--simulated-key', '--onchain', '--rpc', '--registry', '--model', '--pay', '--pay-rpc', '--max-spend', '--max-per-call', '--deposit', '--key-file', '--no-pay']) expect(help).toContain(flag);
    const cases: [string[], RegExp][] = [
      [['--port', 'http'], /--port must be an integer/],
      [['--port', '70000'], /--port must be an integer/],
      [['--gateway', 'ftp://x'], /--gateway must be an http/],
      [['--accept-self-signed'], /need --allow-simulated/],
      [['--allow-simulated', '--simulated-key', 'ab'.repeat(10)], /is not a public key/],
      [['--onchain'], /--onchain needs --rpc URL --registry ADDR/],
      [['--onchain', '--rpc', 'http://127.0.0.1:1', '--registry', 'nope'], /--registry must be a 0x address/],
      [['--rpc', 'http://127.0.0.1:1'], /go with --onchain/],
      [['--bogus'], /Unknown option/],
      [['--max-spend', '5'], /--max-spend goes with --pay/],
      [['--pay', '--no-pay'], /--pay and --no-pay contradict/],
      [['--pay', '--pay-rpc', 'ws://127.0.0.1:1', '--max-spend', '5'], /--pay-rpc must be an http/],
      [['--pay', '--pay-rpc', 'http://127.0.0.1:1', '--max-spend', '0'], /--max-spend: a positive whole number/],
      [['--pay', '--pay-rpc', 'http://127.0.0.1:1', '--max-spend', '5', '--deposit', '1.5'], /--deposit: a positive whole number/],
    ];
    for (const [args, message] of cases) {
      const r = await captureCli(run, args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toMatch(message);
    }
  });

  test('--pay against a gateway that does not charge is refused before anything listens', async () => {
    const r = await captureCli(run, ['--gateway', gateway.url, '--port', '0', '--allow-simulated', '--pay', '--pay-rpc', 'http://127.0.0.1:9', '--max-spend', '5']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/veil proxy: cannot pay: /);
  });

  test('refuses a SIMULATED gateway without --allow-simulated (exit 1, saying why)', async () => {
    const r = await captureCli(run, ['--gateway', gateway.url, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/refused to start: .*SIMULATED.*\(tee_simulated_refused\)/);
  });

  test('with --allow-simulated it attests every language model the gateway lists and prints what it attested', async () => {
    const out: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    try {
      const running = run(['--gateway', gateway.url, '--port', '0', '--allow-simulated', '--simulated-key', Buffer.from(gateway.provider.verifierKey).toString('hex')]);
      for (let i = 0; i < 200 && out.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      process.emit('SIGINT');
      expect(await running).toBe(0);
    } finally {
      log.mockRestore();
    }
    const banner = out.join('\n');
    expect(banner).toMatch(/^veil proxy listening on http:\/\/127\.0\.0\.1:\d+ \(OpenAI-compatible: baseURL http:\/\/127\.0\.0\.1:\d+\/v1\)/);
    for (const model of ['toy-chat', 'toy-embed']) expect(banner).toContain(`model        ${model}`);
    expect(banner).not.toContain('breast-cancer-lr');
    expect(banner).toContain('platform     SIMULATED (pinned development key, proves nothing about hardware)');
    expect(banner).toContain(`signer       ${gateway.identities[0]!.signingAddress}`);
    expect(banner).toMatch(/measurement {2}[0-9a-f]{96}/);
    expect(banner).toContain('node         node-a');
  });

  test('the banner says SIMULATED and SELF-SIGNED in capitals, and names a real platform plainly', () => {
    const base = { model: 'm', node_id: 'n', measurement: 'ab', signing_address: '0xs', onchain: false, verified_at: 't' };
    const banner = startBanner('http://h:1', 'http://g', [
      { ...base, platform: 'simulated', simulated: true, simulated_key: 'self-signed' },
      { ...base, model: 'real', platform: 'sev-snp', simulated: false, simulated_key: null },
    ], true);
    expect(banner).toContain('platform     SIMULATED (SELF-SIGNED key, proves nothing about hardware)');
    expect(banner).toContain('platform     sev-snp\n');
    expect(banner).toContain('verified at  t (and on-chain)');
  });
});

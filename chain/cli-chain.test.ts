/**
 * `veil chain` (cli/chain.ts) against a real anvil: exit codes, flag-naming errors, and a deploy → approve → show run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cli/chain';
import { CONFIG_SCHEMA } from '../gateway/config';
import { DEV_ACCOUNTS } from './dev-accounts';
import { randomHex, startTestChain, type TestChain } from './testing/start-test-chain';

let t: TestChain;
let out: string[];
let err: string[];
const saved = { ...process.env };

beforeAll(async () => {
  t = await startTestChain();
});
afterAll(async () => {
  await t?.stop();
});
beforeEach(() => {
  out = [];
  err = [];
  jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  process.env.VEIL_CHAIN_RPC_URL = t.dev.rpcUrl;
  delete process.env.VEIL_CHAIN_REGISTRY;
  delete process.env.VEIL_CHAIN_REGISTRY_ADDRESS;
  delete process.env.VEIL_CHAIN_PRIVATE_KEY;
});
afterEach(() => {
  jest.restoreAllMocks();
  process.env = { ...saved };
});

test('usage: no subcommand and unknown subcommands exit 2', async () => {
  expect(await run([])).toBe(2);
  expect(await run(['launch'])).toBe(2);
  expect(err.join('\n')).toContain('unknown subcommand "launch"');
  expect(await run(['show', '--bogus'])).toBe(2);
});

test('deploy → approve → show → revoke-measurement', async () => {
  process.env.VEIL_CHAIN_PRIVATE_KEY = DEV_ACCOUNTS[0].privateKey;
  expect(await run(['deploy', '--json'])).toBe(0);
  const deployed = JSON.parse(out.join('\n')) as { registry: string; owner: string };
  expect(deployed.owner).toBe(DEV_ACCOUNTS[0].address);
  const registry = ['--registry', deployed.registry];
  const measurement = randomHex(48);

  out = [];
  expect(await run(['approve', ...registry, '--platform', 'sev-snp', '--measurement', measurement, '--label', 'cli test', '--source', 'git:c0ffee'])).toBe(0);
  expect(out.join('\n')).toMatch(/approved\s+0x[0-9a-f]{64}/);

  out = [];
  expect(await run(['show', ...registry, '--json'])).toBe(0);
  const shown = JSON.parse(out.join('\n')) as { owner: string; measurements: { label: string; source: string; approved: boolean }[] };
  expect(shown.owner).toBe(DEV_ACCOUNTS[0].address);
  expect(shown.measurements).toMatchObject([{ label: 'cli test', source: 'git:c0ffee', approved: true }]);

  expect(await run(['revoke-measurement', ...registry, '--platform', 'sev-snp', '--measurement', measurement])).toBe(0);
  out = [];
  expect(await run(['show', ...registry])).toBe(0);
  expect(out.join('\n')).toContain('revoked   sev-snp');

  // Refused by the contract: exit 1 with the contract's reason.
  process.env.VEIL_CHAIN_PRIVATE_KEY = DEV_ACCOUNTS[2].privateKey;
  expect(await run(['approve', ...registry, '--platform', 'tdx', '--measurement', 'ab', '--label', 'x', '--source', 'y'])).toBe(1);
  expect(err.join('\n')).toContain('approveMeasurement: the sender is not the registry owner (NotOwner) [not_owner]');
});

test('error: bad input names the flag and exits 2 before touching the network', async () => {
  process.env.VEIL_CHAIN_PRIVATE_KEY = DEV_ACCOUNTS[0].privateKey;
  const registry = ['--registry', t.dev.registryAddress];
  expect(await run(['approve', ...registry, '--platform', 'sev-snp', '--measurement', 'abcd', '--label', 'x', '--source', 'y'])).toBe(2);
  expect(await run(['approve', ...registry, '--platform', 'sgx', '--measurement', 'abcd', '--label', 'x', '--source', 'y'])).toBe(2);
  expect(await run(['revoke-attestation', ...registry, '--signer', '0x1234'])).toBe(2);
  expect(await run(['show', '--registry', 'not-an-address'])).toBe(2);
  expect(await run(['approve', ...registry, '--platform', 'tdx', '--measurement', 'zz', '--label', 'x', '--source', 'y'])).toBe(2);
  expect(err).toEqual([
    'veil chain approve: --measurement: expected 48 bytes, got 2 [invalid_hex]',
    'veil chain approve: --platform must be one of sev-snp, tdx, nitro, simulated (got "sgx")',
    'veil chain revoke-attestation: --signer: not an EVM address (expected 0x followed by 40 hex digits)',
    'veil chain show: --registry: not an EVM address (expected 0x followed by 40 hex digits) [invalid_address]',
    'veil chain approve: --measurement: not a non-empty, even-length hex string [invalid_hex]',
  ]);
});

test('error: missing key exits 2; unreachable RPC exits 1 without leaking the URL path', async () => {
  expect(await run(['approve', '--registry', t.dev.registryAddress, '--platform', 'tdx', '--measurement', 'ab', '--label', 'x', '--source', 'y'])).toBe(2);
  expect(err.pop()).toBe('veil chain approve: no signing key: set VEIL_CHAIN_PRIVATE_KEY or pass --key-file [private_key_missing]');
  expect(await run(['show', '--rpc', 'http://127.0.0.1:1/api-key-123', '--registry', t.dev.registryAddress])).toBe(1);
  const message = err.pop() ?? '';
  expect(message).toContain('the RPC endpoint is unreachable at http://127.0.0.1:1 (check --rpc');
  expect(message).not.toContain('api-key-123');
});

/** Every env name the gateway's config reads. */
function schemaEnvNames(node: object = CONFIG_SCHEMA): string[] {
  return Object.values(node).flatMap((v: object) => ('env' in v && typeof v.env === 'string' ? [v.env] : schemaEnvNames(v)));
}

test('the registry comes from VEIL_CHAIN_REGISTRY_ADDRESS, the env name the gateway reads', async () => {
  process.env.VEIL_CHAIN_REGISTRY_ADDRESS = t.dev.registryAddress;
  expect(await run(['show', '--json'])).toBe(0);
  expect(JSON.parse(out.join('\n'))).toMatchObject({ registryAddress: t.dev.registryAddress });
});

test('`veil chain dev` prints an export line whose names are real gateway env vars', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'veil-chain-dev-'));
  try {
    const running = run(['dev', '--data-dir', dataDir, '--port', '0']);
    for (let i = 0; i < 300 && !out.some((l) => l.includes('export ')); i++) await new Promise((r) => setTimeout(r, 50));
    process.emit('SIGINT');
    expect(await running).toBe(0);
    const line = out.find((l) => l.includes('export '))!;
    const names = [...line.matchAll(/([A-Z_]+)=/g)].map((m) => m[1]);
    expect(names).toEqual(['VEIL_CHAIN_RPC_URL', 'VEIL_CHAIN_REGISTRY_ADDRESS']);
    for (const name of names) expect(schemaEnvNames()).toContain(name);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

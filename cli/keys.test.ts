import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApiKeyGuard } from '../gateway/auth';
import { createLogger } from '../gateway/logger';
import { captureCli } from '../test/support/capture-cli';
import { run } from './keys';
import { main } from './main';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-keys-cli-'));
  file = path.join(dir, 'api-keys.json');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const keys = (...args: string[]) => captureCli(run, [...args, '--keys-file', file]);
const noTimers = { setInterval: () => 0, clearInterval: () => {} };

test('create prints the key once, stores only its hash (0600), and the gateway guard accepts it within its scopes', async () => {
  const { code, out } = await keys('create', '--name', 'ci', '--models', 'breast-cancer-lr,digits-mlp', '--modes', 'fhe', '--rate', '2.5', '--json');
  expect(code).toBe(0);
  const created = JSON.parse(out);
  expect(created).toMatchObject({ name: 'ci', models: ['breast-cancer-lr', 'digits-mlp'], modes: ['fhe'], rate: { perSecond: 2.5, burst: 3 }, revokedAt: null, keysFile: file });
  expect(created.key).toMatch(new RegExp(`^veil_${created.id}_`));
  const stored = fs.readFileSync(file, 'utf8');
  expect(stored).not.toContain(created.key.slice(22));
  expect(stored).toContain(created.id);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);

  const guard = createApiKeyGuard({ file, logger: createLogger({ level: 'silent', format: 'json' }), timers: noTimers });
  expect(guard.admit(`Bearer ${created.key}`)).toBe(created.id);
  expect(() => guard.authorize(created.id, { mode: 'tee', model: 'breast-cancer-lr' })).toThrow(expect.objectContaining({ code: 'permission_denied' }));
  expect(() => guard.authorize(created.id, { mode: 'fhe', model: 'digits-relu-mlp' })).toThrow(expect.objectContaining({ code: 'permission_denied' }));
  guard.authorize(created.id, { mode: 'fhe', model: 'digits-mlp' });

  // The key is never shown again.
  const listed = await keys('list', '--json');
  expect(listed.out).not.toContain(created.key);
  expect(JSON.parse(listed.out).keys).toEqual([expect.objectContaining({ id: created.id, name: 'ci' })]);
  expect(JSON.parse(listed.out).keys[0]).not.toHaveProperty('sha256');
  expect(guard.budgetOf(created.id)).toBeUndefined();
  guard.close();
});

test('--budget: the key carries a budget the gateway reads (payments charge its calls to it)', async () => {
  const { code, out } = await keys('create', '--budget', '5000000', '--json');
  expect(code).toBe(0);
  const created = JSON.parse(out);
  expect(created).toMatchObject({ budget: '5000000' });
  const guard = createApiKeyGuard({ file, logger: createLogger({ level: 'silent', format: 'json' }), timers: noTimers });
  expect(guard.budgetOf(created.id)).toBe(5_000_000n);
  guard.close();
  expect((await keys('list')).out).toContain('budget 5000000');
});

test('text output warns that the key is shown only once; list and revoke by id', async () => {
  const created = await keys('create');
  expect(created.out).toMatch(/key {4}veil_[0-9a-f]{16}_\S{43}\nThis is the only time the key is shown/);
  const id = /created API key ([0-9a-f]{16})/.exec(created.out)![1]!;
  expect((await keys('list')).out).toMatch(new RegExp(`^${id}  active .*models all; modes fhe,tee; no rate limit`));
  const revoked = await keys('revoke', id);
  expect(revoked).toMatchObject({ code: 0, out: expect.stringContaining(`revoked API key ${id}`) });
  expect((await keys('list')).out).toMatch(new RegExp(`^${id}  REVOKED `));
  expect((await keys('revoke', id)).out).toContain('already revoked');
  expect(await keys('revoke', 'ffffffffffffffff')).toMatchObject({ code: 1, err: expect.stringContaining('no key with id ffffffffffffffff') });
});

test.each([
  [['create', '--modes', 'gpu'], /--modes: "gpu" is not fhe or tee/],
  [['create', '--rate', '0'], /--rate must be a number/],
  [['create', '--burst', '3'], /--burst needs --rate/],
  [['create', '--models', 'a b'], /--models: "a b" is not a model id/],
  [['create', '--budget', '1.5'], /--budget must be a positive whole number/],
  [['create', '--budget', '0'], /--budget must be a positive whole number/],
  [['revoke', 'nope'], /is not a key id/],
  [['rotate'], /unknown or incomplete command "rotate"/],
])('bad arguments %j exit 2 naming the problem', async (args, message) => {
  const r = await keys(...args);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(message);
  expect(fs.existsSync(file)).toBe(false);
});

test('`veil keys` is registered', async () => {
  const r = await captureCli(main, ['keys', '--help']);
  expect(r).toMatchObject({ code: 0, out: expect.stringContaining('usage: veil keys create') });
  expect((await captureCli(main, ['--help'])).out).toMatch(/keys {6}create, list and revoke API keys/);
});

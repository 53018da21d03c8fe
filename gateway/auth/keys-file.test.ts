import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateApiKey, apiKeyId, bearerToken, hashApiKey } from './api-key';
import { readKeysFile, resolveKeysFile, updateKeysFile, type ApiKeyRecord } from './keys-file';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-keys-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const record = (over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => {
  const { id, sha256 } = generateApiKey();
  return { id, sha256, name: 'n', createdAt: '2026-01-01T00:00:00.000Z', models: '*', modes: ['fhe'], rate: null, revokedAt: null, ...over };
};

test('keys are veil_<16 hex id>_<256-bit secret>; only the hash of the whole key is kept', () => {
  const a = generateApiKey();
  const b = generateApiKey();
  expect(a.key).toMatch(/^veil_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  expect(Buffer.from(a.key.slice(22), 'base64url')).toHaveLength(32);
  expect(apiKeyId(a.key)).toBe(a.id);
  expect(a.sha256).toBe(hashApiKey(a.key));
  expect(a.sha256).not.toContain(a.key.slice(22));
  expect(a.key).not.toBe(b.key);
  expect(bearerToken(`Bearer ${a.key}`)).toBe(a.key);
  expect(bearerToken(`bearer  ${a.key}`)).toBe(a.key);
  expect(bearerToken(a.key)).toBeUndefined();
  expect(apiKeyId(`${a.key}x`)).toBeUndefined();
});

test('"default" resolves under the data dir', () => {
  expect(resolveKeysFile('default', '/var/veil')).toBe('/var/veil/api-keys.json');
  expect(resolveKeysFile('/etc/veil/keys.json', '/var/veil')).toBe('/etc/veil/keys.json');
});

test('updates are atomic and leave a 0600 file, no temp or lock files behind; a missing file is empty', () => {
  const file = path.join(dir, 'sub', 'api-keys.json');
  expect(readKeysFile(file)).toEqual({ version: 1, keys: [] });
  const r = record();
  updateKeysFile(file, (c) => c.keys.push(r));
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readdirSync(path.dirname(file))).toEqual(['api-keys.json']);
  expect(readKeysFile(file).keys).toEqual([r]);
  expect(fs.readFileSync(file, 'utf8')).not.toMatch(/veil_[0-9a-f]{16}_/); // no key, only hashes
});

test('a held lock refuses a concurrent update instead of losing it', () => {
  const file = path.join(dir, 'api-keys.json');
  fs.writeFileSync(`${file}.lock`, '');
  expect(() => updateKeysFile(file, () => undefined)).toThrow(/another veil keys command is running/);
});

test('a file others may write is refused, naming the fix', () => {
  const file = path.join(dir, 'api-keys.json');
  updateKeysFile(file, (c) => c.keys.push(record()));
  fs.chmodSync(file, 0o664);
  expect(() => readKeysFile(file)).toThrow(`writable by group or others (mode 664); run chmod 600 ${file}`);
});

// chown to another user needs root; elsewhere the check is still in place but cannot be staged.
(process.getuid?.() === 0 ? test : test.skip)('a file another user owns is refused', () => {
  const file = path.join(dir, 'api-keys.json');
  updateKeysFile(file, (c) => c.keys.push(record()));
  fs.chownSync(file, 4321, 4321);
  expect(() => readKeysFile(file)).toThrow(`${file} is owned by uid 4321, not by this user (0) or root`);
});

test.each([
  ['not JSON', '{', /not valid JSON/],
  ['wrong version', JSON.stringify({ version: 2, keys: [] }), /must be \{"version": 1/],
  ['bad id', JSON.stringify({ version: 1, keys: [{ ...record(), id: 'XYZ' }] }), /keys\[0\]\.id must be 16 lowercase hex/],
  ['duplicate id', JSON.stringify({ version: 1, keys: [record({ id: 'aaaaaaaaaaaaaaaa' }), record({ id: 'aaaaaaaaaaaaaaaa' })] }), /keys\[1\]\.id "aaaaaaaaaaaaaaaa" appears twice/],
  ['unknown mode', JSON.stringify({ version: 1, keys: [{ ...record(), modes: ['gpu'] }] }), /keys\[0\]\.modes must be a non-empty list of fhe, tee/],
  ['empty models', JSON.stringify({ version: 1, keys: [{ ...record(), models: [] }] }), /keys\[0\]\.models must be "\*"/],
  ['bad rate', JSON.stringify({ version: 1, keys: [{ ...record(), rate: { perSecond: 0, burst: 1 } }] }), /keys\[0\]\.rate must be null/],
  ['budget as a number', JSON.stringify({ version: 1, keys: [{ ...record(), budget: 5 }] }), /keys\[0\]\.budget must be null or a decimal string/],
  ['negative budget', JSON.stringify({ version: 1, keys: [{ ...record(), budget: '-5' }] }), /keys\[0\]\.budget must be null or a decimal string/],
])('an invalid file (%s) is refused naming the field', (_name, text, message) => {
  const file = path.join(dir, 'api-keys.json');
  fs.writeFileSync(file, text, { mode: 0o600 });
  expect(() => readKeysFile(file)).toThrow(message);
});

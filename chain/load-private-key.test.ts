import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isChainError } from './errors';
import { loadPrivateKey } from './load-private-key';

const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'veil-key-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('reads the key from the environment', () => {
  expect(loadPrivateKey({ env: { VEIL_CHAIN_PRIVATE_KEY: ` ${KEY.slice(2)}\n` } })).toEqual({ privateKey: KEY, source: 'env' });
});

test('a key file takes precedence over the environment', () => {
  const file = join(dir, 'key');
  writeFileSync(file, `${KEY.toUpperCase().replace('0X', '0x')}\n`);
  chmodSync(file, 0o600);
  expect(loadPrivateKey({ env: { VEIL_CHAIN_PRIVATE_KEY: 'nonsense' }, keyFile: file })).toEqual({ privateKey: KEY, source: 'file' });
});

test('error: no key anywhere', () => {
  expect(() => loadPrivateKey({ env: {} })).toThrow('no signing key: set VEIL_CHAIN_PRIVATE_KEY or pass --key-file');
});

test('error: malformed key never echoes the key material', () => {
  const secret = 'deadbeef'.repeat(7);
  try {
    loadPrivateKey({ env: { VEIL_CHAIN_PRIVATE_KEY: secret } });
    throw new Error('expected a throw');
  } catch (err) {
    expect(isChainError(err, 'invalid_private_key')).toBe(true);
    expect((err as Error).message).toBe(
      'environment variable VEIL_CHAIN_PRIVATE_KEY does not hold a private key (expected 32 bytes as 64 hex digits)',
    );
    expect(JSON.stringify((err as { details: unknown }).details)).not.toContain(secret);
  }
});

test('error: unreadable key file names the file', () => {
  expect(() => loadPrivateKey({ keyFile: join(dir, 'missing') })).toThrow(/key file .*missing cannot be read \(ENOENT\)/);
});

const posix = process.platform === 'win32' ? test.skip : test;

posix.each(['640', '604', '644', '660', '602'])('error: a key file with mode %s is refused, naming the file, the mode and the fix', (octal) => {
  const mode = parseInt(octal, 8);
  const file = join(dir, `loose-${octal}`);
  writeFileSync(file, `${KEY}\n`);
  chmodSync(file, mode);
  try {
    loadPrivateKey({ keyFile: file });
    throw new Error('expected a throw');
  } catch (err) {
    expect(isChainError(err, 'key_file_insecure')).toBe(true);
    expect((err as Error).message).toBe(`key file ${file} has mode ${octal}: group or others can access it; it must be readable by its owner only (run: chmod 600 ${file})`);
    expect((err as Error).message).not.toContain(KEY.slice(2));
  }
});

posix('a key file readable by its owner only (400) is accepted', () => {
  const file = join(dir, 'owner-only');
  writeFileSync(file, KEY);
  chmodSync(file, 0o400);
  expect(loadPrivateKey({ keyFile: file }).privateKey).toBe(KEY);
});

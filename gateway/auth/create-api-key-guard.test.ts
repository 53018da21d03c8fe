import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../logger';
import { generateApiKey } from './api-key';
import { createApiKeyGuard } from './create-api-key-guard';
import { updateKeysFile } from './keys-file';

let dir: string;
let file: string;
const lines: string[] = [];
const logger = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-guard-'));
  file = path.join(dir, 'api-keys.json');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function addKey() {
  const k = generateApiKey();
  updateKeysFile(file, (c) => c.keys.push({ id: k.id, sha256: k.sha256, name: 't', createdAt: '', models: '*', modes: ['fhe', 'tee'], rate: null, revokedAt: null }));
  return k;
}

test('the watcher picks up a key created after start and a revocation, on its own timer', async () => {
  const guard = createApiKeyGuard({ file, logger, reloadMs: 20 });
  try {
    expect(guard.activeKeys).toBe(0);
    const k = addKey();
    await new Promise((r) => setTimeout(r, 150));
    expect(guard.admit(`Bearer ${k.key}`)).toBe(k.id);
    updateKeysFile(file, (c) => {
      c.keys[0]!.revokedAt = new Date().toISOString();
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(() => guard.admit(`Bearer ${k.key}`)).toThrow(expect.objectContaining({ code: 'unauthenticated' }));
  } finally {
    guard.close();
  }
});

test('a file that becomes unusable refuses every key (fails closed) until it is fixed', () => {
  const k = addKey();
  const guard = createApiKeyGuard({ file, logger, timers: { setInterval: () => 0, clearInterval: () => {} } });
  expect(guard.admit(`Bearer ${k.key}`)).toBe(k.id);
  const good = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, '{ "version": 1, "keys": [', { mode: 0o600 });
  guard.reload();
  expect(() => guard.admit(`Bearer ${k.key}`)).toThrow(expect.objectContaining({ code: 'unauthenticated' }));
  expect(lines.some((l) => l.includes('api keys file unusable'))).toBe(true);
  fs.writeFileSync(file, good, { mode: 0o600 });
  guard.reload();
  expect(guard.admit(`Bearer ${k.key}`)).toBe(k.id);
  guard.close();
});

test('keys and secrets never reach the log', () => {
  const k = addKey();
  const guard = createApiKeyGuard({ file, logger, timers: { setInterval: () => 0, clearInterval: () => {} } });
  guard.admit(`Bearer ${k.key}`);
  expect(() => guard.admit(`Bearer ${k.key.slice(0, -1)}${k.key.endsWith('A') ? 'B' : 'A'}`)).toThrow();
  guard.close();
  expect(lines.join('\n')).not.toContain(k.key.slice(22));
  expect(lines.join('\n')).not.toContain(k.sha256);
});

import { createPublicKey } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulatedProvider } from '../attestation';
import { loadSimulatedKey } from './load-simulated-key';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'veil-simkey-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spki = (k: Parameters<typeof createPublicKey>[0]) => createPublicKey(k).export({ format: 'der', type: 'spki' }).toString('hex');

test('creates the key file with mode 600 on first use and reuses it, so the verifier key survives restarts', () => {
  const file = join(dir, 'sim.pem');
  const first = loadSimulatedKey(file);
  expect(first.created).toBe(true);
  if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
  const again = loadSimulatedKey(file);
  expect(again.created).toBe(false);
  expect(spki(again.privateKey)).toBe(spki(first.privateKey));
  const provider = createSimulatedProvider({ privateKey: again.privateKey });
  expect(Buffer.from(provider.verifierKey).toString('hex')).toBe(spki(first.privateKey));
});

(process.platform === 'win32' ? test.skip : test)('error: a key file others can read is refused with the chmod fix', () => {
  const file = join(dir, 'loose.pem');
  loadSimulatedKey(file);
  chmodSync(file, 0o644);
  expect(() => loadSimulatedKey(file)).toThrow(`simulated key file ${file} has mode 644: group or others can access it; it must be readable by its owner only (run: chmod 600 ${file})`);
});

test('error: a file without a PEM private key', () => {
  const file = join(dir, 'junk.pem');
  writeFileSync(file, 'nope', { mode: 0o600 });
  expect(() => loadSimulatedKey(file)).toThrow(`simulated key file ${file} does not hold a PEM private key`);
});

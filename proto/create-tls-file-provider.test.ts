import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestCa } from '../test/support/create-test-pki';
import { createTlsFileProvider } from './create-tls-file-provider';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-tls-provider-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const fingerprint = (file: string) => new X509Certificate(fs.readFileSync(file)).fingerprint256;

test('bad files stop creation naming the file; a key that is not the certificate\'s is refused', () => {
  const ca = createTestCa(path.join(dir, 'a'));
  const one = ca.issue('one');
  const two = ca.issue('two');
  expect(() => createTlsFileProvider({ certFile: path.join(dir, 'missing.pem'), keyFile: one.keyFile })).toThrow(/missing\.pem: cannot read \(ENOENT\)/);
  expect(() => createTlsFileProvider({ certFile: one.keyFile, keyFile: one.keyFile })).toThrow(/not a PEM certificate/);
  expect(() => createTlsFileProvider({ certFile: one.certFile, keyFile: two.keyFile })).toThrow(`${two.keyFile}: not the private key of ${one.certFile}`);
  expect(() => createTlsFileProvider({ certFile: one.certFile })).toThrow(/needs its key file/);
});

test('a rotation is taken up only once certificate and key match; listeners get the new pair', async () => {
  const ca = createTestCa(path.join(dir, 'b'));
  const one = ca.issue('one');
  const two = ca.issue('two');
  const live = { certFile: path.join(dir, 'b', 'live.pem'), keyFile: path.join(dir, 'b', 'live.key') };
  fs.copyFileSync(one.certFile, live.certFile);
  fs.copyFileSync(one.keyFile, live.keyFile);
  const events: { accepted: boolean; reason?: string }[] = [];
  const provider = createTlsFileProvider(live, { reloadMs: 60_000, onReload: (e) => events.push(e) });
  const updates: string[] = [];
  provider.addIdentityCertificateListener((u) => updates.push(new X509Certificate(u!.certificate).fingerprint256));
  await new Promise((r) => process.nextTick(r));
  expect(updates).toEqual([fingerprint(one.certFile)]);
  expect(provider.reload()).toBe(false); // unchanged

  fs.copyFileSync(two.certFile, live.certFile); // half way: new certificate, old key
  expect(provider.reload()).toBe(false);
  expect(provider.reload()).toBe(false); // reported once
  expect(events).toEqual([{ accepted: false, reason: expect.stringContaining('not the private key of') }]);
  expect(provider.fingerprint256).toBe(fingerprint(one.certFile));

  fs.copyFileSync(two.keyFile, live.keyFile);
  expect(provider.reload()).toBe(true);
  expect(provider.fingerprint256).toBe(fingerprint(two.certFile));
  expect(updates).toEqual([fingerprint(one.certFile), fingerprint(two.certFile)]);
  provider.close();
});

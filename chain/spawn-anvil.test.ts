/**
 * What the spawned anvil inherits. A stand-in binary records its environment, so the test needs no real chain.
 * spawnAnvil runs in a child node process whose real environment holds the operator key: jest's `process.env`
 * is a sandbox copy that node's child_process never reads, so setting the key here would prove nothing.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'veil-anvil-env-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const posix = process.platform === 'win32' ? test.skip : test;
const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

posix('the operator key and other secrets are not passed to anvil', () => {
  const envFile = join(dir, 'env.txt');
  const fake = join(dir, 'fake-anvil');
  writeFileSync(fake, `#!/bin/sh\nenv > '${envFile}'\necho "Listening on 127.0.0.1:18545"\nexec sleep 30\n`);
  chmodSync(fake, 0o700);
  const script = `require(${JSON.stringify(join(__dirname, 'spawn-anvil.ts'))})
    .spawnAnvil({ host: '127.0.0.1', port: 0, chainId: 31337, anvilPath: ${JSON.stringify(fake)} })
    .then((a) => a.stop(2000)).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
  execFileSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, VEIL_CHAIN_PRIVATE_KEY: KEY, SOME_API_TOKEN: 'token-value' },
    cwd: join(__dirname, '..'),
    timeout: 30_000,
  });
  const seen = readFileSync(envFile, 'utf8');
  expect(seen).not.toContain('VEIL_CHAIN_PRIVATE_KEY');
  expect(seen).not.toContain(KEY.slice(2, 20));
  expect(seen).not.toContain('SOME_API_TOKEN');
  expect(seen).toMatch(/^PATH=/m);
  expect(seen).toMatch(/^HOME=/m);
});

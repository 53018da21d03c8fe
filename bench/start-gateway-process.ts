import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childProcessEnv } from '../chain';

export type GatewayProcess = {
  address: string;
  /** The HTTP API's base URL (undefined when http.enabled=false). */
  httpUrl?: string;
  /** The in-process TEE node's SIMULATED verifier keys, hex SPKI DER as `veil serve` prints them (for `veil proxy --simulated-key`). */
  simulatedKeys: string[];
  pid: number;
  stop(): Promise<void>;
};

/**
 * Runs `veil serve` as its own process on a free loopback port (or what `env` binds), as a deployment would, so
 * benchmark clients do not share the gateway's event loop. Resolves with the address the gateway printed. `root` is
 * the checkout whose `bin/veil.cjs` runs (default this one; a bench may compare another).
 */
export function startGatewayProcess(env: Record<string, string>, options: { prefix?: readonly string[]; root?: string } = {}): Promise<GatewayProcess> {
  // A private data dir: a bench must not share the dev chain state of a gateway the user runs.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-bench-'));
  // `prefix` runs it under another program that execs it (e.g. `ip netns exec NS`): the pid stays the gateway's.
  const [command, ...wrap] = [...(options.prefix ?? []), process.execPath];
  const child = spawn(command!, [...wrap, path.join(options.root ?? path.join(__dirname, '..'), 'bin', 'veil.cjs'), 'serve'], {
    // Only what the bench sets: the caller's secrets (e.g. VEIL_CHAIN_PRIVATE_KEY) and stray VEIL_* settings stay out.
    // Free ports for both APIs: a bench gateway must not fail because a user's gateway holds 8080.
    env: childProcessEnv({ extra: { VEIL_GRPC_HOST: '127.0.0.1', VEIL_GRPC_PORT: '0', VEIL_HTTP_PORT: '0', VEIL_LOG_LEVEL: 'warn', VEIL_DATA_DIR: dataDir, ...env } }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('gateway did not start within 120 s')), 120_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const onEarlyExit = (code: number | null) => fail(new Error(`gateway exited with code ${code} before listening`));
    child.once('exit', onEarlyExit);
    child.once('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      // `try:` is the banner's last line: by then the HTTP URL and the pinned keys are printed too.
      if (!match || !/^try: /m.test(out)) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      resolve({
        address: match[1]!,
        httpUrl: /HTTP API on (\S+)/.exec(out)?.[1],
        simulatedKeys: [...out.matchAll(/pinned SIMULATED verifier key ([0-9a-f]+)/g)].map((m) => m[1]!),
        pid: child.pid!,
        stop: () =>
          new Promise<void>((done) => {
            // Already gone (killed by a test): there is nothing to wait for.
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

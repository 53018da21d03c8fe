import { spawn } from 'node:child_process';
import path from 'node:path';
import { childProcessEnv } from '../chain';

export type ProxyProcess = { url: string; pid: number; stop(): Promise<void> };

export type StartProxyProcessOptions = {
  /** The gateway's HTTP URL. */
  gateway: string;
  /** Models to attest before listening. */
  models: readonly string[];
  /** Pinned SIMULATED verifier keys (hex), as `veil serve` prints them; the proxy is started with --allow-simulated. */
  simulatedKeys: readonly string[];
  /** The checkout whose `bin/veil.cjs` runs (default this one; a bench may compare another). */
  root?: string;
};

/**
 * Runs `veil proxy` as its own process on a free loopback port, as an app's machine would, so a benchmark's
 * OpenAI client does not share the proxy's event loop. Resolves with the URL the proxy printed.
 */
export function startProxyProcess(options: StartProxyProcessOptions): Promise<ProxyProcess> {
  const args = [
    path.join(options.root ?? path.join(__dirname, '..'), 'bin', 'veil.cjs'), 'proxy', '--gateway', options.gateway, '--port', '0', '--allow-simulated',
    ...options.simulatedKeys.flatMap((k) => ['--simulated-key', k]), ...options.models.flatMap((m) => ['--model', m]),
  ];
  // Only what the bench sets: the caller's secrets and stray VEIL_* settings stay out.
  const child = spawn(process.execPath, args, { env: childProcessEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('veil proxy did not start within 60 s')), 60_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const onEarlyExit = (code: number | null) => fail(new Error(`veil proxy exited with code ${code} before listening`));
    child.once('exit', onEarlyExit);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const match = /veil proxy listening on (\S+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      resolve({
        url: match[1]!,
        pid: child.pid!,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

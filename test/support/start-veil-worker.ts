import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { childProcessEnv } from '../../chain';

const ROOT = path.join(__dirname, '..', '..');

export type VeilWorkerProcess = {
  child: ChildProcess;
  address: string;
  /** Everything it printed to stdout and stderr until it was ready. */
  out: string;
  /** The SIMULATED verifier key it printed, for tee.simulatedKeys. */
  simulatedKey: string;
};

/**
 * Runs `veil worker --port 0 … args` as its own process (the remote-node case) and resolves once it printed its address,
 * signing address and SIMULATED verifier key (`env`: variables beyond the allow-listed ones, e.g. OTEL_*). Language models are off unless `args` asks for them (they take seconds to load).
 */
export function startVeilWorker(args: readonly string[], env: Record<string, string> = {}): Promise<VeilWorkerProcess> {
  const withDefaults = args.includes('--language-models') ? args : [...args, '--language-models', 'none'];
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'veil.cjs'), 'worker', '--port', '0', '--log-level', 'warn', ...withDefaults], {
    stdio: ['ignore', 'pipe', 'pipe'], env: childProcessEnv({ extra: env }),
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${out}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${out}`)));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      const key = /simulated key\s+([0-9a-f]+)/.exec(out);
      if (match && key && /max message/.test(out)) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, address: match[1]!, out, simulatedKey: key[1]! });
      }
    });
  });
}

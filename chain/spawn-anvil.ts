/**
 * Starts the anvil binary shipped by `@foundry-rs/anvil` and waits until it listens.
 * @internal
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { childProcessEnv } from './child-process-env';
import { ChainError } from './errors';

export type SpawnAnvilParameters = {
  host: string;
  /** 0 lets the OS pick a free port; the real one is read from anvil's "Listening on" line, so there is no race. */
  port: number;
  chainId: number;
  /** `--state FILE`: load it if present, dump to it on exit (SIGTERM/SIGINT). */
  stateFile?: string;
  /** `--state-interval`: also dump every N seconds, so a crash loses at most N seconds. */
  stateIntervalSeconds?: number;
  anvilPath?: string;
  startTimeoutMs?: number;
};

export type AnvilProcess = { rpcUrl: string; port: number; child: ChildProcess; stop(timeoutMs?: number): Promise<void> };

/** The platform binary directly: the npm `anvil` bin is a node wrapper that costs a second process and ~50 ms. */
export function resolveAnvilPath(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`);
    const bin = join(dirname(pkg), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
    if (existsSync(bin)) return bin;
  } catch {
    // fall through to the wrapper, which forwards signals to the same binary
  }
  const wrapper = join(process.cwd(), 'node_modules', '.bin', 'anvil');
  if (existsSync(wrapper)) return wrapper;
  throw new ChainError('dev_chain_failed', 'anvil binary not found (is @foundry-rs/anvil installed?)');
}

export async function spawnAnvil({
  host,
  port,
  chainId,
  stateFile,
  stateIntervalSeconds,
  anvilPath = resolveAnvilPath(),
  startTimeoutMs = 15_000,
}: SpawnAnvilParameters): Promise<AnvilProcess> {
  const args = ['--host', host, '--port', String(port), '--chain-id', String(chainId)];
  if (stateFile) args.push('--state', stateFile);
  if (stateFile && stateIntervalSeconds) args.push('--state-interval', String(stateIntervalSeconds));
  // The operator key (VEIL_CHAIN_PRIVATE_KEY) and every other secret of this process stay here: anvil needs none.
  const child = spawn(anvilPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childProcessEnv() });
  // Anvil logs every RPC call to stdout; keep a short tail for diagnostics and keep draining so the pipe never fills.
  const tail: string[] = [];
  // Chunks split lines anywhere, so each stream keeps its unfinished last line until the rest arrives.
  const lineCollector = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = (lines.pop() ?? '').slice(-1000);
      tail.push(...lines.filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 20));
    };
  };
  const remember = lineCollector();
  child.stderr?.on('data', lineCollector());
  // If our process exits without stop(), do not leave an orphan anvil holding the port.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  // 'close', not 'exit': it fires after stdout/stderr are drained, so the error tail is complete.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const listening = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    let settled = false;
    const timer = setTimeout(() => fail(`did not start within ${startTimeoutMs} ms`), startTimeoutMs);
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      process.removeListener('exit', killOnExit);
      // anvil's first error line is safe to show (it names the flag and file, e.g. an unparsable --state file).
      const firstError = tail.find((line) => line.startsWith('error:'));
      reject(
        new ChainError('dev_chain_failed', `anvil ${why}${firstError ? `: ${firstError.slice(0, 300)}` : ''}`, {
          details: { args, output: tail.slice(-10) },
        }),
      );
    };
    child.once('error', (err) => fail(`could not be started (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    void exited.then((code) => fail(`exited with code ${code} before listening`));
    child.stdout?.on('data', (chunk: Buffer) => {
      remember(chunk);
      if (settled) return;
      buffered += chunk.toString('utf8');
      const match = /Listening on .*:(\d+)/.exec(buffered);
      if (match?.[1]) {
        settled = true;
        buffered = '';
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });

  const displayHost = host.includes(':') ? `[${host}]` : host;
  let stopping: Promise<void> | undefined;
  return {
    rpcUrl: `http://${displayHost}:${listening}`,
    port: listening,
    child,
    stop(timeoutMs = 10_000) {
      stopping ??= (async () => {
        process.removeListener('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        // SIGTERM, not SIGKILL: anvil writes --state on a graceful shutdown only.
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { createGateway, createLogger, loadConfig, type Gateway } from '../../gateway';
import { freePort } from '../support/free-port';

const ROOT = path.join(__dirname, '..', '..');
const VEIL = path.join(ROOT, 'bin', 'veil.cjs');
const MiB = 1024 * 1024;

/** One server under fuzz: where it listens, whether it is still alive, and how much memory it holds. */
export type FuzzTarget = {
  readonly name: 'gateway' | 'worker';
  readonly address: string;
  /** 'in-process' targets share the harness's process (a crash there ends the run itself). */
  readonly mode: 'in-process' | 'process';
  /** A worker's SIMULATED verifier key (what the gateway pins in tee.simulatedKeys); stable across its restarts. */
  readonly simulatedKey?: string;
  /** Resident set size in bytes (the harness's own process for an in-process target). */
  rss(): number;
  /**
   * Crashes so far: exits of a process target (the harness never stops one mid-run); for an in-process target, every
   * unhandled rejection or uncaught exception while it runs (either ends `veil serve`, which installs no handler).
   */
  readonly crashes: number;
  /** Called at each crash, with what was thrown or why the process exited. */
  onCrash(listener: (reason: string) => void): void;
  /** Waits until a crashed process target listens again (same port), so the run can go on. */
  recover(): Promise<void>;
  /** Lines the target logged at error level (causes of `internal` answers), newest last, bounded. */
  errorLines(): string[];
  close(): Promise<void>;
};

export type FuzzTargets = { gateway: FuzzTarget; worker: FuzzTarget; close(): Promise<void> };

export type StartFuzzTargetsOptions = {
  /** Default 'in-process' (what the jest test uses); 'process' runs `veil serve` as a child. */
  gateway?: 'in-process' | 'process';
  /**
   * The gateway's grpc.maxReceiveMessageBytes. Default 72 MiB: deliberately above `veil worker`'s fixed 64 MiB, a
   * deployment today's code neither refuses nor handles, so a sealed request the gateway accepts can be one the node
   * refuses (issue #9 point 4).
   */
  gatewayMaxMessageBytes?: number;
};

/** The worker's message limit (startTeeNodeServer's default; `veil worker` has no flag for it today). */
export const WORKER_MAX_MESSAGE_BYTES = 64 * MiB;

/**
 * Starts a real `veil worker` (child process, simulated platform, breast-cancer-lr) and a real gateway relaying TEE
 * mode to it (chain off, no in-process TEE node, breast-cancer-lr in FHE variants blocks and feature-major, one FHE
 * worker thread, small session store so RSS stays meaningful).
 */
export async function startFuzzTargets(options: StartFuzzTargetsOptions = {}): Promise<FuzzTargets> {
  const gatewayMax = options.gatewayMaxMessageBytes ?? 72 * MiB;
  const worker = await startProcessTarget('worker', ['worker', '--threads', '1', '--models', 'breast-cancer-lr', '--language-models', 'none', '--log-level', 'error'], {});
  let gateway: FuzzTarget;
  try {
    const settings = {
      grpc: { port: 0, maxReceiveMessageBytes: gatewayMax, maxSendMessageBytes: gatewayMax },
      http: { port: 0 },
      fhe: { models: ['breast-cancer-lr'], variants: ['blocks', 'feature-major'], workers: 1, maxQueue: 16, sessionStoreBytes: 64 * MiB, workerKeyCacheBytes: 64 * MiB },
      // The harness is one caller sending thousands of GetEvidence calls: the per-caller evidence limit (tested on its
      // own in gateway/tee) is raised so liveness checks measure the server, not the limiter doing its job.
      tee: {
        local: false, nodes: [worker.address], simulatedKeys: [worker.simulatedKey!], healthCheckSeconds: 1, nodeTimeoutMs: 10_000,
        evidencePerCallerPerMinute: 1_000_000, evidenceBurst: 10_000,
      },
      chain: { enabled: false },
    };
    gateway = options.gateway === 'process'
      ? await startProcessTarget('gateway', ['serve'], {
        VEIL_GRPC_PORT: '0', VEIL_HTTP_PORT: '0', VEIL_GRPC_MAX_RECEIVE_MESSAGE_BYTES: String(gatewayMax), VEIL_GRPC_MAX_SEND_MESSAGE_BYTES: String(gatewayMax),
        VEIL_FHE_MODELS: 'breast-cancer-lr', VEIL_FHE_VARIANTS: 'blocks,feature-major', VEIL_FHE_WORKERS: '1', VEIL_FHE_MAX_QUEUE: '16',
        VEIL_FHE_SESSION_STORE_BYTES: String(64 * MiB), VEIL_FHE_WORKER_KEY_CACHE_BYTES: String(64 * MiB),
        VEIL_TEE_LOCAL: 'false', VEIL_TEE_NODES: worker.address, VEIL_TEE_SIMULATED_KEYS: worker.simulatedKey!,
        VEIL_TEE_EVIDENCE_PER_CALLER_PER_MINUTE: '1000000', VEIL_TEE_EVIDENCE_BURST: '10000', VEIL_TEE_HEALTH_CHECK_SECONDS: '1', VEIL_TEE_NODE_TIMEOUT_MS: '10000',
        VEIL_CHAIN_ENABLED: 'false', VEIL_LOG_LEVEL: 'error',
      })
      : await startInProcessGateway(settings);
  } catch (err) {
    await worker.close();
    throw err;
  }
  return {
    gateway,
    worker,
    async close() {
      // A hung FHE worker (one of the defects the fuzzer finds) makes the pool's close time out: report, do not throw.
      await gateway.close().catch((err: unknown) => console.error(`fuzz: closing the gateway failed: ${(err as Error).message}`));
      await worker.close();
    },
  };
}

async function startInProcessGateway(overrides: Record<string, unknown>): Promise<FuzzTarget> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-fuzz-'));
  const errors = boundedLines();
  const config = loadConfig({ env: {}, overrides: { ...overrides, dataDir } });
  let gateway: Gateway;
  try {
    gateway = await createGateway(config, { logger: createLogger({ level: 'error', format: 'json', write: errors.push }) });
  } catch (err) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  // Trapping these keeps the harness alive, so the crash is counted and the run goes on against the same gateway. The
  // main context's process: under jest the \`process\` global is a per-test stand-in whose listeners never fire.
  const realProcess = vm.runInThisContext('process') as NodeJS.Process;
  const listeners: ((reason: string) => void)[] = [];
  let crashes = 0;
  const onFatal = (err: unknown) => {
    crashes++;
    const reason = err instanceof Error ? `${err.name}: ${err.message} ${err.stack?.split('\n').slice(1, 4).join(' ').trim() ?? ''}` : String(err);
    errors.push(`FATAL ${reason}`);
    for (const l of listeners) l(reason);
  };
  // While it runs, these are the only handlers (jest's are set aside and restored on close): the harness judges them
  // as crashes of the gateway (property no_crash) instead of the test runner failing the whole file without a table.
  // (Typed as a plain emitter: the overloads of process.on do not take a union of event names.)
  const emitter = realProcess as unknown as NodeJS.EventEmitter;
  const setAside = (['unhandledRejection', 'uncaughtException'] as const).map((event) => {
    const previous = emitter.listeners(event) as ((...args: unknown[]) => void)[];
    emitter.removeAllListeners(event);
    emitter.on(event, onFatal);
    return { event, previous };
  });
  return {
    name: 'gateway',
    address: gateway.address,
    mode: 'in-process',
    rss: () => process.memoryUsage().rss,
    get crashes() {
      return crashes;
    },
    onCrash: (listener) => void listeners.push(listener),
    recover: async () => undefined,
    errorLines: errors.lines,
    async close() {
      for (const { event, previous } of setAside) {
        emitter.off(event, onFatal);
        for (const l of previous) emitter.on(event, l);
      }
      await gateway.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A `veil` subcommand as a child process on a fixed loopback port, restarted on that port after a crash. */
async function startProcessTarget(name: 'gateway' | 'worker', args: string[], env: Record<string, string>): Promise<FuzzTarget> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `veil-fuzz-${name}-`));
  const errors = boundedLines();
  let child: ChildProcess | undefined;
  let crashes = 0;
  const listeners: ((reason: string) => void)[] = [];
  let closing = false;
  let restarting: Promise<void> | undefined;
  let simulatedKey: string | undefined;
  // A worker keeps its simulated key in a file, so a restart after a crash presents the key the gateway pinned.
  const keyArgs = name === 'worker' ? ['--simulated-key-file', path.join(dataDir, 'simulated-key.pem')] : [];

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const portArgs = name === 'worker' ? ['--port', String(port)] : [];
      const proc = spawn(process.execPath, [VEIL, ...args, ...portArgs, ...keyArgs], {
        env: { ...process.env, VEIL_DATA_DIR: dataDir, ...env, ...(name === 'gateway' ? { VEIL_GRPC_PORT: String(port), VEIL_GRPC_HOST: '127.0.0.1' } : {}) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 120 s: ${out.slice(-2000)}`)), 120_000);
      const onEarlyExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before listening: ${out.slice(-2000)}`));
      };
      proc.once('exit', onEarlyExit);
      proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (!/listening on \S+/.test(out)) return;
        if (name === 'worker') {
          const key = /simulated key\s+([0-9a-f]+)/.exec(out);
          if (!key) return;
          simulatedKey = key[1];
        }
        clearTimeout(timer);
        proc.off('exit', onEarlyExit);
        proc.once('exit', (code, signal) => {
          if (closing) return;
          crashes++;
          for (const l of listeners) l(`exited with ${signal ?? code}: ${errors.lines().slice(-3).join(' | ')}`);
          restarting ??= launch().finally(() => (restarting = undefined));
        });
        resolve();
      });
      proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim()) errors.push(line);
      });
    });

  await launch();
  return {
    name,
    address: `127.0.0.1:${port}`,
    mode: 'process',
    get simulatedKey() {
      return simulatedKey;
    },
    rss: () => (child?.pid ? processRss(child.pid) : 0),
    get crashes() {
      return crashes;
    },
    onCrash: (listener) => void listeners.push(listener),
    recover: async () => {
      await restarting;
    },
    errorLines: errors.lines,
    async close() {
      closing = true;
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        await new Promise<void>((done) => {
          const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
          proc.once('exit', () => (clearTimeout(kill), done()));
          proc.kill('SIGTERM');
        });
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** VmRSS of a Linux process (0 when it is gone). */
function processRss(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}


function boundedLines(max = 200) {
  const kept: string[] = [];
  return {
    push: (line: string) => {
      kept.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
      if (kept.length > max) kept.shift();
    },
    lines: () => [...kept],
  };
}

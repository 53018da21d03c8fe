import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LanguageHost, LanguageModelInfo } from './create-language-host';
import type { HostReply, HostRequest, WireError } from './language-host-wire';
import { LlmError } from './llm-error';
import type { LoadLanguageHostOptions } from './load-language-host';

export type StartLanguageHostWorkerOptions = LoadLanguageHostOptions & {
  /** How long loading the folders may take. Default 60 s. */
  readyTimeoutMs?: number;
  /** @internal test seam: the worker module (default `language-host-worker.ts`). */
  workerFile?: string;
};

const WORKER_FILE = path.join(__dirname, 'language-host-worker.ts');

/**
 * The same LanguageHost as loadLanguageHost, run on a worker thread. onnxruntime-node executes every session step
 * synchronously on the thread that calls it (a prefill or an embedding batch can take tens to hundreds of
 * milliseconds), so a node that serves the network on its main thread should host its models here: the main
 * event loop then only forwards JSON. `now` cannot cross the thread boundary and is ignored (the worker's clock).
 */
export async function startLanguageHostWorker(options: StartLanguageHostWorkerOptions): Promise<LanguageHost> {
  const { readyTimeoutMs = 60_000, workerFile = WORKER_FILE, now: _now, ...load } = options;
  const worker = new Worker(workerFile, { workerData: load, execArgv: ['--require', 'tsx/cjs'] });
  const post = (message: HostRequest) => worker.postMessage(message);

  type Pending = { reply(message: HostReply): void; fail(err: Error): void };
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let stopped: Error | undefined;
  let closed: Promise<void> | undefined;
  let onClosed: (() => void) | undefined;

  const models = await new Promise<readonly LanguageModelInfo[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the language host worker did not load its models within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    worker.once('error', (err) => { clearTimeout(timer); reject(err); });
    worker.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the language host worker exited (${code}) while loading`)); });
    worker.on('message', function first(message: HostReply) {
      if (message.t !== 'ready' && message.t !== 'failed') return;
      clearTimeout(timer);
      worker.off('message', first);
      if (message.t === 'ready') resolve(Object.freeze(message.models.map((m) => Object.freeze(m))));
      else reject(toError(message.error));
    });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });

  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  worker.on('message', (message: HostReply) => {
    if (message.t === 'closed') return onClosed?.();
    if (message.t === 'ready' || message.t === 'failed') return;
    pending.get(message.id)?.reply(message);
  });
  // A worker that dies fails everything in flight with an error, never a silently short answer.
  const stop = (err: Error) => {
    stopped ??= err;
    for (const p of pending.values()) p.fail(stopped);
    pending.clear();
    onClosed?.();
  };
  worker.on('error', (err) => stop(new Error(`the language host worker failed: ${err.message}`)));
  worker.on('exit', (code) => stop(new Error(`the language host worker exited (${code})`)));

  const refuseIfClosed = () => {
    if (closed) throw new LlmError('cancelled', 'the language host is closed');
    if (stopped) throw stopped;
  };

  return {
    models,
    run(operation, modelId, request, signal) {
      return new Promise((resolve, reject) => {
        refuseIfClosed();
        const id = nextId++;
        const onAbort = () => post({ t: 'cancel', id });
        const settle = () => { pending.delete(id); signal?.removeEventListener('abort', onAbort); };
        pending.set(id, {
          reply(message) {
            settle();
            if (message.t === 'result') resolve(message.value);
            else if (message.t === 'error') reject(toError(message.error));
          },
          fail(err) { settle(); reject(err); },
        });
        post({ t: 'run', id, operation, modelId, request });
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    stream(modelId, request, signal, meter) {
      return (async function* () {
        refuseIfClosed();
        const id = nextId++;
        const queue: HostReply[] = [];
        let failure: Error | undefined;
        let wake: (() => void) | undefined;
        const onAbort = () => post({ t: 'cancel', id });
        pending.set(id, {
          reply(message) { queue.push(message); wake?.(); },
          fail(err) { failure = err; wake?.(); },
        });
        post({ t: 'stream', id, modelId, request });
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
        let ended = false;
        try {
          for (;;) {
            while (queue.length === 0 && !failure) await new Promise<void>((r) => { wake = r; });
            wake = undefined;
            const message = queue.shift();
            if (!message) throw failure!;
            if (message.t === 'chunk') {
              if (message.usage) meter?.(message.usage);
              yield message.value;
            }
            else if (message.t === 'error') { ended = true; throw toError(message.error); }
            else if (message.t === 'end') { ended = true; return; }
          }
        } finally {
          // The consumer stopped early (or the signal fired): the worker ends the generation and frees its cache.
          if (!ended && !failure) post({ t: 'cancel', id });
          pending.delete(id);
          signal?.removeEventListener('abort', onAbort);
        }
      })();
    },
    close() {
      closed ??= (async () => {
        if (!stopped) {
          await new Promise<void>((resolve) => { onClosed = resolve; post({ t: 'close' }); });
        }
        await worker.terminate();
      })();
      return closed;
    },
  };
}

function toError(error: WireError): Error {
  return error.llm ? new LlmError(error.code, error.message, error.details) : new Error(error.message);
}

/**
 * Worker-thread entry of startLanguageHostWorker: loads the folders into one LanguageHost and serves it over the
 * parent port. onnxruntime-node runs each session step synchronously on the calling thread, so here, and not on
 * the node's main thread, is where model steps may block. Errors cross as plain data (code, message, details).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LanguageHost } from './create-language-host';
import type { ChatUsage } from './generate-chat';
import { LlmError } from './llm-error';
import { loadLanguageHost, type LoadLanguageHostOptions } from './load-language-host';
import type { HostRequest, HostReply, WireError } from './language-host-wire';

function wireError(err: unknown): WireError {
  if (err instanceof LlmError) return { llm: true, code: err.code, message: err.message, details: err.details };
  // Not an LlmError: an ORT or programming failure. Its message names shapes and files, not request text.
  return { llm: false, code: 'internal', message: err instanceof Error ? err.message : 'the language host failed' };
}

async function main(): Promise<void> {
  const port = parentPort!;
  const post = (reply: HostReply) => port.postMessage(reply);
  let host: LanguageHost;
  try {
    host = await loadLanguageHost(workerData as LoadLanguageHostOptions);
  } catch (err) {
    post({ t: 'failed', error: wireError(err) });
    return;
  }
  const running = new Map<number, AbortController>();
  post({ t: 'ready', models: [...host.models] });

  port.on('message', (message: HostRequest) => {
    if (message.t === 'cancel') return running.get(message.id)?.abort();
    if (message.t === 'close') {
      void host.close().then(() => post({ t: 'closed' }));
      return;
    }
    const controller = new AbortController();
    running.set(message.id, controller);
    const { id } = message;
    const done = () => running.delete(id);
    if (message.t === 'run') {
      host.run(message.operation, message.modelId, message.request, controller.signal).then(
        (value) => post({ t: 'result', id, value }),
        (err: unknown) => post({ t: 'error', id, error: wireError(err) }),
      ).finally(done);
      return;
    }
    void (async () => {
      try {
        let usage: ChatUsage | undefined;
        const meter = (u: ChatUsage) => { usage = u; };
        for await (const chunk of host.stream(message.modelId, message.request, controller.signal, meter)) post({ t: 'chunk', id, value: chunk, usage });
        post({ t: 'end', id });
      } catch (err) {
        post({ t: 'error', id, error: wireError(err) });
      } finally {
        done();
      }
    })();
  });
}

void main();

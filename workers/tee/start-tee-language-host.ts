import { loadLanguageHost, startLanguageHostWorker } from '../../llm';
import { resolveLanguageModelEntry } from '../../models';
import type { TeeLanguageHost } from './tee-language-host';

export type TeeLanguageHostMode = 'worker' | 'in-process';

export type StartTeeLanguageHostOptions = {
  /** Bundled ids, folders (their name is the id) or `<id>=<folder>` (models/ resolveLanguageModelEntry). */
  entries: readonly string[];
  /**
   * `worker` (default): the models run on their own thread, because onnxruntime-node runs each step synchronously on
   * the calling thread and a prefill or embedding batch would stall the node's network loop for tens of ms.
   * `in-process`: the step runs on the node's thread (lowest per-token latency; for a node that does nothing else).
   */
  mode?: TeeLanguageHostMode;
  intraOpThreads?: number;
  /** Milliseconds of generated text a streamed completion sends as one event (llm's streamWindowMs; default 16). */
  streamWindowMs?: number;
};

/**
 * The language models of a TEE node, from config or flags: the one place the gateway's in-process node and
 * `veil worker` turn model entries into a host. Resolves undefined when there are none.
 */
export async function startTeeLanguageHost(options: StartTeeLanguageHostOptions): Promise<TeeLanguageHost | undefined> {
  if (options.entries.length === 0) return undefined;
  const folders = options.entries.map(resolveLanguageModelEntry);
  const load = (options.mode ?? 'worker') === 'worker' ? startLanguageHostWorker : loadLanguageHost;
  return load({ folders, intraOpThreads: options.intraOpThreads, streamWindowMs: options.streamWindowMs });
}

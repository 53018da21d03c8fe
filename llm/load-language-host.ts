import path from 'node:path';
import { createLanguageHost, type LanguageHost } from './create-language-host';
import { createStepScheduler } from './create-step-scheduler';
import { LlmError } from './llm-error';
import { loadLanguageModel, type LanguageModel } from './load-language-model';

export type LoadLanguageHostOptions = {
  /** Model export folders; `id` defaults to the folder's name. */
  folders: readonly { id?: string; dir: string }[];
  /** Model steps that may run at once across all the folders' models (default 1: the node's cores are one resource). */
  concurrency?: number;
  /** onnxruntime intra-op threads per model step. */
  intraOpThreads?: number;
  /** Wall clock in milliseconds, for `created`. */
  now?: () => number;
  /** See CreateLanguageHostOptions.streamWindowMs (default 16 ms). */
  streamWindowMs?: number;
};

/**
 * Loads every folder (chat decoders and embedding encoders alike) with one shared step scheduler, so a node's
 * requests take turns fairly whichever model they use, and serves them as one host. A folder that fails to load
 * releases the ones loaded before it and the error names it.
 */
export async function loadLanguageHost(options: LoadLanguageHostOptions): Promise<LanguageHost> {
  const scheduler = createStepScheduler(options.concurrency ?? 1);
  const ids = options.folders.map((f) => f.id ?? path.basename(path.resolve(f.dir)));
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw new LlmError('llm_model_invalid', `two model folders have the id ${duplicate}`);
  const models: LanguageModel[] = [];
  try {
    for (const [i, folder] of options.folders.entries()) {
      models.push(await loadLanguageModel(folder.dir, { id: ids[i]!, scheduler, intraOpThreads: options.intraOpThreads }));
    }
  } catch (err) {
    await Promise.allSettled(models.map((m) => m.release()));
    throw err;
  }
  return createLanguageHost({ models, now: options.now, streamWindowMs: options.streamWindowMs });
}

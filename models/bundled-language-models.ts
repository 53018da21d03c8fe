import path from 'node:path';

/** Where the built toy language-model folders live (Hugging Face export layout; provenance in models/llm/README.md). */
export const LANGUAGE_MODELS_DIR = path.join(__dirname, 'llm');

/**
 * The bundled toy language models (issue #10): tiny, trained on the KJV Bible with the committed script
 * models/llm/build_toy_llms.py. They prove the serving path, not language quality.
 */
export const BUNDLED_LANGUAGE_MODELS = {
  'toy-chat-kjv': { dir: path.join(LANGUAGE_MODELS_DIR, 'toy-chat-kjv'), kind: 'chat' },
  'toy-chat-mqa-kjv': { dir: path.join(LANGUAGE_MODELS_DIR, 'toy-chat-mqa-kjv'), kind: 'chat' },
  'toy-embed-kjv': { dir: path.join(LANGUAGE_MODELS_DIR, 'toy-embed-kjv'), kind: 'embedding' },
} as const;

export type BundledLanguageModelId = keyof typeof BUNDLED_LANGUAGE_MODELS;

/**
 * A `tee.languageModels` entry → the model id and its folder: a bundled id, `<id>=<folder>`, or a folder (its name is the id).
 * @example resolveLanguageModelEntry('smollm2=/srv/models/SmolLM2-135M-Instruct') // { id: 'smollm2', dir: '/srv/…' }
 */
export function resolveLanguageModelEntry(entry: string): { id: string; dir: string } {
  if (Object.hasOwn(BUNDLED_LANGUAGE_MODELS, entry)) return { id: entry, dir: BUNDLED_LANGUAGE_MODELS[entry as BundledLanguageModelId].dir };
  const eq = entry.indexOf('=');
  if (eq > 0) return { id: entry.slice(0, eq), dir: path.resolve(entry.slice(eq + 1)) };
  const dir = path.resolve(entry);
  return { id: path.basename(dir), dir };
}

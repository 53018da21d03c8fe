import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { LlmError } from './llm-error';
import type { ModelFolder } from './read-model-folder';

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };

export type ModelTokenizer = {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The prompt the model's own chat template renders for these messages, ending with the assistant's turn. */
  renderChat(messages: readonly ChatMessage[]): string;
  /** Token ids that end a generation: generation_config, config and tokenizer eos tokens, deduplicated. */
  eosIds: readonly number[];
  /** Decodes a growing list of generated ids into text deltas without splitting a UTF-8 character. */
  createStreamDecoder(): StreamDecoder;
  /**
   * A lower bound on `encode(text).length`, computed without tokenizing: tokenizing is synchronous and takes about
   * 2 ms per 1,000 characters here, so a megabyte prompt would stall every stream on the node for seconds before
   * it is refused as too long. 0 when the vocabulary's shape is unknown.
   */
  leastTokens(text: string): number;
};

export type StreamDecoder = { push(id: number): string; flush(): string };

/** The tokenizer (@huggingface/tokenizers) and chat template (@huggingface/jinja) of an export folder. */
export function createModelTokenizer(folder: ModelFolder): ModelTokenizer {
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(folder.tokenizerJson, folder.tokenizerConfig);
  } catch (err) {
    throw new LlmError('llm_model_invalid', `${folder.dir}/tokenizer.json cannot be loaded (${(err as Error).message})`);
  }
  let template: Template | undefined;
  if (folder.chatTemplate !== undefined) {
    try {
      template = new Template(folder.chatTemplate);
    } catch (err) {
      throw new LlmError('llm_model_invalid', `${folder.dir}: the chat template does not parse (${(err as Error).message})`);
    }
  }
  const tokenText = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined);
  const bosToken = tokenText(folder.tokenizerConfig.bos_token);
  const eosToken = tokenText(folder.tokenizerConfig.eos_token);

  const eos = new Set<number>();
  for (const source of [folder.generationConfig.eos_token_id, folder.config.eos_token_id]) {
    for (const id of Array.isArray(source) ? source : [source]) if (typeof id === 'number' && Number.isInteger(id)) eos.add(id);
  }
  if (eosToken !== undefined) {
    const id = tokenizer.token_to_id(eosToken);
    if (id !== undefined) eos.add(id);
  }

  // tokenizers.js refuses an empty id list; the empty text is its decoding.
  const decode = (ids: readonly number[], options?: { skipSpecialTokens?: boolean }) =>
    ids.length === 0 ? '' : tokenizer.decode([...ids], { skip_special_tokens: options?.skipSpecialTokens ?? true });

  const lowerBound = tokenLowerBound(folder.tokenizerJson);

  return {
    leastTokens: (text) => lowerBound?.(text) ?? 0,
    encode: (text, options) => tokenizer.encode(text, { add_special_tokens: options?.addSpecialTokens ?? true }).ids,
    decode,
    eosIds: [...eos],
    renderChat(messages) {
      if (!template) throw new LlmError('llm_model_invalid', `${folder.dir} has no chat template (tokenizer_config.json chat_template or chat_template.jinja)`);
      return template.render({ messages, add_generation_prompt: true, bos_token: bosToken ?? '', eos_token: eosToken ?? '' });
    },
    createStreamDecoder() {
      // Text-generation-inference's scheme: decode a short window twice (before and after the new ids) and emit the
      // difference, once it no longer ends in a replacement character (an incomplete UTF-8 sequence).
      const ids: number[] = [];
      let prefixOffset = 0;
      let readOffset = 0;
      const next = (): string => {
        const before = decode(ids.slice(prefixOffset, readOffset));
        const after = decode(ids.slice(prefixOffset));
        if (after.length > before.length && !after.endsWith('\uFFFD')) {
          prefixOffset = readOffset;
          readOffset = ids.length;
          return after.slice(before.length);
        }
        return '';
      };
      return {
        push(id) {
          ids.push(id);
          return next();
        },
        flush() {
          const before = decode(ids.slice(prefixOffset, readOffset));
          const after = decode(ids.slice(prefixOffset));
          prefixOffset = readOffset = ids.length;
          return after.length > before.length ? after.slice(before.length) : '';
        },
      };
    },
  };
}

const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/gu;

type LowerBound = (text: string) => number;

const BERT_WHITESPACE = /[\t\n\r\p{Zs}]+/u;
const VISIBLE_ONE = /[\p{L}\p{N}\p{P}\p{S}]/u;

/**
 * A cheap lower bound on the token count, or undefined when no safe one is known.
 * - BPE (no fused unknowns): every token stands for at most the longest vocabulary entry or added token, so the
 *   visible characters (letters, digits, punctuation, symbols: normalizers may drop whitespace, marks and control
 *   characters) divided by that length, halved for normalizers that merge two characters into one (NFKC).
 * - WordPiece: a word longer than max_input_chars_per_word is one unknown token whatever its length, so count
 *   words instead: every whitespace-separated chunk with a visible character gives at least one token.
 * - Unigram, WordLevel, BPE fusing unknown runs: one token can stand for any length of text; no bound.
 */
function tokenLowerBound(json: Record<string, unknown>): LowerBound | undefined {
  const model = json.model as { type?: unknown; vocab?: unknown; fuse_unk?: unknown; byte_fallback?: unknown; unk_token?: unknown } | undefined;
  if (model?.type === 'WordPiece') {
    return (text) => {
      let words = 0;
      for (const chunk of text.split(BERT_WHITESPACE)) if (VISIBLE_ONE.test(chunk)) words++;
      return words;
    };
  }
  if (model?.type !== 'BPE') return undefined;
  if (model.fuse_unk === true && model.byte_fallback !== true && model.unk_token !== null && model.unk_token !== undefined) return undefined;
  const vocab = model.vocab;
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) return undefined;
  let longest = 1;
  for (const piece of Object.keys(vocab)) longest = Math.max(longest, [...piece].length);
  for (const t of Array.isArray(json.added_tokens) ? json.added_tokens : []) {
    const content = (t as { content?: unknown }).content;
    if (typeof content === 'string') longest = Math.max(longest, [...content].length);
  }
  return (text) => Math.floor((text.match(VISIBLE)?.length ?? 0) / (2 * longest));
}

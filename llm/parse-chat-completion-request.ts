import type { ChatMessage } from './create-model-tokenizer';
import { checkChatRequest, type ChatRequest } from './generate-chat';
import { argumentName, describeType, isAbsent, isObject, invalid, unsupported } from './request-fields';

/** An OpenAI `POST /v1/chat/completions` body, read into what the generation loop takes. */
export type ChatCompletionRequest = {
  /** The body's `model` (the host checks it names the model the request was routed to). */
  model: string;
  chat: ChatRequest;
  stream: boolean;
  /** `stream_options.include_usage`: a last chunk with `choices: []` and the usage, `usage: null` on every other. */
  includeUsage: boolean;
  /**
   * `stream_options.include_obfuscation` (OpenAI's default: true): chunks carry an `obfuscation` field that pads
   * them to a fixed size, so an event's length does not tell the relaying gateway the token's length.
   */
  includeObfuscation: boolean;
};

/**
 * Accepted and ignored: they change nothing about the completion (`user` and `safety_identifier` identify the end
 * user to OpenAI's abuse monitoring, `prompt_cache_key` / `service_tier` are OpenAI scheduling hints, `metadata` is
 * stored only with `store`, `parallel_tool_calls` means nothing without tools). Type-checked all the same.
 */
const IGNORED: Record<string, (v: unknown) => boolean> = {
  user: (v) => typeof v === 'string',
  safety_identifier: (v) => typeof v === 'string',
  prompt_cache_key: (v) => typeof v === 'string',
  service_tier: (v) => typeof v === 'string',
  metadata: (v) => isObject(v),
  parallel_tool_calls: (v) => typeof v === 'boolean',
};

/**
 * OpenAI parameters this runtime does not implement, accepted only at the value that means "off" (so clients that
 * send defaults, as LangChain sends `n: 1` and zero penalties, still work); any other value is refused by name.
 */
const OFF_ONLY: Record<string, { off: (v: unknown) => boolean; why: string }> = {
  n: { off: (v) => v === 1, why: 'only n = 1 (one choice per request) is supported' },
  frequency_penalty: { off: (v) => v === 0, why: 'frequency_penalty is not supported (only 0)' },
  presence_penalty: { off: (v) => v === 0, why: 'presence_penalty is not supported (only 0)' },
  logprobs: { off: (v) => v === false, why: 'logprobs are not supported' },
  top_logprobs: { off: (v) => v === 0, why: 'top_logprobs are not supported' },
  tools: { off: (v) => Array.isArray(v) && v.length === 0, why: 'tools (function calling) are not supported' },
  tool_choice: { off: (v) => v === 'none' || v === 'auto', why: 'tool_choice is not supported: there are no tools' },
  functions: { off: (v) => Array.isArray(v) && v.length === 0, why: 'functions (function calling) are not supported' },
  function_call: { off: (v) => v === 'none' || v === 'auto', why: 'function_call is not supported: there are no functions' },
  response_format: { off: (v) => isObject(v) && v.type === 'text' && Object.keys(v).length === 1, why: 'only response_format {"type": "text"} is supported (no JSON mode or schemas)' },
  logit_bias: { off: (v) => isObject(v) && Object.keys(v).length === 0, why: 'logit_bias is not supported' },
  modalities: { off: (v) => Array.isArray(v) && v.length === 1 && v[0] === 'text', why: 'only the text modality is supported' },
  audio: { off: () => false, why: 'audio output is not supported' },
  prediction: { off: () => false, why: 'predicted outputs are not supported' },
  reasoning_effort: { off: () => false, why: 'reasoning_effort is not supported: this is not a reasoning model' },
  verbosity: { off: () => false, why: 'verbosity is not supported' },
  web_search_options: { off: () => false, why: 'web search is not supported' },
  store: { off: (v) => v === false, why: 'store is not supported: this endpoint never stores completions' },
};

const KNOWN = new Set(['model', 'messages', 'temperature', 'top_p', 'seed', 'max_tokens', 'max_completion_tokens', 'stop', 'stream', 'stream_options', ...Object.keys(IGNORED), ...Object.keys(OFF_ONLY)]);

/**
 * Reads and checks an OpenAI chat completions request body, naming the parameter at fault (`param`) in every
 * error and never quoting message text. `null` means "absent" for every optional field, as OpenAI treats it. An
 * unrecognised top-level field is refused, as OpenAI refuses it ("Unrecognized request argument supplied"): a
 * misspelt `max_token` silently ignored would give a reply the caller did not ask for.
 */
export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  if (!isObject(body)) throw invalid('', `the request body must be a JSON object (got ${describeType(body)})`);
  for (const key of Object.keys(body)) {
    if (!KNOWN.has(key)) throw unsupported(argumentName(key), `Unrecognized request argument supplied: ${argumentName(key)}`);
  }
  for (const [key, ok] of Object.entries(IGNORED)) {
    if (!isAbsent(body[key]) && !ok(body[key])) throw invalid(key, `${key} has the wrong type (got ${describeType(body[key])})`);
  }
  for (const [key, { off, why }] of Object.entries(OFF_ONLY)) {
    if (!isAbsent(body[key]) && !off(body[key])) throw unsupported(key, why);
  }
  if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('model', 'model must be a non-empty string');

  const stream = optional(body, 'stream', 'a boolean', (v): v is boolean => typeof v === 'boolean') ?? false;
  let includeUsage = false;
  let includeObfuscation = stream;
  if (!isAbsent(body.stream_options)) {
    if (!stream) throw invalid('stream_options', 'stream_options is only allowed when stream is true');
    const so = body.stream_options;
    if (!isObject(so)) throw invalid('stream_options', `stream_options must be an object (got ${describeType(so)})`);
    for (const key of Object.keys(so)) {
      if (key !== 'include_usage' && key !== 'include_obfuscation') throw unsupported(`stream_options.${argumentName(key)}`, `Unrecognized argument stream_options.${argumentName(key)}`);
    }
    if (!isAbsent(so.include_usage) && typeof so.include_usage !== 'boolean') throw invalid('stream_options.include_usage', 'stream_options.include_usage must be a boolean');
    if (!isAbsent(so.include_obfuscation) && typeof so.include_obfuscation !== 'boolean') throw invalid('stream_options.include_obfuscation', 'stream_options.include_obfuscation must be a boolean');
    includeUsage = so.include_usage === true;
    includeObfuscation = so.include_obfuscation !== false;
  }

  const number = (v: unknown): v is number => typeof v === 'number';
  const integer = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
  const temperature = optional(body, 'temperature', 'a number', number) ?? 1;
  const topP = optional(body, 'top_p', 'a number', number) ?? 1;
  const seed = optional(body, 'seed', 'an integer', integer);
  const maxTokens = optional(body, 'max_tokens', 'a positive integer', (v): v is number => integer(v) && v >= 1);
  const maxCompletionTokens = optional(body, 'max_completion_tokens', 'a positive integer', (v): v is number => integer(v) && v >= 1);
  if (maxTokens !== undefined && maxCompletionTokens !== undefined && maxTokens !== maxCompletionTokens) {
    throw invalid('max_completion_tokens', 'max_tokens and max_completion_tokens disagree; set one of them');
  }
  let stop: string[] = [];
  if (typeof body.stop === 'string') stop = [body.stop];
  else if (Array.isArray(body.stop)) stop = body.stop as string[];
  else if (!isAbsent(body.stop)) throw invalid('stop', `stop must be a string or a list of strings (got ${describeType(body.stop)})`);

  const chat: ChatRequest = {
    messages: parseMessages(body.messages),
    maxTokens: maxTokens ?? maxCompletionTokens,
    // top_p 0 keeps only the most likely token, which is greedy decoding; the sampler wants a nucleus above 0.
    temperature: topP === 0 ? 0 : temperature,
    topP: topP === 0 ? 1 : topP,
    seed,
    stop,
  };
  checkChatRequest(chat);
  return { model: body.model, chat, stream, includeUsage, includeObfuscation };
}

function optional<T>(body: Record<string, unknown>, key: string, what: string, ok: (v: unknown) => v is T): T | undefined {
  const v = body[key];
  if (isAbsent(v)) return undefined;
  if (!ok(v)) throw invalid(key, `${key} must be ${what} (got ${describeType(v)})`);
  return v;
}

const MESSAGE_KEYS = new Set(['role', 'content', 'name', 'refusal', 'tool_calls', 'function_call', 'audio']);

/**
 * Messages as the chat template takes them. `developer` is OpenAI's newer name for `system` (it maps them onto
 * each other for models that know only one). Content is a string or a list of text parts, joined with newlines as
 * vLLM joins them; images, audio, files and tool turns are refused by name. `name` is accepted and not rendered:
 * chat templates have no place for it.
 */
function parseMessages(messages: unknown): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages', 'messages must be a non-empty list');
  return messages.map((m: unknown, i): ChatMessage => {
    const at = `messages[${i}]`;
    if (!isObject(m)) throw invalid(at, `${at} must be an object (got ${describeType(m)})`);
    const role = m.role;
    if (role === 'tool' || role === 'function') throw unsupported(`${at}.role`, `${at}.role ${role} is not supported: there are no tools`);
    if (role !== 'system' && role !== 'developer' && role !== 'user' && role !== 'assistant') {
      throw invalid(`${at}.role`, `${at}.role must be system, developer, user or assistant`);
    }
    for (const key of Object.keys(m)) if (!MESSAGE_KEYS.has(key)) throw unsupported(`${at}.${argumentName(key)}`, `Unrecognized argument ${at}.${argumentName(key)}`);
    if (!isAbsent(m.name) && typeof m.name !== 'string') throw invalid(`${at}.name`, `${at}.name must be a string`);
    if (role === 'assistant') {
      if (!isAbsent(m.tool_calls) && !(Array.isArray(m.tool_calls) && m.tool_calls.length === 0)) throw unsupported(`${at}.tool_calls`, 'tool calls are not supported');
      if (!isAbsent(m.function_call)) throw unsupported(`${at}.function_call`, 'function calls are not supported');
      if (!isAbsent(m.audio)) throw unsupported(`${at}.audio`, 'audio is not supported');
      if (!isAbsent(m.refusal) && typeof m.refusal !== 'string') throw invalid(`${at}.refusal`, `${at}.refusal must be a string`);
    } else {
      for (const key of ['refusal', 'tool_calls', 'function_call', 'audio']) {
        if (key in m) throw invalid(`${at}.${key}`, `${at}.${key} is allowed only on assistant messages`);
      }
    }
    return { role: role === 'developer' ? 'system' : role, content: parseContent(m.content, at) };
  });
}

function parseContent(content: unknown, at: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(`${at}.content`, `${at}.content must be a string or a list of content parts (got ${describeType(content)})`);
  if (content.length === 0) throw invalid(`${at}.content`, `${at}.content must not be an empty list`);
  return content.map((part: unknown, j) => {
    const p = `${at}.content[${j}]`;
    if (!isObject(part)) throw invalid(p, `${p} must be an object (got ${describeType(part)})`);
    if (part.type !== 'text') {
      if (typeof part.type === 'string' && /^[a-z_]{1,32}$/.test(part.type)) throw unsupported(`${p}.type`, `${p}.type ${part.type} is not supported: only text parts are`);
      throw invalid(`${p}.type`, `${p}.type must be "text"`);
    }
    if (typeof part.text !== 'string') throw invalid(`${p}.text`, `${p}.text must be a string`);
    for (const key of Object.keys(part)) if (key !== 'type' && key !== 'text') throw unsupported(`${p}.${argumentName(key)}`, `Unrecognized argument ${p}.${argumentName(key)}`);
    return part.text;
  }).join('\n');
}
